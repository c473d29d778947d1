// A's long-term-pin writer whose teardown is slow and variable (issue 14):
// a "DMA engine" registered on a layout of A keeps writing A's blocks while
// its TearDown drains the queue — for nothing, a few microseconds, or up to
// three lease_break_times, sleeping or yielding — and stops reaching the
// range only when TearDown returns. Oracles: every write it makes, draining
// or not, lands in blocks A still maps (oracle 3, checked between the two
// halves of each write), B never sees its bytes (oracle 1), its holder hears
// OnRecall / OnRevoke only after the teardown returned and never OnRecall
// after OnRevoke.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "direct_race.h"

namespace mdfs::test::race {
namespace {

// The registration: a device that may reach the layout's range while
// `active`. TearDown first stops new work (`draining`), lets the queue
// drain for a random while (the writer keeps writing meanwhile: work
// requests already posted), then waits for the write in flight and turns
// the device off.
class SlowRegistration : public LongTermRegistrar {
 public:
  SlowRegistration(Counters* counters, uint64_t seed, uint64_t break_ms)
      : counters_(counters), random_(seed), break_ms_(break_ms) {}
  bool CanTearDown() const override { return true; }
  void TearDown() override {
    const auto start = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      teardown_started_ = true;
      if (!active_) return;  // never switched on, or unregistered by the writer
      draining_ = true;
    }
    Drain();
    {
      std::unique_lock io_lock(io);  // the write in flight completes
      std::lock_guard lock(mu_);
      active_ = false;
    }
    const uint64_t us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::steady_clock::now() - start)
                                                  .count());
    counters_->slow_teardowns.fetch_add(1);
    uint64_t seen = counters_->slow_teardown_us_max.load();
    while (us > seen && !counters_->slow_teardown_us_max.compare_exchange_weak(seen, us)) {
    }
  }
  std::string Describe() const override { return "race slow-teardown DMA registration"; }

  // The writer's side: true if the device may write now (then `draining`
  // says whether the teardown has begun). Call with `io` held shared.
  bool Active(bool* draining) {
    std::lock_guard lock(mu_);
    *draining = draining_;
    return active_;
  }
  bool active() {
    std::lock_guard lock(mu_);
    return active_;
  }
  // The device is switched on after the lease manager knows the pin (as
  // the io_uring registrar registers with the kernel after AddLongTermPin);
  // false if a teardown already began.
  bool Activate() {
    std::lock_guard lock(mu_);
    if (teardown_started_) return false;
    active_ = true;
    return true;
  }
  // The writer unregisters it itself (before telling the lease manager);
  // false if a teardown already began.
  bool DeactivateByUser() {
    std::unique_lock io_lock(io);
    std::lock_guard lock(mu_);
    if (teardown_started_ || !active_) return false;
    active_ = false;
    return true;
  }

  std::shared_mutex io;  // shared: a device write in flight

 private:
  // Nothing, a few microseconds, or up to 3 x lease_break_time, sleeping
  // or yielding (descheduled either way).
  void Drain() {
    const uint64_t kind = random_.Below(4);
    if (kind == 0) return;
    const uint64_t us = kind == 1 ? random_.Below(50) : random_.Below(3 * break_ms_ * 1000 + 1);
    if (kind == 3) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
      while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(us));
    }
  }

  Counters* const counters_;
  Random random_;  // only TearDown uses it, and it runs at most once
  const uint64_t break_ms_;
  std::mutex mu_;
  bool active_ = false;            // guarded by mu_
  bool draining_ = false;          // guarded by mu_
  bool teardown_started_ = false;  // guarded by mu_
};

class SlowHolder : public LayoutHolder {
 public:
  SlowHolder(int id, SlowRegistration* registration, Failures* failures)
      : id_(id), registration_(registration), failures_(failures) {}
  void OnRecall(const LayoutInfo& layout) override {
    if (registration_->active()) {
      failures_->Add("slow-teardown holder: OnRecall of layout " + std::to_string(layout.id) +
                     " while its registration was still active (not torn down first)");
    }
    if (revoked) {
      failures_->Add("slow-teardown holder: OnRecall of layout " + std::to_string(layout.id) +
                     " after its OnRevoke");
    }
    recalled = true;
  }
  void OnRevoke(const LayoutInfo& layout) override {
    if (registration_->active()) {
      failures_->Add("slow-teardown holder: OnRevoke of layout " + std::to_string(layout.id) +
                     " while its registration was still active (teardown still running)");
    }
    revoked = true;
  }
  std::string Describe() const override {
    return "race slow-teardown writer " + std::to_string(id_);
  }

  std::atomic<bool> recalled{false}, revoked{false};

 private:
  const int id_;
  SlowRegistration* const registration_;
  Failures* const failures_;
};

}  // namespace

void Race::SlowTeardownWriter(int id) {
  Random random(knobs_.seed * 1000 + 500 + id);
  uint64_t counter = 0;
  std::vector<uint8_t> bytes(128 * kKiB);
  while (!stop.load()) {
    SlowRegistration registration(&counters, random.Below(UINT64_MAX), knobs_.break_ms);
    SlowHolder holder(id, &registration, &failures);
    const uint64_t length = 64 * kKiB * random.Between(1, 8);
    const uint64_t offset = kBlockSize * random.Below((kMaxA - length) / kBlockSize);
    LayoutId layout = 0;
    std::vector<ExtentInfo> extents;
    if (!GrantLayout("slow-teardown writer", holder, offset, length, &layout, &extents)) continue;
    counters.slow_grants.fetch_add(1);
    MarkA(extents);
    Status pinned = leases_->AddLongTermPin(layout, &registration);
    if (!pinned.ok()) {
      // Recalled between the grant and the pin: a registration needs a
      // granted layout (kNotFound, never would-block).
      if (pinned.code() != Code::kNotFound) {
        UnexpectedStatus("slow-teardown AddLongTermPin", pinned);
      }
      counters.slow_pin_refused.fetch_add(1);
    } else {
      counters.slow_pinned.fetch_add(1);
      registration.Activate();  // false: a recall tore it down already
    }
    // Write until recalled (and then hold the layout up to twice the break
    // time, sometimes long enough to be revoked) or a number of rounds.
    const auto patience = std::chrono::milliseconds(random.Below(2 * knobs_.break_ms + 1));
    std::chrono::steady_clock::time_point recalled_at{};
    const uint64_t rounds = random.Between(1, 200);
    bool reported = false;  // one failure per grant
    for (uint64_t round = 0; !stop.load(); ++round) {
      if (holder.recalled || holder.revoked) {
        if (recalled_at == std::chrono::steady_clock::time_point{}) {
          recalled_at = std::chrono::steady_clock::now();
        }
        if (holder.revoked || std::chrono::steady_clock::now() - recalled_at >= patience) break;
      } else if (round >= rounds) {
        break;
      }
      {
        std::shared_lock io(registration.io);
        bool draining = false;
        if (registration.Active(&draining)) {
          const ExtentInfo& e = extents[random.Below(extents.size())];
          const uint64_t begin = std::max(e.file_offset, offset);
          const uint64_t end = std::min(e.file_offset + e.length, offset + length);
          const uint64_t n = std::min<uint64_t>(end - begin, bytes.size());
          std::fill_n(bytes.begin(), n, ATag(++counter));
          const uint64_t device_at = e.device_offset + (begin - e.file_offset);
          Status written = DmaWrite(
              device_at, std::span(reinterpret_cast<const std::byte*>(bytes.data()), n / 2));
          if (written.ok() && !reported) {
            reported =
                !CheckStillMapped("slow-teardown writer", extents, offset, offset + length, [&] {
                  return LayoutStateOf(layout) + (draining ? "; the registration was draining"
                                                           : "; the registration was active");
                });
            written = DmaWrite(
                device_at + n / 2,
                std::span(reinterpret_cast<const std::byte*>(bytes.data()) + n / 2, n - n / 2));
          }
          if (!written.ok()) UnexpectedStatus("slow-teardown device Write", written);
          counters.slow_writes.fetch_add(1, std::memory_order_relaxed);
          if (draining) counters.slow_writes_draining.fetch_add(1, std::memory_order_relaxed);
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(random.Below(300)));
    }
    // Done: unregister (unless a teardown began), then give the layout back.
    if (pinned.ok() && registration.DeactivateByUser()) {
      Status removed = leases_->RemoveLongTermPin(layout, &registration);
      if (removed.ok()) {
        counters.slow_unregistered_by_user.fetch_add(1);
      } else if (removed.code() != Code::kNotFound) {  // recalled or revoked meanwhile
        UnexpectedStatus("slow-teardown RemoveLongTermPin", removed);
      }
    }
    Status released = leases_->Release(layout);
    if (released.ok()) {
      counters.slow_released.fetch_add(1);
    } else if (released.code() != Code::kNotFound) {  // revoked meanwhile
      UnexpectedStatus("slow-teardown Release", released);
    }
    // Waits for a teardown or callback of ours still running on a breaker's
    // thread: after it, `registration` and `holder` may go.
    leases_->ReleaseHolder(&holder);
    if (registration.active()) {
      failures.Add("slow-teardown writer: its registration is still active after ReleaseHolder");
    }
    if (holder.recalled) counters.slow_recalled.fetch_add(1);
    if (holder.revoked) counters.slow_revoked.fetch_add(1);
  }
}

}  // namespace mdfs::test::race
