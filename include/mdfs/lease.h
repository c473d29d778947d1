// Layout leases, recall, pins and long-term registrations (doc/leases.md).
//
// A layout lease ("layout") is (file, byte range, READ|RW, holder): a
// promise that the blocks behind the range stay where they are until the
// holder releases it. Every change of a block map (include/mdfs/file_system.h,
// BlockMapListener) first recalls the layouts that overlap the changed
// range — only those — and waits until they are released, or, after the
// file system's lease_break_time, revokes them. Transient pins (DMA in
// flight) make breakers wait; long-term pins (device memory registrations)
// hang off a layout and are torn down when it is recalled.
//
// A LeaseManager attaches itself to one FileSystem as its BlockMapListener
// for its whole life; a Volume pairs them (include/mdfs/session.h).
//
// Thread-safety: every method may be called from any thread. Holder
// callbacks run on the thread of the breaker that recalls them, with no
// lock of the engine or of the LeaseManager held; they may call Release().
#ifndef MDFS_INCLUDE_MDFS_LEASE_H_
#define MDFS_INCLUDE_MDFS_LEASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mdfs/clock.h"
#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs {

using LayoutId = uint64_t;
using PinId = uint64_t;

enum class LayoutMode : int { kRead = 1, kReadWrite = 2 };
// granted -> recalling -> released | revoked (doc/leases.md, "States").
enum class LayoutState : int { kGranted = 0, kRecalling = 1, kReleased = 2, kRevoked = 3 };
const char* LayoutModeName(LayoutMode mode);     // "read", "rw"
const char* LayoutStateName(LayoutState state);  // "granted", "recalling", ...

struct LayoutInfo {
  LayoutId id = 0;
  std::string holder;  // LayoutHolder::Describe()
  InodeNumber ino = 0;
  uint64_t offset = 0;  // bytes
  uint64_t length = 0;  // bytes
  LayoutMode mode = LayoutMode::kRead;
  LayoutState state = LayoutState::kGranted;
  int64_t age_ns = 0;            // since the grant
  int64_t recalling_for_ns = 0;  // since the recall started (0 unless recalling)
  uint32_t long_term_pins = 0;
};

// Whoever holds layouts: an in-process mapping, later a client process or a
// remote session. Implemented by the holder; must outlive its layouts.
class LayoutHolder {
 public:
  virtual ~LayoutHolder() = default;
  // The layout must be given back: stop I/O on the range, then Release() it
  // — inside the callback or later, from any thread. Runs once per layout,
  // after the layout's long-term pins were torn down. Must not wait for the
  // breaker (it runs on the breaker's thread).
  virtual void OnRecall(const LayoutInfo& layout) = 0;
  // lease_break_time passed before the release: the layout is gone, its
  // registrations were torn down (their TearDown returned) and OnRecall,
  // if it was delivered, has returned; the holder must tear down what it still
  // has on the range (a mapping: replace it so that access raises SIGBUS)
  // before returning, and must never touch those blocks again.
  virtual void OnRevoke(const LayoutInfo& layout) = 0;
  // For listings: "map_direct 0x7f12340000 (pid 4242)".
  virtual std::string Describe() const = 0;
  // Whom the holder acts for: a breaker whose BreakOptions::self is this
  // owner never waits for the holder's layouts. Every mapping of one
  // session (include/mdfs/session.h) answers that session. Default: itself.
  virtual const void* owner() const { return this; }
};

// A device memory registration over a layout's range (an io_uring fixed
// buffer, an RDMA memory region, a GPU mapping).
class LongTermRegistrar {
 public:
  virtual ~LongTermRegistrar() = default;
  // False for a registrar that cannot revoke a registration (a device
  // without an IOMMU in the seeds): such registrars are refused long-term
  // pins with kNotSupported.
  virtual bool CanTearDown() const = 0;
  // Undo the registration: after it returns the device must not reach the
  // range. Runs when the layout is recalled, revoked or released, before
  // the holder hears of it; at most once. Until it returns, the layout's
  // range counts as held for every breaker and the layout is not revoked,
  // even past lease_break_time: CanTearDown() promises it finishes promptly.
  virtual void TearDown() = 0;
  virtual std::string Describe() const = 0;  // "io_uring fixed buffers (2 iovecs)"
};

struct LeaseOptions {
  Clock* clock = nullptr;  // nullptr: SystemClock(); only NowMonotonicNs is used
  // nullopt: the file system's (FileSystemStats::lease_break_time_ms).
  // 0 means never revoke.
  std::optional<uint64_t> lease_break_time_ms;
};

// The lease manager of a file system. A Volume (include/mdfs/session.h)
// owns it together with its engine; device registrars
// (uring_registration.h, rdma_registration.h) take it from Volume::leases().
// Its interface is internal wiring (src/lease/leases.h).
class LeaseManager;

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_LEASE_H_
