// fsck on a damaged namespace: directory entries, link counts, parents,
// reachability and cycles.
#include <gtest/gtest.h>

#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"

namespace mdfs::fsck::testing {
namespace {

// Root entries of the standard tree, plus `extra`.
std::vector<format::DirectoryRecord> RootEntries(std::vector<format::DirectoryRecord> extra = {}) {
  std::vector<format::DirectoryRecord> entries = {
      Entry("d", 2, kDirType), Entry("big", 5, kFileType), Entry("prealloc", 6, kFileType)};
  entries.insert(entries.end(), extra.begin(), extra.end());
  return entries;
}

TEST(FsckNamespaceTest, WrongNlinkOnAFile) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.nlink = 2;
  image.WriteInode(3, f);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "nlink-wrong");
  EXPECT_EQ(report.problems[0].where, "inode 3");
  EXPECT_NE(report.problems[0].message.find("nlink is 2, expected 1"), std::string::npos)
      << report.problems[0].message;
}

TEST(FsckNamespaceTest, HardLinkCountsEveryEntry) {
  Image image;
  BuildTree(image);
  // A second name for /big in /d: nlink must become 2.
  image.MakeDirectory(
      2, 1, {Entry("f", 3, kFileType), Entry("s", 4, kLinkType), Entry("big2", 5, kFileType)});
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "nlink-wrong");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "inode 5");
  format::InodeRecord big = image.ReadInode(5);
  big.nlink = 2;
  image.WriteInode(5, big);
  report = image.Check();
  EXPECT_FALSE(HasProblem(report, "nlink-wrong")) << Describe(report);
}

TEST(FsckNamespaceTest, WrongNlinkOnADirectory) {
  Image image;
  BuildTree(image);
  format::InodeRecord root = image.ReadInode(1);
  root.nlink = 2;  // has one subdirectory: 3
  image.WriteInode(1, root);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "nlink-wrong");
  EXPECT_NE(report.problems[0].message.find("expected 3"), std::string::npos);
}

TEST(FsckNamespaceTest, OrphanInode) {
  Image image;
  BuildTree(image);
  image.MakeFile(9, 10, 1);  // in use, named by no entry
  FsckReport report = image.Check();
  const FsckProblem* orphan = FindProblem(report, "orphan-inode");
  ASSERT_NE(orphan, nullptr) << Describe(report);
  EXPECT_EQ(orphan->where, "inode 9");
  EXPECT_TRUE(HasProblem(report, "nlink-wrong")) << Describe(report);  // nlink 1, no entry
}

TEST(FsckNamespaceTest, EntryToFreeInode) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(1, 1, RootEntries({Entry("ghost", 12, kFileType)}));
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "entry-to-free-inode");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "directory 1 entry \"ghost\"");
}

TEST(FsckNamespaceTest, EntryToInodeOutOfRange) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(1, 1, RootEntries({Entry("far", image.sb().inode_count + 1, kFileType)}));
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "entry-bad-inode")) << Describe(report);
}

// The decoder refuses a block that repeats a name, so fsck's own check is
// for names repeated across the blocks of one directory.
TEST(FsckNamespaceTest, DuplicateEntryAcrossBlocks) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(
      2, 1, {{Entry("f", 3, kFileType), Entry("s", 4, kLinkType)}, {Entry("f", 3, kFileType)}});
  format::InodeRecord f = image.ReadInode(3);
  f.nlink = 2;  // so that only the duplicate is wrong
  image.WriteInode(3, f);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "duplicate-entry");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "directory 2 entry \"f\"");
}

TEST(FsckNamespaceTest, EntryTypeMismatch) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(2, 1, {Entry("f", 3, kDirType), Entry("s", 4, kLinkType)});
  format::InodeRecord d = image.ReadInode(2);
  d.nlink = 2;  // the entry claims a subdirectory; nlink counts real ones
  image.WriteInode(2, d);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 2u) << Describe(report);  // + the old block of /d, leaked
  EXPECT_TRUE(HasProblem(report, "entry-type-mismatch")) << Describe(report);
}

TEST(FsckNamespaceTest, DirectoryCycle) {
  Image image;
  BuildTree(image);
  // Directories 7 and 8 name each other and nothing names either.
  image.MakeDirectory(7, 8, {Entry("b", 8, kDirType)});
  image.MakeDirectory(8, 7, {Entry("a", 7, kDirType)});
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "directory-cycle");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_NE(problem->message.find("7"), std::string::npos) << problem->message;
  EXPECT_NE(problem->message.find("8"), std::string::npos) << problem->message;
  EXPECT_EQ(report.problems.size(), 1u) << Describe(report);
}

TEST(FsckNamespaceTest, UnreachableDirectoryChainIsOrphanNotCycle) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(7, 1, {Entry("b", 8, kDirType)});
  image.MakeDirectory(8, 7, std::vector<format::DirectoryRecord>{});
  FsckReport report = image.Check();
  EXPECT_FALSE(HasProblem(report, "directory-cycle")) << Describe(report);
  const FsckProblem* orphan = FindProblem(report, "orphan-inode");
  ASSERT_NE(orphan, nullptr) << Describe(report);
  EXPECT_EQ(orphan->where, "inode 7");
}

TEST(FsckNamespaceTest, DirectoryHardLink) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(1, 1, RootEntries({Entry("d2", 2, kDirType)}));
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "directory-hard-link")) << Describe(report);
}

TEST(FsckNamespaceTest, DirectoryParentWrong) {
  Image image;
  BuildTree(image);
  format::InodeRecord d = image.ReadInode(2);
  d.parent = 5;
  image.WriteInode(2, d);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "directory-parent-wrong");
}

TEST(FsckNamespaceTest, EntryToRoot) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(
      2, 1, {Entry("f", 3, kFileType), Entry("s", 4, kLinkType), Entry("up", 1, kDirType)});
  format::InodeRecord d = image.ReadInode(2);
  d.nlink = 3;
  image.WriteInode(2, d);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "entry-to-root")) << Describe(report);
}

TEST(FsckNamespaceTest, RootNotADirectory) {
  Image image;
  format::InodeRecord root = Image::NewInode(S_IFREG | 0644, 0, 0);
  image.WriteInode(1, root);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "root-bad")) << Describe(report);
}

TEST(FsckNamespaceTest, RootWithWrongParent) {
  Image image;
  format::InodeRecord root = image.ReadInode(1);
  root.parent = 2;
  image.WriteInode(1, root);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "root-bad");
}

TEST(FsckNamespaceTest, BadDirectoryBlock) {
  Image image;
  Tree tree = BuildTree(image);
  image.Damage(tree.dir_block, 50);
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "bad-checksum");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "directory 2 block 0 (block " + std::to_string(tree.dir_block) + ")");
}

TEST(FsckNamespaceTest, DirectoryBlockOfWrongKind) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord d = image.ReadInode(2);
  d.inline_extents[0].device_block = tree.file_block;  // a data block, not a directory block
  image.WriteInode(2, d);
  image.SetBitmap(tree.dir_block, false);
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "bad-block-header")) << Describe(report);
  EXPECT_TRUE(HasProblem(report, "block-double-owned")) << Describe(report);
}

}  // namespace
}  // namespace mdfs::fsck::testing
