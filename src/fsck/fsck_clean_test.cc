// fsck on images that are correct: a fresh mkfs and a hand-built tree that
// uses every kind of structure. The corruption tests start from the same
// tree, so these also show that their builder produces clean images.
#include <gtest/gtest.h>

#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"

namespace mdfs::fsck::testing {
namespace {

TEST(FsckCleanTest, FreshMkfsIsClean) {
  Image image;
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.inodes_in_use, 1u);
  EXPECT_EQ(report.directories, 1u);
  EXPECT_EQ(report.regular_files, 0u);
  EXPECT_EQ(report.symlinks, 0u);
  EXPECT_EQ(report.total_blocks, image.sb().total_blocks);
  EXPECT_EQ(report.journal_state, "empty");
  EXPECT_EQ(report.blocks_in_use, image.sb().data_start);
  EXPECT_EQ(report.blocks_in_use + report.blocks_free, report.total_blocks);
}

TEST(FsckCleanTest, FreshMkfsOfALargerDeviceIsClean) {
  // More than one bitmap block (32512 blocks each) and many inode blocks.
  Image image(uint64_t{200} << 20);
  ASSERT_GT(image.sb().bitmap_blocks, 1u);
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.blocks_in_use + report.blocks_free, report.total_blocks);
}

TEST(FsckCleanTest, HandBuiltTreeIsClean) {
  Image image;
  Tree tree = BuildTree(image);
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.inodes_in_use, 6u);
  EXPECT_EQ(report.directories, 2u);
  EXPECT_EQ(report.regular_files, 3u);
  EXPECT_EQ(report.symlinks, 1u);
  EXPECT_EQ(report.blocks_in_use, image.sb().data_start + tree.data_blocks);
  EXPECT_EQ(report.blocks_in_use + report.blocks_free, report.total_blocks);
}

TEST(FsckCleanTest, FsckNeverWrites) {
  Image image;
  BuildTree(image);
  image.Damage(image.InodeBlock(20), 300);  // something to report
  std::vector<format::Block> before;
  for (uint64_t b = 0; b < image.sb().total_blocks; ++b) before.push_back(image.Read(b));
  FsckReport report = image.Check();
  EXPECT_FALSE(report.clean());
  for (uint64_t b = 0; b < image.sb().total_blocks; ++b) {
    ASSERT_EQ(image.Read(b), before[b]) << "block " << b;
  }
}

}  // namespace
}  // namespace mdfs::fsck::testing
