// The engine's side of the lease wiring: the hook every block-map change
// goes through (BlockMapListener) and direct access (PrepareDirectAccess).
// Internal: the lease layer (src/lease) and MAP_DIRECT (src/direct) use it;
// a user holds a Volume (include/mdfs/session.h), which pairs the engine
// with its one lease manager.
#ifndef MDFS_SRC_ENGINE_BLOCK_MAP_GATE_H_
#define MDFS_SRC_ENGINE_BLOCK_MAP_GATE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "mdfs/file_system.h"

namespace mdfs {

// Why a block map is about to change; passed to the BlockMapListener.
enum class BlockMapChangeKind {
  kWriteAllocate,  // a write allocates blocks or converts unwritten ones
  kTruncate,       // size change that frees (down) or exposes (up) blocks
  kFallocate,      // mode 0 or KEEP_SIZE
  kPunchHole,
  kZeroRange,
  kCollapseRange,
  kInsertRange,
  kFreeInode,     // unlink / rmdir / rename-over dropped the last link
  kSeal,          // Seal(): the block map becomes immutable
  kUnseal,        // Unseal(): not a change of blocks; lets the listener refuse
  kDirectAccess,  // PrepareDirectAccess() allocates or zeroes blocks
};

// "write-allocate", "truncate", ... (for listings and messages).
const char* BlockMapChangeKindName(BlockMapChangeKind kind);

inline constexpr uint64_t kToEndOfFile = UINT64_MAX;
struct BlockMapChange {
  InodeNumber ino = 0;
  BlockMapChangeKind kind = BlockMapChangeKind::kWriteAllocate;
  uint64_t offset = 0;  // bytes; the file range whose mapping changes
  uint64_t length = 0;  // bytes; kToEndOfFile - offset means "to the end of the file"
  uint64_t end() const { return length > kToEndOfFile - offset ? kToEndOfFile : offset + length; }
};

// What BlockMapListener::BeginBlockMapChange decided.
struct BreakTicket {
  uint64_t id = 0;         // the operation's registration; 0: none was made
  bool must_wait = false;  // conflicts exist: abandon, WaitForBreak, start over
};

// The one hook every block-map change goes through, before anything is
// changed. The layout-lease layer (include/mdfs/lease.h) implements it to
// recall overlapping layouts and wait for pins. The protocol, for one
// engine operation (e.g. one Truncate call):
//
//   1. Engine lock held: BeginBlockMapChange(change, id) for each range the
//      operation is about to change (id 0 the first time, then the id the
//      previous call returned: one registration per operation). The
//      listener either lets it proceed — and then holds back new layouts
//      and pins on the range until EndBlockMapChange — or answers
//      must_wait, having marked the conflicting layouts as recalling.
//      A non-OK Status (kTextFileBusy, ...) fails the operation.
//   2. On must_wait the engine abandons the operation (nothing was
//      changed), releases its lock and calls WaitForBreak(id) — where the
//      holders' recall callbacks run and the wait (or the would-block
//      answer, or the revocation at lease_break_time) happens — and, when
//      it returns OK, starts the operation over from the beginning: sizes
//      and block maps may have changed meanwhile.
//   3. When the operation is over (committed, failed or abandoned for
//      good), engine lock released: EndBlockMapChange(id).
//
// Begin and End run with the engine's exclusive lock held or just after;
// none of the three may call back into the FileSystem except as documented
// for WaitForBreak (which runs without engine locks).
class BlockMapListener {
 public:
  virtual ~BlockMapListener() = default;
  virtual Result<BreakTicket> BeginBlockMapChange(const BlockMapChange& change, uint64_t id) = 0;
  virtual Status WaitForBreak(uint64_t id) = 0;
  virtual void EndBlockMapChange(uint64_t id) = 0;
};

// PrepareDirectAccess flags.
inline constexpr uint32_t kDirectAllocate =
    1u << 0;  // map holes (and grow the size to the range's end)
inline constexpr uint32_t kDirectKnownFlags = kDirectAllocate;

// Called by PrepareDirectAccess with the engine lock held, so no block-map
// change can run: the file's attributes and the extents of the range
// (every block written: no holes, no unwritten extents). It grants the
// layout (LeaseManager does). Its Status is returned by PrepareDirectAccess.
using DirectAccessGrant =
    std::function<Status(const Attributes& attributes, const std::vector<ExtentInfo>& extents)>;

// Implemented by the engine (FileSystemImpl) next to FileSystem.
class BlockMapGate {
 public:
  virtual ~BlockMapGate() = default;

  // Direct access (MAP_DIRECT, layouts): makes every block of the regular
  // file's range [offset, offset+length) allocated and written — holes are
  // mapped when `flags` has kDirectAllocate (else kHole), new and unwritten
  // blocks are zeroed — durable in metadata before it returns, then calls
  // `grant` with the extents while no block-map change can run. The range
  // may pass the end of the file only with kDirectAllocate, which grows the
  // size to its end. Unknown flags: kNotSupported. A sealed file is only
  // checked (no holes), never changed.
  virtual Status PrepareDirectAccess(InodeNumber ino, uint64_t offset, uint64_t length,
                                     uint32_t flags, const DirectAccessGrant& grant) = 0;

  // Installs the hook every block-map change goes through (nullptr removes it).
  // The listener must outlive its installation and every operation started
  // while it was installed.
  virtual void SetBlockMapListener(BlockMapListener* listener) = 0;

  // The listener installed, or nullptr.
  virtual BlockMapListener* block_map_listener() = 0;
};

// The gate of an mdfs engine; nullptr for any other FileSystem.
inline BlockMapGate* GateOf(FileSystem* fs) { return dynamic_cast<BlockMapGate*>(fs); }

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_BLOCK_MAP_GATE_H_
