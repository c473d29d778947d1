// Shared by the checker files; not for tests.
#ifndef MDFS_TESTS_MODEL_CHECKER_INTERNAL_H_
#define MDFS_TESTS_MODEL_CHECKER_INTERNAL_H_

#include <vector>

#include "model/checker.h"

namespace mdfs::test::internal {

// A device byte range mapped by a file.
struct ExtentOwner {
  uint64_t begin = 0;
  uint64_t end = 0;
  InodeNumber ino = 0;
};

// Compares one inode (`attributes` from GetAttributes) with model node `id`:
// type, permissions, owner, nlink, size, times, symlink target, file bytes
// and extents. Appends the file's device ranges to `owners` when not null.
testing::AssertionResult CheckNode(FileSystem& fs, const ModelFs& model, NodeId id,
                                   const std::string& path, const Attributes& attributes,
                                   const CheckOptions& options, std::vector<ExtentOwner>* owners);

// Fails when two different inodes map the same device byte.
testing::AssertionResult CheckNoSharedBlocks(std::vector<ExtentOwner> owners);

}  // namespace mdfs::test::internal

#endif  // MDFS_TESTS_MODEL_CHECKER_INTERNAL_H_
