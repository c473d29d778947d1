// fsck on damaged block-level metadata: table and bitmap checksums, block
// ownership against the bitmap, extent maps and sizes.
#include <gtest/gtest.h>

#include "fsck/checker.h"
#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"

namespace mdfs::fsck::testing {
namespace {

using format::kExtentFlagUnwritten;

TEST(FsckBlocksTest, BadChecksumInInodeTableBlock) {
  Image image;
  BuildTree(image);
  // Inode 20's block holds only free inodes: nothing else may be reported.
  const uint64_t block = image.InodeBlock(20);
  image.Damage(block, 1000);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "bad-checksum");
  EXPECT_NE(report.problems[0].where.find("block " + std::to_string(block)), std::string::npos)
      << report.problems[0].where;
}

TEST(FsckBlocksTest, InodeTableBlockOfWrongKindIsABadHeader) {
  Image image;
  BuildTree(image);
  const uint64_t block = image.InodeBlock(20);
  image.Write(block, image.Read(image.sb().bitmap_start));  // a sealed block of another kind
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "bad-block-header")) << Describe(report);
}

TEST(FsckBlocksTest, UnreadableInodesDoNotCascadeIntoEntryProblems) {
  Image image;
  BuildTree(image);
  image.Damage(image.InodeBlock(3), 1000);  // inodes 1..15: the whole tree
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "bad-checksum")) << Describe(report);
  EXPECT_TRUE(HasProblem(report, "root-bad")) << Describe(report);
  EXPECT_FALSE(HasProblem(report, "entry-to-free-inode")) << Describe(report);
  const FsckProblem* leaked = FindProblem(report, "block-leaked");
  ASSERT_NE(leaked, nullptr) << Describe(report);
  EXPECT_NE(leaked->message.find("could not be read"), std::string::npos) << leaked->message;
}

TEST(FsckBlocksTest, InodeTableReservedBytes) {
  Image image;
  format::Block block = image.Read(image.InodeBlock(20));
  block[100] = std::byte{1};
  format::SealBlock(block, format::BlockKind::kInodeTable, image.InodeBlock(20), 0);
  image.Write(image.InodeBlock(20), block);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "bad-inode-table-block");
}

TEST(FsckBlocksTest, BadInodeIsReportedByNumber) {
  Image image;
  BuildTree(image);
  format::Block block = image.Read(image.InodeBlock(21));
  // Inode 21: in use, but a reserved field set; reseal so only the inode is bad.
  std::span<std::byte, format::kInodeSize> raw(block.data() + format::InodeByteOffset(21),
                                               format::kInodeSize);
  format::EncodeInode(Image::NewInode(S_IFREG | 0644, 1, 0), raw);
  raw[90] = std::byte{1};
  format::SealBlock(block, format::BlockKind::kInodeTable, image.InodeBlock(21), 0);
  image.Write(image.InodeBlock(21), block);
  FsckReport report = image.Check();
  const FsckProblem* bad = FindProblem(report, "bad-inode");
  ASSERT_NE(bad, nullptr) << Describe(report);
  EXPECT_EQ(bad->where, "inode 21");
}

TEST(FsckBlocksTest, BitmapBadChecksum) {
  Image image;
  BuildTree(image);
  image.Damage(image.sb().bitmap_start, 2000);
  FsckReport report = image.Check();
  const FsckProblem* bad = FindProblem(report, "bad-checksum");
  ASSERT_NE(bad, nullptr) << Describe(report);
  EXPECT_NE(bad->where.find("bitmap block 0"), std::string::npos) << bad->where;
  // With the bitmap unknown, nothing can be said to be free or leaked.
  EXPECT_FALSE(HasProblem(report, "block-used-but-free")) << Describe(report);
  EXPECT_FALSE(HasProblem(report, "block-leaked")) << Describe(report);
}

TEST(FsckBlocksTest, MetadataBlockMarkedFree) {
  Image image;
  image.SetBitmap(image.sb().inode_table_start, false);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "metadata-block-free");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "block " + std::to_string(image.sb().inode_table_start));
}

TEST(FsckBlocksTest, BitmapTailMustBeSet) {
  Image image;
  ASSERT_LT(image.sb().total_blocks, format::kBitsPerBitmapBlock);
  image.SetBitmap(image.sb().total_blocks + 5, false);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "bitmap-tail-clear")) << Describe(report);
}

TEST(FsckBlocksTest, DoubleOwnedBlock) {
  Image image;
  Tree tree = BuildTree(image);
  // /prealloc's written block also mapped by a new file in the root.
  format::InodeRecord thief = Image::NewInode(S_IFREG | 0644, 1, 4096);
  image.SetExtents(thief, {Extent(0, tree.file_block + 1, 1)});
  image.WriteInode(7, thief);
  image.MakeDirectory(1, 1,
                      {Entry("d", 2, kDirType), Entry("big", 5, kFileType),
                       Entry("prealloc", 6, kFileType), Entry("thief", 7, kFileType)});
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "block-double-owned");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "block " + std::to_string(tree.file_block + 1));
  EXPECT_NE(problem->message.find("inode 3 extent 0"), std::string::npos) << problem->message;
  EXPECT_NE(problem->message.find("inode 7 extent 0"), std::string::npos) << problem->message;
}

TEST(FsckBlocksTest, ExtentBlockSharedWithData) {
  Image image;
  Tree tree = BuildTree(image);
  // /d/f's second block is also /big's first extent block (allocated right after big's data).
  const uint64_t extent_block = tree.big_first_data + 8;
  format::InodeRecord f = image.ReadInode(3);
  f.inline_extents = {Extent(0, tree.file_block, 1), Extent(1, extent_block, 1)};
  f.extent_count = 2;
  image.WriteInode(3, f);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "block-double-owned");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_NE(problem->message.find("inode 5 extent block 0"), std::string::npos) << problem->message;
  EXPECT_TRUE(HasProblem(report, "block-leaked")) << Describe(report);  // f's old block 2
}

TEST(FsckBlocksTest, UsedButFree) {
  Image image;
  Tree tree = BuildTree(image);
  image.SetBitmap(tree.big_first_data + 3, false);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "block-used-but-free");
  EXPECT_EQ(report.problems[0].where, "block " + std::to_string(tree.big_first_data + 3));
  EXPECT_NE(report.problems[0].message.find("inode 5 extent 3"), std::string::npos);
}

TEST(FsckBlocksTest, UnwrittenBlocksAreOwnedToo) {
  Image image;
  Tree tree = BuildTree(image);
  image.SetBitmap(tree.prealloc_block + 2, false);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "block-used-but-free")) << Describe(report);
}

TEST(FsckBlocksTest, LeakedBlocksAreReportedAsOneRange) {
  Image image;
  BuildTree(image);
  const uint64_t first = image.Allocate(3);  // marked used, owned by nobody
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "block-leaked");
  EXPECT_EQ(report.problems[0].where, BlockRange(first, 3));
}

TEST(FsckBlocksTest, BlockOutOfRange) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.inline_extents[0].device_block = image.sb().inode_table_start;  // metadata, not data
  image.WriteInode(3, f);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "block-out-of-range");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "inode 3 extent 0");
}

TEST(FsckBlocksTest, ExtentPastTheDevice) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.inline_extents[0].device_block = image.sb().total_blocks - 1;  // 2 blocks: one past the end
  image.WriteInode(3, f);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "block-out-of-range")) << Describe(report);
}

// The decoders reject unsorted or overlapping extents inside one inode or
// one extent block, so fsck's own check matters across extent blocks.
TEST(FsckBlocksTest, OverlappingExtentsAcrossExtentBlocks) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord big = image.ReadInode(5);
  std::vector<format::ExtentRecord> extents;
  for (uint32_t i = 0; i < 8; ++i) extents.push_back(Extent(2 * i, tree.big_first_data + i, 1));
  extents[4].file_block = 6;  // first of the second extent block: the same as extents[3]
  image.SetExtents(big, extents, 4);
  image.WriteInode(5, big);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "extent-overlap");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "inode 5 extent 4");
}

TEST(FsckBlocksTest, UnsortedExtentsAcrossExtentBlocks) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord big = image.ReadInode(5);
  std::vector<format::ExtentRecord> extents;
  for (uint32_t i = 0; i < 8; ++i) extents.push_back(Extent(2 * i, tree.big_first_data + i, 1));
  for (uint32_t i = 0; i < 4; ++i) extents[i].file_block += 100;  // first block after the second
  image.SetExtents(big, extents, 4);
  image.WriteInode(5, big);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "extent-unsorted");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "inode 5 extent 4");
  // One misplaced run of extents, no overlap: nothing else about the order.
  EXPECT_FALSE(HasProblem(report, "extent-overlap")) << Describe(report);
}

TEST(FsckBlocksTest, ExtentChainCycle) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord big = image.ReadInode(5);
  // The second extent block points back at the first; extent_count says more.
  const uint64_t second = big.extent_block + 1;
  auto decoded = format::DecodeExtentBlock(image.Read(second), second);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  decoded->next_block = big.extent_block;
  format::Block out;
  format::EncodeExtentBlock(*decoded, second, 0, out);
  image.Write(second, out);
  big.extent_count = 20;
  image.WriteInode(5, big);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "extent-chain-cycle")) << Describe(report);
  (void)tree;
}

TEST(FsckBlocksTest, ExtentCountMismatch) {
  Image image;
  BuildTree(image);
  format::InodeRecord big = image.ReadInode(5);
  big.extent_count = 7;  // the chain holds 8
  image.WriteInode(5, big);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "extent-count-mismatch")) << Describe(report);
}

TEST(FsckBlocksTest, BrokenExtentChain) {
  Image image;
  BuildTree(image);
  format::InodeRecord big = image.ReadInode(5);
  image.Damage(big.extent_block + 1, 100);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "bad-checksum");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_NE(problem->where.find("inode 5 extent block 1"), std::string::npos) << problem->where;
}

TEST(FsckBlocksTest, WrittenExtentBeyondEof) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord prealloc = image.ReadInode(6);
  prealloc.inline_extents[1].flags = 0;  // the KEEP_SIZE preallocation, now written
  image.WriteInode(6, prealloc);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "written-extent-beyond-eof");
  EXPECT_EQ(report.problems[0].where, "inode 6 extent 1");
  (void)tree;
}

TEST(FsckBlocksTest, WrittenExtentStraddlingEofIsFine) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.size = 10;  // the second written block lies past EOF but the extent starts inside
  image.WriteInode(3, f);
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
}

TEST(FsckBlocksTest, DirectoryWithAHole) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord d = image.ReadInode(2);
  d.inline_extents[0].file_block = 1;
  d.size = 2 * kBlockSize;
  image.WriteInode(2, d);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "directory-bad-map")) << Describe(report);
  (void)tree;
}

TEST(FsckBlocksTest, DirectorySizeWrong) {
  Image image;
  BuildTree(image);
  format::InodeRecord d = image.ReadInode(2);
  d.size = 100;
  image.WriteInode(2, d);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "directory-size-wrong");
}

TEST(FsckBlocksTest, UnwrittenDirectoryBlock) {
  Image image;
  BuildTree(image);
  format::InodeRecord d = image.ReadInode(2);
  d.inline_extents[0].flags = kExtentFlagUnwritten;
  image.WriteInode(2, d);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "directory-bad-map")) << Describe(report);
}

TEST(FsckBlocksTest, SymlinkWithTwoBlocks) {
  Image image;
  BuildTree(image);
  format::InodeRecord s = image.ReadInode(4);
  s.inline_extents.push_back(Extent(1, image.Allocate(1), 1));
  s.extent_count = 2;
  image.WriteInode(4, s);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "symlink-bad-map")) << Describe(report);
}

TEST(FsckBlocksTest, SymlinkWithoutBlocks) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord s = image.ReadInode(4);
  image.SetBitmap(s.inline_extents[0].device_block, false);
  s.inline_extents.clear();
  s.extent_count = 0;
  image.WriteInode(4, s);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "symlink-bad-map");
  (void)tree;
}

}  // namespace
}  // namespace mdfs::fsck::testing
