// DirectMappingImpl: the DirectMapping that MapDirect returns, and the
// LayoutHolder of its layout lease.
//
// States (each transition names its function):
//
//   reserved --GrantLocked--> live --OnRecall--> torn down (recalled)
//                              |  \--OnRevoke--> torn down (revoked)
//                              \--Unmap (or destructor)--> unmapped
//   torn down --Unmap--> unmapped
//
// Invariants:
//   1. While live, the range maps exactly the blocks PrepareDirectAccess
//      gave the grant, and a layout covering them is held (or, on a sealed
//      file, a sealed-mapping count) — so the blocks cannot move.
//   2. The layout is given back (Release) at most once, and only after
//      the range stopped mapping the device (poisoned or unmapped): a
//      breaker that proceeds never leaves a store path to freed blocks.
//   3. Persist, Flush and CopyPersist touch the range only under the shared
//      lock, and teardown takes it exclusively, so they never fault.
//   4. Unmap returns only when no holder callback of this mapping is
//      running (unless called from inside one).
//
// Lifetime: a revoked mapping never calls its LeaseManager again, so a
// mapping may outlive the manager that revoked it (~LeaseManager revokes
// every layout). A mapping of a sealed file holds no layout and is never
// revoked: its manager must outlive it (Unmap calls RemoveSealedMapping).
//
// Thread-safety: all methods may be called from any thread.
#ifndef MDFS_SRC_DIRECT_DIRECT_MAPPING_IMPL_H_
#define MDFS_SRC_DIRECT_DIRECT_MAPPING_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "direct/virtual_range.h"
#include "lease/leases.h"
#include "mdfs/map_direct.h"
#include "util/thread_annotations.h"

namespace mdfs::direct_internal {

struct DirectMappingParameters {
  LeaseManager* leases = nullptr;
  Device* device = nullptr;  // the file system's device, where MapAt maps from
  InodeNumber ino = 0;
  uint64_t offset = 0;  // bytes, page-aligned
  uint64_t length = 0;  // bytes, page-aligned: what is mapped and leased
  bool writable = false;
  MapDirectOptions options;
  // LayoutHolder::owner(): the session the mapping belongs to (nullptr:
  // the mapping itself).
  const void* owner = nullptr;
};

class DirectMappingImpl final : public DirectMapping, public LayoutHolder {
 public:
  DirectMappingImpl(DirectMappingParameters parameters, std::unique_ptr<VirtualRange> range);
  ~DirectMappingImpl() override;  // Unmap()

  // The body of the DirectAccessGrant: maps the extents into the range,
  // then takes the layout (or counts a sealed mapping). On failure nothing
  // of the device stays mapped; grant_would_block() tells whether the
  // lease manager answered kWouldBlock (a breaker holds the range: wait
  // with WaitForRange and retry). REQUIRES: the engine lock (called from
  // FileSystem::PrepareDirectAccess).
  Status GrantLocked(const Attributes& attributes, const std::vector<ExtentInfo>& extents)
      EXCLUDES(mutex_);
  bool grant_would_block() const { return grant_would_block_; }

  // DirectMapping.
  std::byte* data() const override { return data_; }
  size_t size() const override { return parameters_.length; }
  uint64_t file_offset() const override { return parameters_.offset; }
  InodeNumber ino() const override { return parameters_.ino; }
  LayoutId layout() const override EXCLUDES(mutex_);
  PersistenceMode persistence_mode() const override { return mode_; }
  Status Persist(const void* address, size_t length) override EXCLUDES(mutex_);
  Status Flush(const void* address, size_t length) override EXCLUDES(mutex_);
  void Drain() override;
  Status CopyPersist(void* destination, const void* source, size_t length) override
      EXCLUDES(mutex_);
  bool torn_down() const override { return torn_down_.load(); }
  bool revoked() const override { return revoked_.load(); }
  void Unmap() override EXCLUDES(mutex_);

  // LayoutHolder: run on the breaker's thread.
  void OnRecall(const LayoutInfo& layout) override EXCLUDES(mutex_);
  void OnRevoke(const LayoutInfo& layout) override EXCLUDES(mutex_);
  std::string Describe() const override;
  const void* owner() const override { return parameters_.owner ? parameters_.owner : this; }

  // The owner closed (a session): tears the range down as a revocation
  // does (access raises SIGBUS) and gives the layout back. The object stays
  // valid; Unmap still unmaps.
  void Abandon() EXCLUDES(mutex_);

 private:
  class CallbackScope;

  // OK when [address, address + length) lies inside the mapping and the
  // mapping is live. REQUIRES_SHARED(mutex_).
  Status CheckUsable(const void* address, size_t length) const REQUIRES_SHARED(mutex_);
  // Marks the mapping torn down (and revoked), then poisons the range
  // (SIGBUS on access) unless it was already torn down or unmapped.
  // Returns whether the caller must give the layout back (and clears that
  // duty).
  bool TearDownLocked(bool revoked) REQUIRES(mutex_);
  void WaitForCallbacks();

  const DirectMappingParameters parameters_;
  const PersistenceMode mode_;
  std::byte* const data_;

  mutable std::shared_mutex mutex_;  // exclusive: the range changes; shared: it is used
  const std::unique_ptr<VirtualRange> range_ PT_GUARDED_BY(mutex_);
  LayoutId layout_ GUARDED_BY(mutex_) = 0;
  bool sealed_ GUARDED_BY(mutex_) = false;        // counted with AddSealedMapping
  bool must_release_ GUARDED_BY(mutex_) = false;  // a layout is held and not yet given back
  bool unmapped_ GUARDED_BY(mutex_) = false;
  std::atomic<bool> torn_down_{false};
  std::atomic<bool> revoked_{false};
  bool grant_would_block_ = false;  // written and read only on the MapDirect thread

  std::mutex callbacks_mutex_;
  std::condition_variable callbacks_done_;
  int callbacks_running_ GUARDED_BY(callbacks_mutex_) = 0;
};

// MapDirect (include/mdfs/map_direct.h) for a holder acting for `owner`
// (LayoutHolder::owner(); nullptr: itself), returning the implementation so
// that the owner can Abandon it.
Result<std::unique_ptr<DirectMappingImpl>> MapDirectFor(FileSystem* fs, LeaseManager* leases,
                                                        InodeNumber ino, uint64_t offset,
                                                        uint64_t length, int prot, uint32_t flags,
                                                        MapDirectOptions options,
                                                        const void* owner);

}  // namespace mdfs::direct_internal

#endif  // MDFS_SRC_DIRECT_DIRECT_MAPPING_IMPL_H_
