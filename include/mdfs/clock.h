// Time behind an interface so tests can move it (lease expiry, timestamps).
#ifndef MDFS_INCLUDE_MDFS_CLOCK_H_
#define MDFS_INCLUDE_MDFS_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace mdfs {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in nanoseconds since the Unix epoch (file timestamps).
  virtual int64_t NowRealtimeNs() = 0;
  // Monotonic nanoseconds (timeouts, lease break time).
  virtual int64_t NowMonotonicNs() = 0;
};

// The process's real clocks (CLOCK_REALTIME, CLOCK_MONOTONIC). Never null.
Clock* SystemClock();

// A clock that moves only when told. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ns = 1'700'000'000'000'000'000) : now_ns_(start_ns) {}
  int64_t NowRealtimeNs() override { return now_ns_.load(); }
  int64_t NowMonotonicNs() override { return now_ns_.load(); }
  void AdvanceNs(int64_t delta_ns) { now_ns_.fetch_add(delta_ns); }

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_CLOCK_H_
