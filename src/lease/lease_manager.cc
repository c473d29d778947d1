// Grant, release, listing; attaching to and detaching from a file system.
#include "lease/lease_manager.h"
#include "lease/leases.h"

#include <algorithm>

namespace mdfs {

Result<std::unique_ptr<LeaseManager>> LeaseManager::Attach(FileSystem* fs,
                                                           const LeaseOptions& options) {
  BlockMapGate* gate = GateOf(fs);
  if (gate == nullptr) return InvalidArgument("layout leases need an mdfs engine");
  if (gate->block_map_listener() != nullptr) {
    return Exists("the file system already has a lease manager attached (one per file system)");
  }
  MDFS_ASSIGN_OR_RETURN(FileSystemStats stats, fs->StatFs());
  Clock* clock = options.clock != nullptr ? options.clock : SystemClock();
  uint64_t break_time = options.lease_break_time_ms.value_or(stats.lease_break_time_ms);
  auto manager = std::make_unique<LeaseManagerImpl>(fs, clock, break_time);
  gate->SetBlockMapListener(manager.get());
  return std::unique_ptr<LeaseManager>(std::move(manager));
}

LeaseManagerImpl::LeaseManagerImpl(FileSystem* fs, Clock* clock, uint64_t lease_break_time_ms)
    : fs_(fs), clock_(clock), break_time_ms_(lease_break_time_ms) {}

LeaseManagerImpl::~LeaseManagerImpl() {
  GateOf(fs_)->SetBlockMapListener(nullptr);
  std::unique_lock lock(mu_);
  // Deliveries still running on other threads finish first (they use *this).
  changed_.wait(lock, [&] { return in_flight_.empty(); });
  while (!layouts_.empty()) {
    LayoutId id = layouts_.begin()->first;
    Notice notice = RemoveLocked(id, LayoutState::kRevoked);
    ++counters_.revoked;
    Deliver(lock, id, std::move(notice), &LayoutHolder::OnRevoke);
  }
}

LayoutInfo LeaseManagerImpl::InfoLocked(const Layout& layout) const {
  LayoutInfo info;
  info.id = layout.id;
  info.holder = layout.holder->Describe();
  info.ino = layout.range.ino;
  info.offset = layout.range.begin;
  info.length = layout.range.end - layout.range.begin;
  info.mode = layout.mode;
  info.state = layout.state;
  int64_t now = Now();
  info.age_ns = now - layout.granted_ns;
  info.recalling_for_ns = layout.state == LayoutState::kRecalling ? now - layout.recall_ns : 0;
  info.long_term_pins = static_cast<uint32_t>(layout.registrars.size());
  return info;
}

// ------------------------------------------------------------ the index

void LeaseManagerImpl::IndexLayoutLocked(const Layout& layout) {
  by_inode_[layout.range.ino].layouts.insert(layout.id);
}

void LeaseManagerImpl::UnindexLayoutLocked(const Layout& layout) {
  by_inode_[layout.range.ino].layouts.erase(layout.id);
  DropEmptyBucketLocked(layout.range.ino);
}

void LeaseManagerImpl::IndexPinLocked(PinId id, InodeNumber ino) { by_inode_[ino].pins.insert(id); }

void LeaseManagerImpl::UnindexPinLocked(PinId id, InodeNumber ino) {
  by_inode_[ino].pins.erase(id);
  DropEmptyBucketLocked(ino);
}

void LeaseManagerImpl::UnindexBreakerLocked(uint64_t id, const Breaker& breaker) {
  for (InodeNumber ino : InodesOf(breaker)) {
    by_inode_[ino].breakers.erase(id);
    DropEmptyBucketLocked(ino);
  }
}

void LeaseManagerImpl::DropEmptyBucketLocked(InodeNumber ino) {
  auto it = by_inode_.find(ino);
  if (it != by_inode_.end() && it->second.empty()) by_inode_.erase(it);
}

std::vector<InodeNumber> LeaseManagerImpl::InodesOf(const Breaker& breaker) {
  std::vector<InodeNumber> inodes;
  for (const FileRange& r : breaker.ranges) {
    if (std::find(inodes.begin(), inodes.end(), r.ino) == inodes.end()) inodes.push_back(r.ino);
  }
  return inodes;
}

size_t LeaseManagerImpl::OverlappingPinsLocked(const Breaker& breaker) const {
  size_t count = 0;
  for (InodeNumber ino : InodesOf(breaker)) {
    auto bucket = by_inode_.find(ino);
    if (bucket == by_inode_.end()) continue;
    for (PinId id : bucket->second.pins) count += breaker.Overlaps(pins_.at(id));
  }
  return count;
}

bool LeaseManagerImpl::BreakerHoldsLocked(InodeNumber ino, uint64_t begin, uint64_t end) const {
  auto bucket = by_inode_.find(ino);
  if (bucket == by_inode_.end()) return false;
  const std::thread::id me = std::this_thread::get_id();
  for (uint64_t id : bucket->second.breakers) {
    const Breaker& breaker = breakers_.at(id);
    if (breaker.thread == me) continue;  // the caller's own operation
    for (const FileRange& r : breaker.ranges) {
      if (r.Overlaps(ino, begin, end)) return true;
    }
  }
  return false;
}

Result<LayoutId> LeaseManagerImpl::GrantLocked(LayoutHolder* holder, InodeNumber ino,
                                               uint64_t offset, uint64_t length, LayoutMode mode) {
  if (holder == nullptr) return InvalidArgument("a layout needs a holder");
  if (length == 0 || offset + length < offset) {
    return InvalidArgument("layout range [" + std::to_string(offset) + ", +" +
                           std::to_string(length) + ") is empty or overflows");
  }
  if (mode != LayoutMode::kRead && mode != LayoutMode::kReadWrite) {
    return InvalidArgument("unknown layout mode " + std::to_string(static_cast<int>(mode)));
  }
  std::unique_lock lock(mu_);
  if (BreakerHoldsLocked(ino, offset, offset + length)) {
    return WouldBlock("inode " + std::to_string(ino) + ": a block-map change holds the range");
  }
  Layout layout;
  layout.id = next_id_++;
  layout.holder = holder;
  layout.range = FileRange{ino, offset, offset + length};
  layout.mode = mode;
  layout.granted_ns = Now();
  ++counters_.granted;
  const LayoutId id = layout.id;
  IndexLayoutLocked(layout);
  layouts_.emplace(id, std::move(layout));
  return id;
}

Status LeaseManagerImpl::WaitForRange(InodeNumber ino, uint64_t offset, uint64_t length) {
  const bool nonblocking = BreakScope::Current().nonblocking;
  std::unique_lock lock(mu_);
  while (BreakerHoldsLocked(ino, offset, offset + length)) {
    if (nonblocking) {
      return WouldBlock("inode " + std::to_string(ino) + ": a block-map change holds the range");
    }
    changed_.wait(lock);
  }
  return Status::Ok();
}

LeaseManagerImpl::Notice LeaseManagerImpl::RemoveLocked(LayoutId id, LayoutState final_state) {
  auto it = layouts_.find(id);
  Layout& layout = it->second;
  layout.state = final_state;
  Notice notice{layout.holder, InfoLocked(layout), {}};
  notice.teardown.assign(layout.registrars.rbegin(), layout.registrars.rend());
  UnindexLayoutLocked(layout);
  layouts_.erase(it);
  changed_.notify_all();
  return notice;
}

void LeaseManagerImpl::Deliver(std::unique_lock<std::mutex>& lock, LayoutId id, Notice notice,
                               void (LayoutHolder::*callback)(const LayoutInfo&)) {
  const LayoutInfo& info = notice.info;
  auto entry =
      in_flight_.emplace(id, InFlight{std::this_thread::get_id(), notice.holder,
                                      FileRange{info.ino, info.offset, info.offset + info.length}});
  lock.unlock();
  for (LongTermRegistrar* registrar : notice.teardown) registrar->TearDown();
  if (callback != nullptr) (notice.holder->*callback)(notice.info);
  lock.lock();
  in_flight_.erase(entry);  // only this delivery's entry
  changed_.notify_all();
}

bool LeaseManagerImpl::CallbackRunningElsewhereLocked(LayoutId id,
                                                      const LayoutHolder* holder) const {
  const std::thread::id me = std::this_thread::get_id();
  for (const auto& [flying, entry] : in_flight_) {
    bool ours = holder != nullptr ? entry.holder == holder : flying == id;
    if (ours && entry.thread != me) return true;
  }
  return false;
}

Status LeaseManagerImpl::Release(LayoutId id) {
  std::unique_lock lock(mu_);
  // A callback of this layout running on another thread finishes first:
  // the holder may be destroyed as soon as Release returns.
  changed_.wait(lock, [&] { return !CallbackRunningElsewhereLocked(id, nullptr); });
  if (layouts_.find(id) == layouts_.end()) {
    return NotFound("layout " + std::to_string(id) + " is not held (released or revoked)");
  }
  Notice notice = RemoveLocked(id, LayoutState::kReleased);
  ++counters_.released;
  if (!notice.teardown.empty()) Deliver(lock, id, std::move(notice), nullptr);
  return Status::Ok();
}

LayoutId LeaseManagerImpl::FirstLayoutOfLocked(const LayoutHolder* holder) const {
  for (const auto& [id, layout] : layouts_) {
    if (layout.holder == holder) return id;
  }
  return 0;
}

void LeaseManagerImpl::ReleaseHolder(const LayoutHolder* holder) {
  std::unique_lock lock(mu_);
  // One layout at a time, each time after the holder's deliveries on other
  // threads returned: a breaker may start one while a teardown here runs.
  for (;;) {
    changed_.wait(lock, [&] { return !CallbackRunningElsewhereLocked(0, holder); });
    LayoutId id = FirstLayoutOfLocked(holder);
    if (id == 0) return;
    Notice notice = RemoveLocked(id, LayoutState::kReleased);
    ++counters_.released;
    if (!notice.teardown.empty()) Deliver(lock, id, std::move(notice), nullptr);
  }
}

std::vector<LayoutInfo> LeaseManagerImpl::ListLayouts() {
  std::lock_guard lock(mu_);
  std::vector<LayoutInfo> result;
  result.reserve(layouts_.size());
  for (const auto& [id, layout] : layouts_) result.push_back(InfoLocked(layout));
  return result;
}

LeaseManager::Counters LeaseManagerImpl::counters() {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace mdfs
