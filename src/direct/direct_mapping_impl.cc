#include "direct/direct_mapping_impl.h"

#include <unistd.h>

#include <cstdio>

#include "direct/persist.h"
#include "lease/leases.h"

namespace mdfs::direct_internal {
namespace {

// The mapping whose holder callback runs on this thread, so that an Unmap
// from inside on_recall / on_revoke does not wait for itself.
thread_local const DirectMappingImpl* callback_running_here = nullptr;

std::string Hex(const void* address) {
  char text[32];
  std::snprintf(text, sizeof(text), "%p", address);
  return text;
}

}  // namespace

// Counts a running holder callback for WaitForCallbacks.
class DirectMappingImpl::CallbackScope {
 public:
  explicit CallbackScope(DirectMappingImpl* mapping)
      : mapping_(mapping), previous_(callback_running_here) {
    std::lock_guard lock(mapping_->callbacks_mutex_);
    ++mapping_->callbacks_running_;
    callback_running_here = mapping_;
  }
  ~CallbackScope() {
    callback_running_here = previous_;
    std::lock_guard lock(mapping_->callbacks_mutex_);
    if (--mapping_->callbacks_running_ == 0) mapping_->callbacks_done_.notify_all();
  }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  DirectMappingImpl* const mapping_;
  const DirectMappingImpl* const previous_;
};

DirectMappingImpl::DirectMappingImpl(DirectMappingParameters parameters,
                                     std::unique_ptr<VirtualRange> range)
    : parameters_(std::move(parameters)),
      mode_(parameters_.device->persistence_mode()),
      data_(range->data()),
      range_(std::move(range)) {}

DirectMappingImpl::~DirectMappingImpl() { Unmap(); }

Status DirectMappingImpl::GrantLocked(const Attributes& attributes,
                                      const std::vector<ExtentInfo>& extents) {
  std::unique_lock lock(mutex_);
  grant_would_block_ = false;
  if (unmapped_) return InvalidArgument("map_direct: the mapping was unmapped during the grant");
  MDFS_RETURN_IF_ERROR(range_->MapExtents(*parameters_.device, extents, parameters_.writable));
  LeaseManager& leases = *parameters_.leases;
  if (attributes.flags & kInodeFlagSealed) {
    Status status = leases.AddSealedMapping(parameters_.ino);
    if (!status.ok()) {
      (void)range_->ResetToReserved();
      return status;
    }
    sealed_ = true;
    return Status::Ok();
  }
  const LayoutMode mode = parameters_.writable ? LayoutMode::kReadWrite : LayoutMode::kRead;
  Result<LayoutId> layout =
      leases.GrantLocked(this, parameters_.ino, parameters_.offset, parameters_.length, mode);
  if (!layout.ok()) {
    (void)range_->ResetToReserved();
    grant_would_block_ = layout.status().code() == Code::kWouldBlock;
    return layout.status();
  }
  layout_ = *layout;
  must_release_ = true;
  return Status::Ok();
}

LayoutId DirectMappingImpl::layout() const {
  std::shared_lock lock(mutex_);
  return layout_;
}

Status DirectMappingImpl::CheckUsable(const void* address, size_t length) const {
  const auto begin = reinterpret_cast<uintptr_t>(address);
  const auto base = reinterpret_cast<uintptr_t>(data_);
  const uint64_t size = parameters_.length;
  if (begin < base || length > size || begin - base > size - length) {
    return InvalidArgument("[" + Hex(address) + ", +" + std::to_string(length) +
                           ") is not inside the mapping [" + Hex(data_) + ", +" +
                           std::to_string(size) + ")");
  }
  if (unmapped_) return InvalidArgument("the mapping at " + Hex(data_) + " was unmapped");
  if (torn_down_.load()) {
    return Status(Code::kLeaseRevoked, std::string("the mapping at ") + Hex(data_) + " was " +
                                           (revoked_.load() ? "revoked" : "recalled") +
                                           " (its layout lease is gone)");
  }
  return Status::Ok();
}

Status DirectMappingImpl::Persist(const void* address, size_t length) {
  std::shared_lock lock(mutex_);
  MDFS_RETURN_IF_ERROR(CheckUsable(address, length));
  return PersistRange(mode_, address, length);
}

Status DirectMappingImpl::Flush(const void* address, size_t length) {
  std::shared_lock lock(mutex_);
  MDFS_RETURN_IF_ERROR(CheckUsable(address, length));
  return FlushRange(mode_, address, length);
}

void DirectMappingImpl::Drain() { DrainStores(); }

Status DirectMappingImpl::CopyPersist(void* destination, const void* source, size_t length) {
  std::shared_lock lock(mutex_);
  MDFS_RETURN_IF_ERROR(CheckUsable(destination, length));
  if (!parameters_.writable) {
    return ReadOnly("the mapping at " + Hex(data_) + " was made without PROT_WRITE");
  }
  return CopyPersistRange(mode_, destination, source, length);
}

// The flags are set before the range is poisoned, so a thread whose access
// faults on the poisoned range then sees torn_down() (and revoked()).
bool DirectMappingImpl::TearDownLocked(bool revoked) {
  if (revoked) revoked_.store(true);
  const bool poison = !unmapped_ && !torn_down_.load();
  torn_down_.store(true);
  if (poison) {
    // Poison falls back to PROT_NONE by itself; either way no device byte
    // stays reachable, which is what invariant 2 needs.
    (void)range_->Poison();
  }
  const bool release = must_release_;
  must_release_ = false;
  return release;
}

void DirectMappingImpl::OnRecall(const LayoutInfo& layout) {
  CallbackScope scope(this);
  {
    std::shared_lock lock(mutex_);
    if (unmapped_ || torn_down_.load()) return;
  }
  if (parameters_.options.on_recall) parameters_.options.on_recall();
  bool release;
  {
    std::unique_lock lock(mutex_);
    release = TearDownLocked(/*revoked=*/false);
  }
  if (release) (void)parameters_.leases->Release(layout.id);
}

// The lease manager already took the layout away: nothing to give back.
void DirectMappingImpl::OnRevoke(const LayoutInfo& layout) {
  CallbackScope scope(this);
  {
    std::unique_lock lock(mutex_);
    (void)TearDownLocked(/*revoked=*/true);
  }
  if (parameters_.options.on_revoke) parameters_.options.on_revoke();
}

void DirectMappingImpl::Abandon() {
  bool release = false;
  LayoutId layout = 0;
  {
    std::unique_lock lock(mutex_);
    if (unmapped_) return;
    release = TearDownLocked(/*revoked=*/true);
    layout = layout_;
  }
  if (release) (void)parameters_.leases->Release(layout);
}

// Unmaps first, then gives the layout back (invariant 2).
void DirectMappingImpl::Unmap() {
  bool release = false, sealed = false;
  LayoutId layout = 0;
  {
    std::unique_lock lock(mutex_);
    if (unmapped_) return;
    unmapped_ = true;
    range_->Unmap();
    release = must_release_;
    must_release_ = false;
    sealed = sealed_;
    layout = layout_;
  }
  if (sealed) parameters_.leases->RemoveSealedMapping(parameters_.ino);
  if (release) (void)parameters_.leases->Release(layout);
  WaitForCallbacks();
}

void DirectMappingImpl::WaitForCallbacks() {
  std::unique_lock lock(callbacks_mutex_);
  const int own = callback_running_here == this ? 1 : 0;
  callbacks_done_.wait(lock, [&] { return callbacks_running_ <= own; });
}

std::string DirectMappingImpl::Describe() const {
  return "map_direct " + Hex(data_) + " inode " + std::to_string(parameters_.ino) + " [" +
         std::to_string(parameters_.offset) + ", " +
         std::to_string(parameters_.offset + parameters_.length) + ") " +
         (parameters_.writable ? "rw" : "read") + " (pid " + std::to_string(getpid()) + ")";
}

}  // namespace mdfs::direct_internal
