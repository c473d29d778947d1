// LeaseManagerImpl: layouts, recalls, pins and long-term registrations of
// one file system (include/mdfs/lease.h; states and invariants in
// doc/leases.md). The invariants this state keeps, all under mu_:
//   - layouts_ holds granted and recalling layouts only; a recalling one
//     never becomes granted again, and gets at most one OnRecall
//     (recall_delivered) and at most one OnRevoke (revocation erases it).
//   - A layout's registrars are torn down before its holder is told, each
//     once: DeliverRecalls and RemoveLocked take them out of the layout
//     before Deliver runs them.
//   - in_flight_ has an entry for every delivery running outside mu_; while
//     one overlaps a range, breakers of other threads do not pass it, and a
//     layout with one running elsewhere is not revoked (so OnRevoke comes
//     after OnRecall returned, and never during a teardown).
//   - Release/ReleaseHolder return only when no delivery of the layout /
//     holder runs on another thread.
//   - by_inode_ indexes exactly the layouts_, pins_ and breakers_ entries
//     (a breaker under every inode it has a range on), and holds no empty
//     bucket: a breaker's cost depends on the leases of the inodes it
//     changes, never on those of other files.
// Files:
//   lease_manager.cc   grant, release, listing, attach/detach
//   recall.cc          the BlockMapListener side: begin, wait, revoke, end
//   pins.cc            transient pins, long-term pins, sealed mappings
//   names.cc           names of modes and states; BreakScope
#ifndef MDFS_SRC_LEASE_LEASE_MANAGER_H_
#define MDFS_SRC_LEASE_LEASE_MANAGER_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lease/leases.h"
#include "mdfs/lease.h"
#include "util/thread_annotations.h"

namespace mdfs {

// A byte range of one file: [begin, end).
struct FileRange {
  InodeNumber ino = 0;
  uint64_t begin = 0;
  uint64_t end = 0;
  bool Overlaps(InodeNumber other_ino, uint64_t other_begin, uint64_t other_end) const {
    return ino == other_ino && begin < other_end && other_begin < end;
  }
};

class LeaseManagerImpl final : public LeaseManager, public BlockMapListener {
 public:
  LeaseManagerImpl(FileSystem* fs, Clock* clock, uint64_t lease_break_time_ms);
  ~LeaseManagerImpl() override;

  // LeaseManager
  Result<LayoutId> GrantLocked(LayoutHolder* holder, InodeNumber ino, uint64_t offset,
                               uint64_t length, LayoutMode mode) override;
  Status WaitForRange(InodeNumber ino, uint64_t offset, uint64_t length) override;
  Status Release(LayoutId id) override;
  void ReleaseHolder(const LayoutHolder* holder) override;
  Status AddSealedMapping(InodeNumber ino) override;
  void RemoveSealedMapping(InodeNumber ino) override;
  Result<PinId> Pin(InodeNumber ino, uint64_t offset, uint64_t length) override;
  Status Unpin(PinId id) override;
  Status AddLongTermPin(LayoutId layout, LongTermRegistrar* registrar) override;
  Status RemoveLongTermPin(LayoutId layout, LongTermRegistrar* registrar) override;
  std::vector<LayoutInfo> ListLayouts() override;
  uint64_t lease_break_time_ms() const override { return break_time_ms_; }
  Counters counters() override;

  // BlockMapListener
  Result<BreakTicket> BeginBlockMapChange(const BlockMapChange& change, uint64_t id) override;
  Status WaitForBreak(uint64_t id) override;
  void EndBlockMapChange(uint64_t id) override;

 private:
  struct Layout {
    LayoutId id = 0;
    LayoutHolder* holder = nullptr;
    FileRange range;
    LayoutMode mode = LayoutMode::kRead;
    LayoutState state = LayoutState::kGranted;
    int64_t granted_ns = 0;
    int64_t recall_ns = 0;
    bool recall_delivered = false;               // OnRecall claimed by a waiting breaker
    std::vector<LongTermRegistrar*> registrars;  // registration order
  };
  // A breaking operation's registration: the ranges it changes. While it
  // exists, new layouts and pins on those ranges wait.
  struct Breaker {
    std::vector<FileRange> ranges;
    std::thread::id thread;  // the breaking thread (its own grants pass)
    bool Overlaps(const FileRange& range) const {
      for (const FileRange& r : ranges) {
        if (r.Overlaps(range.ino, range.begin, range.end)) return true;
      }
      return false;
    }
  };
  // A callback about to run outside mu_.
  struct Notice {
    LayoutHolder* holder = nullptr;
    LayoutInfo info;
    std::vector<LongTermRegistrar*> teardown;  // newest first
  };

  int64_t Now() const { return clock_->NowMonotonicNs(); }
  LayoutInfo InfoLocked(const Layout& layout) const REQUIRES(mu_);
  bool BreakerHoldsLocked(InodeNumber ino, uint64_t begin, uint64_t end) const REQUIRES(mu_);
  bool BreakerConflictsLocked(const Breaker& breaker) const REQUIRES(mu_);
  // A callback of an overlapping layout runs on another thread.
  bool InFlightOverlapsLocked(const FileRange& range) const REQUIRES(mu_);
  // Removes a layout; returns what must run outside mu_ (teardowns).
  Notice RemoveLocked(LayoutId id, LayoutState final_state) REQUIRES(mu_);
  // Runs a notice's teardowns and `callback` outside mu_, marking the
  // layout's callbacks in flight so that Release from another thread waits.
  void Deliver(std::unique_lock<std::mutex>& lock, LayoutId id, Notice notice,
               void (LayoutHolder::*callback)(const LayoutInfo&));
  // The recall steps of WaitForBreak, each with mu_ held on entry and exit.
  void DeliverRecalls(std::unique_lock<std::mutex>& lock, const Breaker& breaker);
  void RevokeExpiredOrSelf(std::unique_lock<std::mutex>& lock, const Breaker& breaker,
                           const void* self);
  // Waits (cv) a slice, or to the next revocation deadline.
  void WaitSlice(std::unique_lock<std::mutex>& lock) REQUIRES(mu_);
  Status ConflictStatus(const Breaker& breaker) const REQUIRES(mu_);

  // Index maintenance (every insertion into / erasure from layouts_,
  // pins_ and breakers_ goes through these).
  void IndexLayoutLocked(const Layout& layout) REQUIRES(mu_);
  void UnindexLayoutLocked(const Layout& layout) REQUIRES(mu_);
  void IndexPinLocked(PinId id, InodeNumber ino) REQUIRES(mu_);
  void UnindexPinLocked(PinId id, InodeNumber ino) REQUIRES(mu_);
  void UnindexBreakerLocked(uint64_t id, const Breaker& breaker) REQUIRES(mu_);
  void DropEmptyBucketLocked(InodeNumber ino) REQUIRES(mu_);
  // The distinct inodes of a breaker's ranges.
  static std::vector<InodeNumber> InodesOf(const Breaker& breaker);
  // The first layout (by id, per inode of `breaker`) overlapping one of its
  // ranges for which predicate(const Layout&) is true; 0 if none.
  template <typename Predicate>
  LayoutId FirstOverlappingLayoutLocked(const Breaker& breaker, Predicate predicate) const
      REQUIRES(mu_);
  size_t CountOverlappingLayoutsLocked(const Breaker& breaker) const REQUIRES(mu_);
  size_t OverlappingPinsLocked(const Breaker& breaker) const REQUIRES(mu_);

  FileSystem* fs_;
  Clock* clock_;
  const uint64_t break_time_ms_;

  std::mutex mu_;
  std::condition_variable changed_;                     // a layout, pin or breaker went away
  std::map<LayoutId, Layout> layouts_ GUARDED_BY(mu_);  // granted or recalling
  std::unordered_map<uint64_t, Breaker> breakers_ GUARDED_BY(mu_);
  std::map<PinId, FileRange> pins_ GUARDED_BY(mu_);
  std::unordered_map<InodeNumber, uint32_t> sealed_mappings_ GUARDED_BY(mu_);
  // Per inode: the ids of its layouts, pins and registered breakers.
  struct InodeLeases {
    std::set<LayoutId> layouts;
    std::set<PinId> pins;
    std::set<uint64_t> breakers;
    bool empty() const { return layouts.empty() && pins.empty() && breakers.empty(); }
  };
  std::unordered_map<InodeNumber, InodeLeases> by_inode_ GUARDED_BY(mu_);
  // Callbacks running outside mu_: a layout's registrar teardowns and its
  // holder's OnRecall/OnRevoke (Deliver), one entry per running delivery —
  // several may run at once for one layout (a recall's teardown on one
  // breaker's thread, a Release's on another). Until an entry goes, its
  // range counts as held for every other thread (BreakerConflictsLocked),
  // the layout is not revoked (RevokeExpiredOrSelf) and Release /
  // ReleaseHolder from other threads wait: the device or the holder may
  // still be reaching the blocks. A multimap: entries are erased by
  // iterator, so two deliveries of one layout never erase each other's.
  struct InFlight {
    std::thread::id thread;
    const LayoutHolder* holder = nullptr;
    FileRange range;
  };
  std::multimap<LayoutId, InFlight> in_flight_ GUARDED_BY(mu_);
  // True while a callback for `holder` (any layout when nullptr: `id`) runs
  // on a thread other than the caller's.
  bool CallbackRunningElsewhereLocked(LayoutId id, const LayoutHolder* holder) const REQUIRES(mu_);
  // The first layout of `holder`, or 0.
  LayoutId FirstLayoutOfLocked(const LayoutHolder* holder) const REQUIRES(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  Counters counters_ GUARDED_BY(mu_);
};

}  // namespace mdfs

#endif  // MDFS_SRC_LEASE_LEASE_MANAGER_H_
