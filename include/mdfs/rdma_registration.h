// RDMA memory registration (ibv_reg_mr) of a MAP_DIRECT range as a
// long-term pin on its layout lease (DESIGN.md semantics 5, the
// ->lease_direct() idea; the io_uring registrar's sibling,
// include/mdfs/uring_registration.h).
//
//   auto m = MapDirect(fs, leases, ino, 0, 2 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate,
//   {}); RdmaRegistrationOptions options; options.queue_pairs = {qp};           // the QPs that
//   post work requests using this MR auto reg = RdmaMemoryRegistration::Register(leases, **m, pd,
//   options);
//   // hand (*reg)->address(), (*reg)->rkey() to the peer; for a local work request:
//   if ((*reg)->BeginWork(wr_id).ok()) {
//     ibv_post_send(qp, &wr, &bad);        // sge.lkey = (*reg)->lkey()
//     ... poll its completion (success or IBV_WC_WR_FLUSH_ERR) ...
//     (*reg)->EndWork(wr_id);
//   } else { /* recalled: stop, drop the registration and the mapping */ }
//
// Register() registers the range with the NIC (ibv_reg_mr) and hangs the
// registration off the mapping's layout (LeaseManager::AddLongTermPin).
// When a breaker recalls the layout (truncate, punch hole, collapse, ...),
// or it is revoked or released, the lease manager calls TearDown() before
// the holder hears of it and before any block moves:
//
//   1. stop posting: BeginWork refuses from now on (kLeaseRevoked);
//   2. wait up to options.drain_timeout_ms for every work request counted
//      with BeginWork to be ended (EndWork after its completion was polled);
//   3. if some are still outstanding, move every QP of options.queue_pairs
//      to the error state (ibv_modify_qp IBV_QPS_ERR), which flushes their
//      work requests (completions with IBV_WC_WR_FLUSH_ERR), and wait for
//      their EndWork;
//   4. ibv_dereg_mr: the NIC no longer reaches the range, and the rkey is
//      dead — a peer's RDMA WRITE or READ with it completes on the peer with
//      IBV_WC_REM_ACCESS_ERR (and moves the peer's QP to error);
//   5. options.on_teardown runs; registered() turns false.
//
// Remote work requests (a peer's RDMA WRITE/READ with our rkey) are not
// counted: the verbs contract is that once ibv_dereg_mr returned, the
// device no longer accesses the memory (rxe, for one, waits for the
// responder's references to the MR). Local work requests are: they name
// the MR by lkey and may still be in the send queue.
//
// Which memory registers: the kernel pins the pages with FOLL_LONGTERM.
// It refuses fs-dax pages (ext4/xfs mounted -o dax, any mmap flags) with
// EOPNOTSUPP — Register() reports kNotSupported naming that cause — and,
// on Linux 6.5 and later, writable file-backed MAP_SHARED page-cache
// memory of file systems that track dirty pages with EFAULT (kNotSupported,
// naming that cause); before Linux 6.2 it pins even a read-only
// registration for writing, so a read-only mapping fails with EFAULT too
// (kNotSupported, naming that). device-dax (/dev/daxN.M), memfd and tmpfs
// memory register (doc/hardware.md). So mdfs on device-dax is where a file's blocks can be
// registered with an RDMA NIC and still be truncated safely.
//
// Sealed files: the mapping has no layout (layout() == 0): the
// registration holds a sealed-mapping count (Unseal fails with
// kTextFileBusy while it exists) and is torn down only by Unregister.
//
// Requirements: the protection domain and the QPs outlive the
// registration; the LeaseManager outlives it; the mapping is live when
// Register is called. The QPs' owner must poll completions promptly and
// call EndWork for each counted work request (also for a flushed one);
// it must not, between BeginWork and EndWork, start a block-map change of
// the file on the same thread: TearDown would wait for it.
//
// Thread-safety: every method may be called from any thread. TearDown is
// the lease manager's: users call Unregister() (or destroy the object).
#ifndef MDFS_INCLUDE_MDFS_RDMA_REGISTRATION_H_
#define MDFS_INCLUDE_MDFS_RDMA_REGISTRATION_H_

#include <infiniband/verbs.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "mdfs/status.h"

namespace mdfs {

struct RdmaRegistrationOptions {
  // ibv_reg_mr access flags. The default lets peers write and read.
  int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
  // The QPs that post work requests naming this MR; flushed to the error
  // state at teardown if their counted work requests did not end in time.
  std::vector<ibv_qp*> queue_pairs;
  // How long TearDown waits for counted work requests before flushing.
  uint32_t drain_timeout_ms = 100;
  // Runs at the end of the TearDown of a registration the NIC had accepted,
  // after ibv_dereg_mr, before the blocks are freed, on the tearing-down
  // thread with no lock held. It must not start a block-map change.
  std::function<void()> on_teardown;
};

class RdmaMemoryRegistration final : public LongTermRegistrar {
 public:
  // Registers [address, address + length), inside the mapping, with `pd`.
  // Errors:
  //   kInvalidArgument  null arguments, an empty range or one outside the
  //                     mapping, a read-only mapping with write access asked
  //   kLeaseRevoked     the mapping's layout is being recalled or is gone
  //   kNotSupported     the kernel refuses long-term pins of this memory:
  //                     fs-dax (EOPNOTSUPP), file-backed MAP_SHARED page
  //                     cache (EFAULT, Linux 6.5+), a read-only mapping
  //                     (EFAULT, Linux < 6.2); the message names the cause
  //   kNoSpace          RLIMIT_MEMLOCK too small (ENOMEM)
  //   kIoError          any other ibv_reg_mr failure (errno named)
  static Result<std::unique_ptr<RdmaMemoryRegistration>> Register(
      LeaseManager* leases, const DirectMapping& mapping, ibv_pd* pd, void* address, size_t length,
      RdmaRegistrationOptions options = {});
  // The whole mapping.
  static Result<std::unique_ptr<RdmaMemoryRegistration>> Register(
      LeaseManager* leases, const DirectMapping& mapping, ibv_pd* pd,
      RdmaRegistrationOptions options = {});

  ~RdmaMemoryRegistration() override;  // Unregister()
  RdmaMemoryRegistration(const RdmaMemoryRegistration&) = delete;
  RdmaMemoryRegistration& operator=(const RdmaMemoryRegistration&) = delete;

  // The MR's keys and range, valid while registered() (kept afterwards, dead).
  uint32_t lkey() const { return lkey_; }
  uint32_t rkey() const { return rkey_; }
  uint64_t address() const { return reinterpret_cast<uintptr_t>(address_); }
  size_t length() const { return length_; }
  InodeNumber ino() const { return ino_; }
  LayoutId layout() const { return layout_; }
  uint64_t file_offset() const;  // file offset of address()

  // True from a successful Register until TearDown started.
  bool registered() const;
  // True once TearDown finished (ibv_dereg_mr returned).
  bool torn_down() const;
  // Counts one local work request (`wr_id` unique among those in flight)
  // about to be posted with this MR's lkey. OK: post it, then EndWork after
  // its completion. kLeaseRevoked once teardown started: do not post.
  Status BeginWork(uint64_t wr_id);
  void EndWork(uint64_t wr_id);

  // Undoes the registration now (idempotent); if the lease manager's
  // teardown runs on another thread, waits for it.
  void Unregister();

  // What the teardown found: work requests outstanding at its start, QPs it
  // moved to the error state, errno of ibv_dereg_mr (0: it succeeded).
  uint64_t outstanding_at_teardown() const;
  uint64_t queue_pairs_flushed() const;
  int dereg_errno() const;

  // LongTermRegistrar.
  bool CanTearDown() const override { return true; }
  void TearDown() override;
  std::string Describe() const override;  // "RDMA MR rkey 0x1a2 on rxe0, inode 5 [0, 2097152)"

 private:
  RdmaMemoryRegistration(LeaseManager* leases, const DirectMapping& mapping, ibv_pd* pd,
                         void* address, size_t length, RdmaRegistrationOptions options);
  Status RegisterWithDevice(const DirectMapping& mapping);
  void DoTearDown();
  void FlushQueuePairs();

  LeaseManager* const leases_;
  ibv_pd* const pd_;
  const InodeNumber ino_;
  const uint64_t mapping_offset_;
  const std::byte* const mapping_data_;
  void* const address_;
  const size_t length_;
  const LayoutId layout_;
  const RdmaRegistrationOptions options_;
  const std::string device_name_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  ibv_mr* mr_ = nullptr;  // GUARDED_BY(mu_) for the swap at teardown
  uint32_t lkey_ = 0, rkey_ = 0;
  bool pinned_ = false;
  bool teardown_started_ = false;
  bool teardown_done_ = false;
  bool unregistered_ = false;
  bool lease_manager_called_ = false;
  uint64_t outstanding_at_teardown_ = 0;
  uint64_t queue_pairs_flushed_ = 0;
  int dereg_errno_ = 0;
  std::unordered_map<uint64_t, uint32_t> in_flight_;  // wr_id -> count
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_RDMA_REGISTRATION_H_
