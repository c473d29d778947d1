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
// for its whole life.
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

// How breakers on the calling thread behave while the scope lives (scopes
// nest; the innermost wins). Like O_NONBLOCK on a Linux fd, but per thread
// and call site, because the engine API has no open files.
struct BreakOptions {
  // Start the recall, then fail with kWouldBlock instead of waiting.
  bool nonblocking = false;
  // The breaker is this holder, or the owner of holders (LayoutHolder::
  // owner(), a session): its own overlapping layouts are recalled
  // (callbacks run) and, if still not released when its callbacks return,
  // revoked at once — a breaker never waits for itself.
  const void* self = nullptr;
};
class BreakScope {
 public:
  explicit BreakScope(const BreakOptions& options);
  ~BreakScope();
  BreakScope(const BreakScope&) = delete;
  BreakScope& operator=(const BreakScope&) = delete;
  static const BreakOptions& Current();

 private:
  BreakOptions options_;
  const BreakScope* previous_;
};

class LeaseManager {
 public:
  // Attaches to `fs` (SetBlockMapListener). `fs` must outlive it.
  static Result<std::unique_ptr<LeaseManager>> Attach(FileSystem* fs,
                                                      const LeaseOptions& options = {});
  // Detaches; every remaining layout is revoked (holders hear OnRevoke).
  virtual ~LeaseManager() = default;

  // Grants a layout on [offset, offset+length) of a regular file. MUST be
  // called from a DirectAccessGrant (FileSystem::PrepareDirectAccess), so
  // that the block map cannot change between the caller's look at the
  // extents and the grant. kWouldBlock while a breaker holds an overlapping
  // range: the caller returns it, calls WaitForRange outside the engine and
  // retries. A sealed file needs no layout: use AddSealedMapping.
  virtual Result<LayoutId> GrantLocked(LayoutHolder* holder, InodeNumber ino, uint64_t offset,
                                       uint64_t length, LayoutMode mode) = 0;
  // Waits (honouring BreakScope) until no breaker holds any part of the range.
  virtual Status WaitForRange(InodeNumber ino, uint64_t offset, uint64_t length) = 0;
  // Gives a layout back (any state but revoked/released; else kNotFound).
  // Its long-term pins are torn down first. A teardown or callback of the
  // layout running on another thread finishes before it returns.
  virtual Status Release(LayoutId id) = 0;
  // Releases every layout of `holder` (holder death, close). Returns when
  // no teardown or callback for `holder` runs on any other thread: the
  // holder hears nothing more and may be destroyed.
  virtual void ReleaseHolder(const LayoutHolder* holder) = 0;

  // Lease-free mappings of sealed files: counted so that Unseal can refuse
  // while any exists. Call from a DirectAccessGrant.
  virtual Status AddSealedMapping(InodeNumber ino) = 0;
  virtual void RemoveSealedMapping(InodeNumber ino) = 0;

  // Transient pins (DMA in flight). Pin waits (honouring BreakScope) while
  // a breaker holds an overlapping range, so breakers are not starved;
  // breakers wait until no pinned block remains in their range. Pins are
  // never revoked.
  virtual Result<PinId> Pin(InodeNumber ino, uint64_t offset, uint64_t length) = 0;
  virtual Status Unpin(PinId id) = 0;

  // Long-term pins: a registration over (part of) a granted layout.
  // kNotSupported if !registrar->CanTearDown(); kNotFound if the layout is
  // not granted (recalling, released, revoked) — never kWouldBlock: a
  // recall is never cancelled, so no retry could succeed. Torn down, newest first, on
  // recall, revocation or release of the layout, before the holder is told.
  virtual Status AddLongTermPin(LayoutId layout, LongTermRegistrar* registrar) = 0;
  // Removes it without tearing down (the registrar undid it itself).
  virtual Status RemoveLongTermPin(LayoutId layout, LongTermRegistrar* registrar) = 0;

  // Like /proc/locks: every layout not yet released or revoked.
  virtual std::vector<LayoutInfo> ListLayouts() = 0;
  virtual uint64_t lease_break_time_ms() const = 0;

  // Counters, for tests and `mdfs` output.
  struct Counters {
    uint64_t granted = 0, recalled = 0, released = 0, revoked = 0;
    uint64_t breaks_waited = 0, pins = 0, pin_waits = 0;
  };
  virtual Counters counters() = 0;
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_LEASE_H_
