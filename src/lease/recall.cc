// The BlockMapListener side: a breaker registers its ranges, the layouts and
// pins in them are recalled / drained, expired layouts are revoked.
#include <algorithm>
#include <chrono>

#include "lease/lease_manager.h"

namespace mdfs {

namespace {
// How long a waiting breaker sleeps before looking at the clock again (a
// test clock does not wake anyone).
constexpr auto kWaitSlice = std::chrono::milliseconds(2);
}  // namespace

Result<BreakTicket> LeaseManagerImpl::BeginBlockMapChange(const BlockMapChange& change,
                                                          uint64_t id) {
  std::unique_lock lock(mu_);
  if (change.kind == BlockMapChangeKind::kUnseal) {
    auto it = sealed_mappings_.find(change.ino);
    if (it != sealed_mappings_.end() && it->second > 0) {
      return TextFileBusy("inode " + std::to_string(change.ino) + " has " +
                          std::to_string(it->second) +
                          " lease-free mapping(s) taken while sealed; unmap them before unsealing");
    }
    return BreakTicket{id, false};
  }
  if (id == 0 || breakers_.find(id) == breakers_.end()) {
    id = next_id_++;
    breakers_[id].thread = std::this_thread::get_id();
  }
  Breaker& breaker = breakers_[id];
  FileRange range{change.ino, change.offset, change.end()};
  breaker.ranges.push_back(range);
  bool must_wait = false;
  for (auto& [layout_id, layout] : layouts_) {
    if (!layout.range.Overlaps(range.ino, range.begin, range.end)) continue;
    must_wait = true;
    if (layout.state == LayoutState::kGranted) {
      layout.state = LayoutState::kRecalling;
      layout.recall_ns = Now();
      ++counters_.recalled;
    }
  }
  for (const auto& [pin_id, pinned] : pins_) {
    if (pinned.Overlaps(range.ino, range.begin, range.end)) must_wait = true;
  }
  if (InFlightOverlapsLocked(range)) must_wait = true;
  return BreakTicket{id, must_wait};
}

bool LeaseManagerImpl::InFlightOverlapsLocked(const FileRange& range) const {
  const std::thread::id me = std::this_thread::get_id();
  for (const auto& [id, flying] : in_flight_) {
    if (flying.thread != me && flying.range.Overlaps(range.ino, range.begin, range.end)) {
      return true;
    }
  }
  return false;
}

bool LeaseManagerImpl::BreakerConflictsLocked(const Breaker& breaker) const {
  for (const FileRange& r : breaker.ranges) {
    if (InFlightOverlapsLocked(r)) return true;
  }
  for (const auto& [id, layout] : layouts_) {
    if (breaker.Overlaps(layout.range)) return true;
  }
  for (const auto& [id, pinned] : pins_) {
    if (breaker.Overlaps(pinned)) return true;
  }
  return false;
}

void LeaseManagerImpl::DeliverRecalls(std::unique_lock<std::mutex>& lock, const Breaker& breaker) {
  for (;;) {
    // One at a time: the map may change while a callback runs.
    auto pending = std::find_if(layouts_.begin(), layouts_.end(), [&](auto& entry) {
      const Layout& layout = entry.second;
      return layout.state == LayoutState::kRecalling && !layout.recall_delivered &&
             breaker.Overlaps(layout.range);
    });
    if (pending == layouts_.end()) return;
    Layout& layout = pending->second;
    layout.recall_delivered = true;
    Notice notice{layout.holder, InfoLocked(layout), {}};
    // Registrations go first, newest first, and are forgotten: the device
    // must not reach the range once the holder starts giving it back.
    notice.teardown.assign(layout.registrars.rbegin(), layout.registrars.rend());
    layout.registrars.clear();
    Deliver(lock, layout.id, std::move(notice), &LayoutHolder::OnRecall);
  }
}

void LeaseManagerImpl::RevokeExpiredOrSelf(std::unique_lock<std::mutex>& lock,
                                           const Breaker& breaker, const LayoutHolder* self) {
  const int64_t break_ns = static_cast<int64_t>(break_time_ms_) * 1'000'000;
  for (;;) {
    int64_t now = Now();
    auto victim = std::find_if(layouts_.begin(), layouts_.end(), [&](auto& entry) {
      const Layout& layout = entry.second;
      if (layout.state != LayoutState::kRecalling) return false;
      bool overlaps = breaker.Overlaps(layout.range);
      bool expired = break_ns > 0 && now - layout.recall_ns >= break_ns;
      bool own = self != nullptr && layout.holder == self && layout.recall_delivered;
      // A teardown or OnRecall of this layout still running on another
      // thread is waited for, even past the deadline: the device may still
      // reach the range, and OnRevoke must not overtake OnRecall.
      return overlaps && (expired || own) && !CallbackRunningElsewhereLocked(layout.id, nullptr);
    });
    if (victim == layouts_.end()) return;
    LayoutId id = victim->first;
    Notice notice = RemoveLocked(id, LayoutState::kRevoked);
    ++counters_.revoked;
    Deliver(lock, id, std::move(notice), &LayoutHolder::OnRevoke);
  }
}

Status LeaseManagerImpl::ConflictStatus(const Breaker& breaker) const {
  size_t layouts = 0, pins = 0, running = 0;
  for (const auto& [id, layout] : layouts_) layouts += breaker.Overlaps(layout.range);
  for (const auto& [id, pinned] : pins_) pins += breaker.Overlaps(pinned);
  const std::thread::id me = std::this_thread::get_id();
  for (const auto& [id, flying] : in_flight_) {
    running += flying.thread != me && breaker.Overlaps(flying.range);
  }
  return WouldBlock("recall started: " + std::to_string(layouts) + " layout(s) not yet released, " +
                    std::to_string(pins) + " pin(s) held, " + std::to_string(running) +
                    " registration teardown(s) or holder callback(s) still running on inode " +
                    std::to_string(breaker.ranges.front().ino));
}

void LeaseManagerImpl::WaitSlice(std::unique_lock<std::mutex>& lock) {
  changed_.wait_for(lock, kWaitSlice);
}

Status LeaseManagerImpl::WaitForBreak(uint64_t id) {
  const BreakOptions options = BreakScope::Current();
  std::unique_lock lock(mu_);
  bool counted = false;
  for (;;) {
    auto it = breakers_.find(id);
    if (it == breakers_.end()) return Status::Ok();
    // Copied: callbacks run without mu_ and the registration may grow.
    Breaker breaker = it->second;
    DeliverRecalls(lock, breaker);
    RevokeExpiredOrSelf(lock, breaker, options.self);
    if (!BreakerConflictsLocked(breaker)) return Status::Ok();
    if (options.nonblocking) return ConflictStatus(breaker);
    if (!counted) ++counters_.breaks_waited;
    counted = true;
    WaitSlice(lock);
  }
}

void LeaseManagerImpl::EndBlockMapChange(uint64_t id) {
  std::lock_guard lock(mu_);
  breakers_.erase(id);
  changed_.notify_all();
}

}  // namespace mdfs
