// Checkers: compare a mdfs FileSystem with a ModelFs and report the first
// difference as a gtest AssertionResult ("/a/b: size 4096, model 4097").
//
// Besides equality with the model they check invariants that hold for any
// correct file system: Lookup, LookupPath and ReadDirectory agree; hard
// links share an inode and distinct files do not; extents are sorted,
// aligned, inside the device, add up to allocated_blocks, and no device
// block belongs to two files; every block that reads non-zero is mapped and
// written (holes and unwritten extents read as zeros).
#ifndef MDFS_TESTS_MODEL_CHECKER_H_
#define MDFS_TESTS_MODEL_CHECKER_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "mdfs/file_system.h"
#include "model/model_fs.h"
#include "model/op.h"

namespace mdfs::test {

// The bytes of an interrupted write: each byte in [offset, offset + length)
// of the file at `path` may hold its value in `before` or in `after`.
struct ByteTolerance {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  SparseFile before;
  SparseFile after;
};

struct CheckOptions {
  bool contents = true;  // read and compare whole files
  bool times = true;     // compare the timestamps the model predicts
  bool extents = true;   // GetExtents invariants
  const ByteTolerance* tolerance = nullptr;
  // The mdfs directory that the model's root stands for ("" = the root);
  // model paths are looked up in mdfs as prefix + path.
  std::string prefix;
};

// `model_path` in mdfs under `prefix` ("" keeps it as it is).
std::string PrefixedPath(const std::string& prefix, const std::string& model_path);

// Compares what `path` names (or the error looking it up gives) in `fs`
// and in `model`. A directory's entries are compared, not its subtree.
testing::AssertionResult CheckPath(FileSystem& fs, const ModelFs& model, const std::string& path,
                                   const CheckOptions& options = {});

// Compares the whole tree below the root.
testing::AssertionResult CheckTree(FileSystem& fs, const ModelFs& model,
                                   const CheckOptions& options = {});

// After a successful `op`, checks the block map changes Linux makes:
// PUNCH_HOLE unmaps the blocks it covers inside the file, fallocate modes 0
// and KEEP_SIZE map every block of the range inside the file, a truncate
// down unmaps every block past the new end of file.
testing::AssertionResult CheckBlockMapAfter(FileSystem& fs, const ModelFs& before, const Op& op);

// A ByteTolerance for `op` if it is a write, between `before` and `after`.
std::optional<ByteTolerance> ToleranceFor(const Op& op, const ModelFs& before,
                                          const ModelFs& after);

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_CHECKER_H_
