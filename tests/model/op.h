// Op: one step of a randomized workload, applied identically to the model
// (ModelFs::Apply) and to mdfs (FsDriver::Apply). Paths are absolute
// ("/a/b"); the driver resolves them with LookupPath, so both sides see the
// same names. Written data is a pure function of (data_seed, byte offset),
// so an Op prints in one short line and replays exactly.
#ifndef MDFS_TESTS_MODEL_OP_H_
#define MDFS_TESTS_MODEL_OP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mdfs/file_system.h"

namespace mdfs::test {

// fallocate modes mdfs does not name; Linux refuses both with EOPNOTSUPP
// (ext4 for UNSHARE_RANGE, the VFS for NO_HIDE_STALE).
inline constexpr uint32_t kFallocateNoHideStale = 0x04;
inline constexpr uint32_t kFallocateUnshareRange = 0x40;

enum class OpKind {
  kCreate,     // Create(parent of path, base name, mode)
  kMkdir,      // Mkdir(parent of path, base name, mode)
  kSymlink,    // Symlink(parent of path, base name, target)
  kLink,       // Link(ino of path, parent of path2, base name of path2)
  kUnlink,     // Unlink(parent of path, base name)
  kRmdir,      // Rmdir(parent of path, base name)
  kRename,     // Rename(path -> path2, flags)
  kWrite,      // Write(path, offset, length bytes of pattern data_seed); Fsync if `fsync`
  kRead,       // Read(path, offset, length)
  kTruncate,   // Truncate(path, offset)
  kSetAttr,    // SetAttributes(path, attr)
  kFallocate,  // Fallocate(path, flags, offset, length)
  kFsync,      // Fsync(path)
  kReopen,     // not a file system call: the test closes and reopens mdfs
};

struct Op {
  OpKind kind = OpKind::kCreate;
  std::string path;
  std::string path2;   // kLink, kRename: the new name
  std::string target;  // kSymlink
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t mode = 0;   // kCreate, kMkdir: permission bits
  uint32_t flags = 0;  // kRename: kRename*; kFallocate: mode
  uint64_t data_seed = 0;
  bool fsync = false;  // kWrite: Fsync after the write, as one step
  // kWrite: then create CommitMarkerName(*this) in the root, as one step.
  // Any metadata transaction makes the writes before it durable (its commit
  // flushes first), so the write is durable when the step returns.
  bool commit_marker = false;
  SetAttributesRequest attr;

  // One line, for failure logs: "write /a/b off=4097 len=100 seed=7 +fsync".
  std::string ToString() const;
  // True when the op may change the file system.
  bool Mutates() const;
};

// The file a kWrite with commit_marker creates in the root: ".c<data_seed in hex>".
std::string CommitMarkerName(const Op& op);

// `op` with every path moved below directory `prefix` ("/t1": "/a" -> "/t1/a",
// "/" -> "/t1"), so a model rooted at "/" drives a subtree of mdfs.
Op WithPrefix(const Op& op, const std::string& prefix);

// The `length` bytes that an Op with `data_seed` writes at file `offset`.
std::vector<std::byte> PatternBytes(uint64_t data_seed, uint64_t offset, uint64_t length);

// "/a/b" -> "/a"; "/a" -> "/".
std::string ParentPath(const std::string& path);
// "/a/b" -> "b".
std::string BaseName(const std::string& path);
// "/" + "a" -> "/a"; "/a" + "b" -> "/a/b".
std::string JoinPath(const std::string& parent, const std::string& name);

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_OP_H_
