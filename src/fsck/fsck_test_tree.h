// The tree most fsck tests start from, built by hand:
//   /            inode 1, entries d, big, prealloc
//   /d           inode 2 (directory), entries f, s
//   /d/f         inode 3, 5000 bytes in 2 written blocks
//   /d/s         inode 4, symlink of 10 bytes
//   /big         inode 5, 8 one-block extents at file blocks 0, 2, .., 14,
//                held in a chain of 2 extent blocks (4 extents each)
//   /prealloc    inode 6, 100 bytes; 1 written block, and 2 unwritten
//                blocks past EOF (fallocate KEEP_SIZE)
#ifndef MDFS_SRC_FSCK_FSCK_TEST_TREE_H_
#define MDFS_SRC_FSCK_FSCK_TEST_TREE_H_

#include "fsck/fsck_test_util.h"

namespace mdfs::fsck::testing {

struct Tree {
  uint64_t root_block = 0;
  uint64_t dir_block = 0;
  uint64_t file_block = 0;      // first of /d/f's 2 blocks
  uint64_t big_first_data = 0;  // first of /big's 8 data blocks
  uint64_t prealloc_block = 0;  // first of /prealloc's 3 blocks
  uint64_t data_blocks = 0;     // data-region blocks the tree owns
};

inline Tree BuildTree(Image& image) {
  Tree tree;
  tree.file_block = image.MakeFile(3, 5000, 2);
  image.MakeSymlink(4, 10);
  tree.dir_block = image.MakeDirectory(2, 1, {Entry("f", 3, kFileType), Entry("s", 4, kLinkType)});

  format::InodeRecord big = Image::NewInode(S_IFREG | 0600, 1, 16 * kBlockSize);
  tree.big_first_data = image.Allocate(8);
  std::vector<format::ExtentRecord> extents;
  for (uint32_t i = 0; i < 8; ++i) extents.push_back(Extent(2 * i, tree.big_first_data + i, 1));
  image.SetExtents(big, extents, 4);
  image.WriteInode(5, big);

  format::InodeRecord prealloc = Image::NewInode(S_IFREG | 0644, 1, 100);
  tree.prealloc_block = image.Allocate(3);
  image.SetExtents(prealloc, {Extent(0, tree.prealloc_block, 1),
                              Extent(1, tree.prealloc_block + 1, 2, format::kExtentFlagUnwritten)});
  image.WriteInode(6, prealloc);

  tree.root_block = image.MakeDirectory(
      1, 1, {Entry("d", 2, kDirType), Entry("big", 5, kFileType), Entry("prealloc", 6, kFileType)});
  // 2 (f) + 1 (s) + 1 (d) + 8 + 2 extent blocks (big) + 3 (prealloc) + 1 (root)
  tree.data_blocks = 18;
  return tree;
}

}  // namespace mdfs::fsck::testing

#endif  // MDFS_SRC_FSCK_FSCK_TEST_TREE_H_
