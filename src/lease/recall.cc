// The BlockMapListener side: a breaker registers its ranges, the layouts and
// pins in them are recalled / drained, expired layouts are revoked.
#include <algorithm>
#include <chrono>

#include "lease/lease_manager.h"
#include "lease/leases.h"

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
  InodeLeases& leases = by_inode_[range.ino];
  leases.breakers.insert(id);
  bool must_wait = false;
  for (LayoutId layout_id : leases.layouts) {
    Layout& layout = layouts_.at(layout_id);
    if (!layout.range.Overlaps(range.ino, range.begin, range.end)) continue;
    must_wait = true;
    if (layout.state == LayoutState::kGranted) {
      layout.state = LayoutState::kRecalling;
      layout.recall_ns = Now();
      ++counters_.recalled;
    }
  }
  for (PinId pin_id : leases.pins) {
    if (pins_.at(pin_id).Overlaps(range.ino, range.begin, range.end)) must_wait = true;
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

template <typename Predicate>
LayoutId LeaseManagerImpl::FirstOverlappingLayoutLocked(const Breaker& breaker,
                                                        Predicate predicate) const {
  for (InodeNumber ino : InodesOf(breaker)) {
    auto bucket = by_inode_.find(ino);
    if (bucket == by_inode_.end()) continue;
    for (LayoutId id : bucket->second.layouts) {
      const Layout& layout = layouts_.at(id);
      if (breaker.Overlaps(layout.range) && predicate(layout)) return id;
    }
  }
  return 0;
}

size_t LeaseManagerImpl::CountOverlappingLayoutsLocked(const Breaker& breaker) const {
  size_t count = 0;
  FirstOverlappingLayoutLocked(breaker, [&](const Layout&) {
    ++count;
    return false;
  });
  return count;
}

bool LeaseManagerImpl::BreakerConflictsLocked(const Breaker& breaker) const {
  for (const FileRange& r : breaker.ranges) {
    if (InFlightOverlapsLocked(r)) return true;
  }
  const bool layout_held =
      FirstOverlappingLayoutLocked(breaker, [](const Layout&) { return true; });
  return layout_held || OverlappingPinsLocked(breaker) > 0;
}

void LeaseManagerImpl::DeliverRecalls(std::unique_lock<std::mutex>& lock, const Breaker& breaker) {
  for (;;) {
    // One at a time: the map may change while a callback runs.
    const LayoutId pending = FirstOverlappingLayoutLocked(breaker, [](const Layout& layout) {
      return layout.state == LayoutState::kRecalling && !layout.recall_delivered;
    });
    if (pending == 0) return;
    Layout& layout = layouts_.at(pending);
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
                                           const Breaker& breaker, const void* self) {
  const int64_t break_ns = static_cast<int64_t>(break_time_ms_) * 1'000'000;
  for (;;) {
    const int64_t now = Now();
    const LayoutId id = FirstOverlappingLayoutLocked(breaker, [&](const Layout& layout) {
      if (layout.state != LayoutState::kRecalling) return false;
      bool expired = break_ns > 0 && now - layout.recall_ns >= break_ns;
      bool own = self != nullptr && layout.holder->owner() == self && layout.recall_delivered;
      // A teardown or OnRecall of this layout still running on another
      // thread is waited for, even past the deadline: the device may still
      // reach the range, and OnRevoke must not overtake OnRecall.
      return (expired || own) && !CallbackRunningElsewhereLocked(layout.id, nullptr);
    });
    if (id == 0) return;
    Notice notice = RemoveLocked(id, LayoutState::kRevoked);
    ++counters_.revoked;
    Deliver(lock, id, std::move(notice), &LayoutHolder::OnRevoke);
  }
}

Status LeaseManagerImpl::ConflictStatus(const Breaker& breaker) const {
  size_t running = 0;
  const size_t layouts = CountOverlappingLayoutsLocked(breaker);
  const size_t pins = OverlappingPinsLocked(breaker);
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
  auto it = breakers_.find(id);
  if (it != breakers_.end()) {
    UnindexBreakerLocked(id, it->second);
    breakers_.erase(it);
  }
  changed_.notify_all();
}

}  // namespace mdfs
