// FsDriver: applies an Op to a mdfs FileSystem the way a front end would —
// resolve the path(s) with LookupPath, then make the inode-based call.
#ifndef MDFS_TESTS_MODEL_FS_DRIVER_H_
#define MDFS_TESTS_MODEL_FS_DRIVER_H_

#include <cstddef>
#include <vector>

#include "mdfs/file_system.h"
#include "model/op.h"

namespace mdfs::test {

// Applies `op` (not kReopen) to `fs`. kRead: the bytes go to `read_out`.
// kWrite with op.fsync: the Fsync is part of the step (its error is the
// step's error); with op.commit_marker, so is creating the marker (in the
// root of `fs`, whatever prefix the op's paths carry). A Write that returns OK with a short count
// comes back as kCorruption, which no model outcome accepts.
Status ApplyToFileSystem(FileSystem& fs, const Op& op, std::vector<std::byte>* read_out = nullptr);

// Reads [0, size) of `ino` in 1 MiB calls; fails if a call returns less
// than asked before `size` or anything past it.
Result<std::vector<std::byte>> ReadWholeFile(FileSystem& fs, InodeNumber ino, uint64_t size);

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_FS_DRIVER_H_
