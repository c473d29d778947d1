// fsck: an independent check of every on-device invariant.
//
// CheckFileSystem reads the device through the format decoders only (it
// does not trust the engine's code paths), applies the committed journal
// transaction in memory if one is present (the state recovery would
// produce), and reports every problem it finds. It never writes.
#ifndef MDFS_INCLUDE_MDFS_FSCK_H_
#define MDFS_INCLUDE_MDFS_FSCK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mdfs/device.h"
#include "mdfs/status.h"

namespace mdfs {

struct FsckProblem {
  std::string check;    // short stable identifier: "block-double-owned", "bad-checksum", ...
  std::string where;    // "inode 12 extent 3", "block 4711", "directory 1 entry \"a\""
  std::string message;  // one sentence for humans
};

struct FsckReport {
  std::vector<FsckProblem> problems;
  uint64_t inodes_in_use = 0;
  uint64_t directories = 0;
  uint64_t regular_files = 0;
  uint64_t symlinks = 0;
  // Files unlinked while open (inode flag UNLINKED): the next writable
  // open frees them. Not a problem.
  uint64_t unlinked_inodes = 0;
  uint64_t blocks_in_use = 0;  // per the ownership walk
  uint64_t blocks_free = 0;    // per the bitmap
  uint64_t total_blocks = 0;
  // The journal: "empty", "transaction N (K blocks) already applied",
  // "transaction N (K blocks) needs replay", or "torn transaction discarded".
  std::string journal_state;
  uint64_t journal_sequence = 0;
  bool clean() const { return problems.empty(); }
};

// Fails (non-OK) only when the device cannot be read at all or holds no
// mdfs superblock; every other problem is reported in the FsckReport.
Result<FsckReport> CheckFileSystem(Device* device);

// fsck --repair (doc/fsck.md, section 6): replays a journal transaction
// that needs it, clears what cannot be decoded or trusted, reconnects what
// is unreachable under /lost+found, fixes link counts, sizes and parents,
// rebuilds the bitmap, rewrites a damaged superblock copy. Writes only the
// blocks whose bytes change; running it again changes nothing. The device
// must not be in use (the caller holds it exclusively).
struct RepairReport {
  std::vector<std::string> changes;  // one line per change, in order
  FsckReport after;                  // CheckFileSystem after the repair
};
// Fails like CheckFileSystem (no superblock, device errors), or when the
// repair cannot proceed (no room for /lost+found); the device then holds
// whatever blocks were written before the failure, each a valid block.
Result<RepairReport> RepairFileSystem(Device* device);

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_FSCK_H_
