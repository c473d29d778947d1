// The MAP_DIRECT race suite (tests/direct_race_test.cc; doc/testing.md,
// section 6): the shared state of one run and the thread bodies.
//   direct_race_writers.cc  A's writers: mappings, pins, io_uring, remote client
//   direct_race_slow_teardown.cc  A's long-term-pin writer with a slow teardown
//   direct_race_test.cc     A's breakers, B's workers, the run, the tests
#ifndef MDFS_TESTS_DIRECT_RACE_H_
#define MDFS_TESTS_DIRECT_RACE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "lease/leases.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"

namespace mdfs::test::race {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kDeviceBytes = 48 * kMiB;
constexpr uint64_t kMaxA = 8 * kMiB;  // A's ranges stay below this
constexpr uint64_t kMaxB = 4 * kMiB;  // each B file stays below this
constexpr int kBFiles = 2;

inline uint8_t ATag(uint64_t counter) { return static_cast<uint8_t>(0x80 | (counter & 0x7f)); }
inline uint8_t BTag(uint64_t counter) { return static_cast<uint8_t>(1 + counter % 127); }
// Every byte 0 or written for A; else false and the first bad index.
inline bool IsABytes(const uint8_t* p, size_t n, size_t* bad) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0 && p[i] < 0x80) {
      *bad = i;
      return false;
    }
  }
  return true;
}

// Faults on revoked mappings: SIGBUS/SIGSEGV inside a guarded access jump
// back to it (a thread-local target); anywhere else they print where and
// kill the process as before.
void InstallFaultHandlers();
// Copy with byte stores / loads; false if an access faulted.
bool GuardedStore(std::byte* dst, const uint8_t* src, size_t n);
bool GuardedLoad(uint8_t* dst, const std::byte* src, size_t n);

struct Counters {
  std::atomic<uint64_t> maps{0}, map_refusals{0}, map_stores{0}, map_loads{0}, map_persists{0};
  std::atomic<uint64_t> mappings_recalled{0}, mappings_revoked{0}, faults_on_revoked{0},
      faults_after_recall{0};
  std::atomic<uint64_t> pins{0}, pinned_writes{0};
  std::atomic<uint64_t> registrations{0}, registration_refusals{0}, uring_reads{0}, uring_writes{0},
      uring_cancelled{0}, uring_teardowns{0}, uring_refused_after{0}, uring_unregistered_by_user{0},
      uring_refused_mid_teardown{0};
  std::atomic<uint64_t> remote_recalled{0}, remote_grants{0}, remote_writes{0}, remote_released{0},
      remote_revoked{0}, remote_self_breaks{0};
  std::atomic<uint64_t> slow_grants{0}, slow_pinned{0}, slow_pin_refused{0}, slow_writes{0},
      slow_writes_draining{0}, slow_teardowns{0}, slow_teardown_us_max{0}, slow_recalled{0},
      slow_revoked{0}, slow_released{0}, slow_unregistered_by_user{0};
  std::atomic<uint64_t> truncates{0}, punches{0}, collapses{0}, zeroes{0}, inserts{0},
      breaker_refusals{0};
  std::atomic<uint64_t> b_writes{0}, b_truncates{0}, b_punches{0}, b_verifications{0},
      b_bytes_verified{0}, b_blocks_once_a{0}, no_space{0}, b_mismatches{0}, a_bytes_in_b{0};
  std::atomic<uint64_t> extent_checks{0};
};

class Failures {
 public:
  explicit Failures(std::string watched) : watched_(std::move(watched)) {}
  void Add(const std::string& what) {
    std::lock_guard lock(mu_);
    ++count_;
    if (!watched_.empty() && what.rfind(watched_, 0) == 0) watched_seen_ = true;
    if (list_.size() < 20) list_.push_back(what);
  }
  // A failure whose text starts with the watched prefix was added.
  bool watched_seen() const {
    std::lock_guard lock(mu_);
    return watched_seen_;
  }
  uint64_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::string Dump() const {
    std::lock_guard lock(mu_);
    std::string text;
    for (const std::string& s : list_) text += "  " + s + "\n";
    return text;
  }

 private:
  mutable std::mutex mu_;
  const std::string watched_;
  bool watched_seen_ = false;
  uint64_t count_ = 0;
  std::vector<std::string> list_;
};

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : engine_() % n; }
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }  // inclusive
  bool OneIn(uint64_t n) { return Below(n) == 0; }

 private:
  std::mt19937_64 engine_;
};

// True when every block of `recorded` inside [begin, end) is still mapped
// to the same device bytes by `now`; else false and `why`.
bool StillMapped(const std::vector<ExtentInfo>& recorded, const std::vector<ExtentInfo>& now,
                 uint64_t begin, uint64_t end, std::string* why);

struct Knobs {
  uint64_t seconds = 5;
  uint64_t break_ms = 30;
  uint64_t seed = 1;
  bool unpinned_dma = false;        // harness self-tests: pin writers skip the pin
  bool pin_ownership_check = true;  // ... and, in the second one, oracle 3
  std::string stop_on;              // self-tests: stop at the first failure starting with this
};

class Race {
 public:
  Race(FileSystem* fs, LeaseManager* leases, Device* device, InodeNumber a, const Knobs& knobs)
      : fs_(fs),
        leases_(leases),
        device_(device),
        a_(a),
        knobs_(knobs),
        once_a_(device->size_bytes() / kBlockSize),
        failures(knobs.stop_on) {}

  Counters counters;
  std::atomic<bool> stop{false};

  void MapWriter(int id, bool stubborn);
  void PinWriter(int id);
  void WriteExtents(const std::vector<ExtentInfo>& extents, uint64_t offset, uint64_t length,
                    std::vector<uint8_t>& bytes);
  void UringWriter(int id);
  void RemoteClient(int id);
  void SlowTeardownWriter(int id);
  // Grants `holder` an RW layout on A's [offset, +length) through
  // PrepareDirectAccess (allocating), retrying behind breakers; false (and
  // counted) when A's device is full or something unexpected failed.
  bool GrantLayout(const char* who, LayoutHolder& holder, uint64_t offset, uint64_t length,
                   LayoutId* layout, std::vector<ExtentInfo>* extents);
  void Breaker(int id);
  void BWorker(int id, InodeNumber b);

  void MarkA(const std::vector<ExtentInfo>& extents) {
    for (const ExtentInfo& e : extents) {
      for (uint64_t at = 0; at < e.length; at += kBlockSize) {
        const uint64_t block = (e.device_offset + at) / kBlockSize;
        if (block < once_a_.size()) once_a_[block].store(1, std::memory_order_relaxed);
      }
    }
  }
  bool WasA(uint64_t device_offset) const {
    const uint64_t block = device_offset / kBlockSize;
    return block < once_a_.size() && once_a_[block].load(std::memory_order_relaxed) != 0;
  }

  // Oracle 3: the file still maps `recorded` in [begin, end).
  // Returns false (and records a failure naming `context()`) if not.
  bool CheckStillMapped(const char* who, const std::vector<ExtentInfo>& recorded, uint64_t begin,
                        uint64_t end, const std::function<std::string()>& context = nullptr) {
    auto now = fs_->GetExtents(a_, begin, end - begin);
    counters.extent_checks.fetch_add(1, std::memory_order_relaxed);
    std::string why;
    if (!now.ok()) {
      failures.Add(std::string(who) + ": GetExtents failed: " + now.status().ToString());
    } else if (!StillMapped(recorded, *now, begin, end, &why)) {
      failures.Add(std::string(who) + ": blocks of a live grant of A moved or were freed: " + why +
                   " (range [" + std::to_string(begin) + ", " + std::to_string(end) + "))" +
                   (context ? "; " + context() : std::string()));
      return false;
    }
    return true;
  }

  // "layout 12 recalling" / "layout 12 gone (released or revoked)".
  std::string LayoutStateOf(LayoutId id) {
    for (const LayoutInfo& info : leases_->ListLayouts()) {
      if (info.id == id) {
        return "layout " + std::to_string(id) + " " + LayoutStateName(info.state) +
               (info.state == LayoutState::kRecalling
                    ? " for " + std::to_string(info.recalling_for_ns / 1'000'000) + " ms"
                    : std::string());
      }
    }
    return "layout " + std::to_string(id) + " gone from the lease manager (released or revoked)";
  }

  // A "DMA" write of the test's writers. Two of them may write the same
  // block of A at once (a pin and the remote client's layout both allow
  // it); the mutex orders them so that ThreadSanitizer reports only races
  // with the engine's own device accesses — a writer reaching blocks the
  // engine reuses.
  Status DmaWrite(uint64_t device_offset, std::span<const std::byte> bytes) {
    std::lock_guard lock(dma_mu_);
    return device_->Write(device_offset, bytes);
  }

  void UnexpectedStatus(const char* who, const Status& status) {
    failures.Add(std::string(who) + ": unexpected " + status.ToString());
  }

 private:
  FileSystem* const fs_;
  LeaseManager* const leases_;
  Device* const device_;
  const InodeNumber a_;
  const Knobs knobs_;
  std::vector<std::atomic<uint8_t>> once_a_;  // device blocks ever seen in A
  std::mutex dma_mu_;

 public:
  Failures failures;
};

}  // namespace mdfs::test::race

#endif  // MDFS_TESTS_DIRECT_RACE_H_
