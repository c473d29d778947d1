// io_uring fixed buffers over a MAP_DIRECT range: a real long-term pin
// (DESIGN.md semantics 5, the ->lease_direct() idea).
//
//   auto m = MapDirect(fs, leases, ino, 0, 1 << 20, PROT_READ | PROT_WRITE, 0, {});
//   iovec iov{(*m)->data(), 1 << 20};
//   auto reg = UringBufferRegistration::Register(leases, **m, &ring, {&iov, 1});
//   // per fixed-buffer operation, buffer index i = iovecs[i]:
//   if ((*reg)->BeginFixedIo(user_data).ok()) {
//     io_uring_prep_read_fixed(sqe, fd, iov.iov_base, 4096, 0, 0);
//     sqe->user_data = user_data;  ... submit, reap the CQE ...
//     (*reg)->EndFixedIo(user_data);
//   } else { /* recalled: drop the registration and the mapping, map again */ }
//
// Register() registers the iovecs as the ring's fixed-buffer table
// (io_uring_register_buffers) and hangs the registration off the mapping's
// layout lease (LeaseManager::AddLongTermPin). When a breaker recalls the
// layout (truncate, punch, collapse, ...), or it is revoked or released,
// the lease manager calls TearDown() before the holder hears of it:
//
//   1. new BeginFixedIo calls are refused (kLeaseRevoked);
//   2. io_uring_unregister_buffers: fixed-buffer operations submitted from
//      now on fail in the kernel (-EFAULT);
//   3. every operation counted with BeginFixedIo and not yet ended is
//      cancelled (IORING_REGISTER_SYNC_CANCEL by its user_data), then
//      TearDown waits until the ring's owner ended it (EndFixedIo after
//      reaping its CQE);
//   4. options.on_teardown runs; registered() turns false.
//
// Step 3 is needed because unregistering does NOT wait for operations in
// flight: on Linux 6.13 and later (checked on 6.18) the kernel keeps a
// reference to each buffer until the last request using it completes, so
// a READ_FIXED from a pipe submitted before io_uring_unregister_buffers
// still writes into the buffer after it returned. The contract of
// LongTermRegistrar::TearDown ("after it returns the device must not reach
// the range") therefore holds for the operations the registration knows
// of: bracket every fixed-buffer operation with BeginFixedIo / EndFixedIo.
// An operation submitted without the bracket can still reach the blocks
// after TearDown (never submit one).
//
// Which memory the kernel registers: io_uring pins the pages for writing
// with FOLL_LONGTERM, and the kernel refuses long-term pins of file-backed
// MAP_SHARED memory of a file system that tracks dirty pages (ext4, xfs,
// ...) with EFAULT. MAP_DIRECT ranges of a memory device (memfd) or of a
// file or mapped device on tmpfs register; those of a device file on ext4
// do not — Register() reports that with kNotSupported and a message naming
// the cause. A PROT_READ mapping cannot be registered either (the kernel
// pins for writing).
//
// Sealed files: a mapping of a sealed file has no layout (DirectMapping::
// layout() == 0) because its block map cannot change, and so nothing
// recalls it. The registration is allowed, without a long-term pin, and
// holds a sealed-mapping count of its own (LeaseManager::AddSealedMapping)
// until it is unregistered: Unseal() is refused with kTextFileBusy while
// it exists, even after the mapping itself was unmapped, so the blocks the
// kernel has pinned can never move. Its TearDown runs only at Unregister
// (or destruction).
//
// Requirements: the ring outlives the registration; the ring must not be
// IORING_SETUP_SINGLE_ISSUER (TearDown calls io_uring_register from the
// breaker's thread, which such a ring refuses); one registration per ring
// (the kernel keeps one fixed-buffer table per ring: a second Register
// fails with kExists); the LeaseManager outlives the registration; the
// mapping is live (not recalled or unmapped) when Register is called.
// The ring's owner must reap completions of counted operations promptly
// and must not, between BeginFixedIo and EndFixedIo, start a block-map
// change (truncate, ...) of the file itself: TearDown would wait for it.
//
// Thread-safety: every method may be called from any thread. TearDown is
// the lease manager's: users call Unregister() (or destroy the object).
#ifndef MDFS_INCLUDE_MDFS_URING_REGISTRATION_H_
#define MDFS_INCLUDE_MDFS_URING_REGISTRATION_H_

#include <sys/uio.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "mdfs/status.h"

struct io_uring;  // <liburing.h>

namespace mdfs {

struct UringRegistrationOptions {
  // Runs at the end of the TearDown of a registration the kernel had
  // accepted (never for a failed Register), when the kernel's table is gone and
  // no counted operation is in flight — the device no longer reaches the
  // range, and the blocks are not freed yet — on the tearing-down thread
  // (a breaker's, usually), with no lock of the engine, the lease manager
  // or the registration held. It may call FileSystem reads (GetExtents,
  // Read); it must not start a block-map change or wait for a breaker.
  std::function<void()> on_teardown;
  // How long TearDown lets the kernel try to cancel each operation in
  // flight (IORING_REGISTER_SYNC_CANCEL) before it just waits for the
  // operation's EndFixedIo.
  uint32_t cancel_timeout_ms = 100;
};

class UringBufferRegistration final : public LongTermRegistrar {
 public:
  // Registers `iovecs` (1 .. 16384 of them, each non-empty, at most 1 GiB,
  // inside [mapping.data(), mapping.data() + mapping.size())) with `ring`.
  // Fixed-buffer operations use buffer index i for iovecs[i]. Errors:
  //   kInvalidArgument  bad iovecs, null arguments, a SINGLE_ISSUER ring,
  //                     an unwritable range
  //   kLeaseRevoked     the mapping's layout is being recalled or is gone
  //   kNotSupported     the kernel refuses this memory (file-backed
  //                     MAP_SHARED: EFAULT) or has no io_uring
  //   kExists           the ring already has a fixed-buffer table
  //   kNoSpace          the pinned pages exceed RLIMIT_MEMLOCK (ENOMEM)
  static Result<std::unique_ptr<UringBufferRegistration>> Register(
      LeaseManager* leases, const DirectMapping& mapping, io_uring* ring,
      std::span<const iovec> iovecs, UringRegistrationOptions options = {});

  // Unregister(): tears down (if the lease manager has not) and removes
  // the long-term pin (or the sealed-mapping count).
  ~UringBufferRegistration() override;
  UringBufferRegistration(const UringBufferRegistration&) = delete;
  UringBufferRegistration& operator=(const UringBufferRegistration&) = delete;

  // True from a successful Register until TearDown started.
  bool registered() const;
  // True once TearDown finished (the device no longer reaches the range).
  bool torn_down() const;
  // Counts one fixed-buffer operation about to be submitted with
  // `user_data` (unique among the ring's operations in flight). OK: submit
  // it; call EndFixedIo(user_data) after reaping its CQE (or if it was
  // never submitted). kLeaseRevoked once teardown started: do not submit.
  Status BeginFixedIo(uint64_t user_data);
  void EndFixedIo(uint64_t user_data);

  // Undoes the registration now: removes the long-term pin, then tears
  // down; if the lease manager already claimed the teardown (a recall in
  // progress on another thread), waits until that teardown finished.
  // Idempotent. Do not call it from inside another registrar's TearDown.
  void Unregister();

  InodeNumber ino() const { return ino_; }
  LayoutId layout() const { return layout_; }  // 0: a sealed file's mapping
  size_t iovec_count() const { return iovecs_.size(); }
  // The file byte range of iovecs[i] (the mapping's file offset + its place in it).
  uint64_t file_offset_of(size_t i) const;
  // errno of io_uring_unregister_buffers at teardown (0: it succeeded).
  int unregister_errno() const;
  // Counted operations that TearDown found in flight and that the kernel
  // cancelled / that it had to wait for.
  uint64_t cancelled_at_teardown() const;
  uint64_t waited_at_teardown() const;

  // LongTermRegistrar.
  bool CanTearDown() const override { return true; }
  // The lease manager's (see the top of this file). At most once.
  void TearDown() override;
  std::string Describe() const override;  // "io_uring fixed buffers (2 iovecs, ring fd 5)"

 private:
  UringBufferRegistration(LeaseManager* leases, const DirectMapping& mapping, io_uring* ring,
                          std::span<const iovec> iovecs, UringRegistrationOptions options);
  Status RegisterWithKernel(const DirectMapping& mapping);
  // Steps 1-4 of the top of this file; a second caller waits for the first.
  void DoTearDown();

  LeaseManager* const leases_;
  io_uring* const ring_;
  const int ring_fd_;
  const InodeNumber ino_;
  const uint64_t mapping_offset_;       // file offset of mapping_data_
  const std::byte* const mapping_data_;
  const size_t mapping_size_;
  const LayoutId layout_;
  const std::vector<iovec> iovecs_;
  const UringRegistrationOptions options_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool kernel_registered_ = false;   // the kernel holds our buffer table
  bool pinned_ = false;              // long-term pin (or sealed count) held
  bool teardown_started_ = false;
  bool teardown_done_ = false;
  bool unregistered_ = false;        // Unregister ran to its end
  bool lease_manager_called_ = false;  // the lease manager's TearDown call returned
  int unregister_errno_ = 0;
  uint64_t cancelled_ = 0, waited_ = 0;
  std::unordered_map<uint64_t, uint32_t> in_flight_;  // user_data -> count
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_URING_REGISTRATION_H_
