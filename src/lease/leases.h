// The lease manager's interface (include/mdfs/lease.h has the types a user
// sees): attach to an engine, grant layouts from inside
// PrepareDirectAccess, release, pins, long-term pins, listing; and the
// per-thread BreakScope the session layer sets around a call. Internal
// wiring: a user holds a Volume, which pairs one engine with one manager.
#ifndef MDFS_SRC_LEASE_LEASES_H_
#define MDFS_SRC_LEASE_LEASES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/block_map_gate.h"
#include "mdfs/lease.h"

namespace mdfs {

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

#endif  // MDFS_SRC_LEASE_LEASES_H_
