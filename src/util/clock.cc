#include "mdfs/clock.h"

#include <time.h>

namespace mdfs {
namespace {

int64_t ReadClockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class RealClock : public Clock {
 public:
  int64_t NowRealtimeNs() override { return ReadClockNs(CLOCK_REALTIME); }
  int64_t NowMonotonicNs() override { return ReadClockNs(CLOCK_MONOTONIC); }
};

}  // namespace

Clock* SystemClock() {
  static RealClock clock;
  return &clock;
}

}  // namespace mdfs
