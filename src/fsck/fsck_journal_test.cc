// fsck and the journal: a committed transaction is checked as replay would
// leave the file system; a torn one is ignored.
#include <gtest/gtest.h>

#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"

namespace mdfs::fsck::testing {
namespace {

constexpr uint64_t kSequence = 7;

// The standard tree with /d/f's nlink wrong (2) at home; returns the inode
// table block that fixes it, as a journal image.
std::pair<uint64_t, format::Block> BreakNlinkAndImageTheFix(Image& image) {
  format::InodeRecord f = image.ReadInode(3);
  const format::Block fixed = image.InodeTableBlockWith(3, f, kSequence);
  f.nlink = 2;
  image.WriteInode(3, f);
  return {image.InodeBlock(3), fixed};
}

TEST(FsckJournalTest, TransactionThatNeedsReplayIsCheckedAsReplayed) {
  Image image;
  BuildTree(image);
  auto image_of_fix = BreakNlinkAndImageTheFix(image);
  ASSERT_TRUE(HasProblem(image.Check(), "nlink-wrong"));  // without the journal
  image.WriteTransaction(kSequence, {image_of_fix});
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "transaction 7 (1 blocks) needs replay");
  EXPECT_EQ(report.journal_sequence, kSequence);
}

TEST(FsckJournalTest, JournalImagesAreCheckedToo) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.nlink = 5;
  image.WriteTransaction(kSequence, {{image.InodeBlock(3), image.InodeTableBlockWith(3, f)}});
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "nlink-wrong");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "inode 3");
  EXPECT_EQ(report.journal_state, "transaction 7 (1 blocks) needs replay");
}

TEST(FsckJournalTest, TransactionAlreadyApplied) {
  Image image;
  BuildTree(image);
  image.WriteTransaction(kSequence,
                         {{image.InodeBlock(3), image.Read(image.InodeBlock(3))},
                          {image.sb().bitmap_start, image.Read(image.sb().bitmap_start)}});
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "transaction 7 (2 blocks) already applied");
}

// A new file created entirely inside the transaction: its inode, the
// directory block naming it and the bitmap block allocating it.
TEST(FsckJournalTest, TransactionSpanningSeveralDescriptors) {
  Image image;
  Tree tree = BuildTree(image);
  const uint64_t data = image.Allocate(1);  // allocated at home only for the image's sake
  const format::Block bitmap_image = image.Read(image.sb().bitmap_start);
  image.SetBitmap(data, false);
  format::InodeRecord g = Image::NewInode(S_IFREG | 0644, 1, 4096);
  g.inline_extents = {Extent(0, data, 1)};
  g.extent_count = 1;
  format::Block directory_image;
  format::EncodeDirectoryBlock(
      format::DirectoryBlock{
          {Entry("f", 3, kFileType), Entry("s", 4, kLinkType), Entry("g", 7, kFileType)}},
      tree.dir_block, kSequence, directory_image);
  const uint64_t regions =
      image.WriteTransaction(kSequence,
                             {{image.InodeBlock(7), image.InodeTableBlockWith(7, g, kSequence)},
                              {tree.dir_block, directory_image},
                              {image.sb().bitmap_start, bitmap_image}},
                             1);
  ASSERT_EQ(regions, 7u);  // 3 x (descriptor + image) + commit
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "transaction 7 (3 blocks) needs replay");
  EXPECT_EQ(report.regular_files, 4u);
}

TEST(FsckJournalTest, TornTransactionIsDiscarded) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.nlink = 5;  // would be a problem if the transaction were used
  const uint64_t blocks =
      image.WriteTransaction(kSequence, {{image.InodeBlock(3), image.InodeTableBlockWith(3, f)}});
  image.Damage(image.sb().journal_start + blocks - 1, 40);  // the commit block
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "torn transaction discarded");
}

TEST(FsckJournalTest, ImageChangedAfterCommitIsTorn) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.nlink = 5;
  image.WriteTransaction(kSequence, {{image.InodeBlock(3), image.InodeTableBlockWith(3, f)}});
  // The image never fully reached the journal: the commit's CRC no longer matches.
  image.Damage(image.sb().journal_start + 1, 3000);
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "torn transaction discarded");
}

TEST(FsckJournalTest, CommitOfAnotherSequenceIsTorn) {
  Image image;
  BuildTree(image);
  const uint64_t blocks =
      image.WriteTransaction(kSequence, {{image.InodeBlock(3), image.Read(image.InodeBlock(3))}});
  const uint64_t commit_block = image.sb().journal_start + blocks - 1;
  auto commit = format::DecodeJournalCommit(image.Read(commit_block), commit_block);
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  commit->sequence = kSequence + 1;
  format::Block block;
  format::EncodeJournalCommit(*commit, commit_block, block);
  image.Write(commit_block, block);
  FsckReport report = image.Check();
  EXPECT_EQ(report.journal_state, "torn transaction discarded");
}

TEST(FsckJournalTest, MissingCommitIsTorn) {
  Image image;
  const uint64_t blocks =
      image.WriteTransaction(kSequence, {{image.InodeBlock(3), image.Read(image.InodeBlock(3))}});
  image.Write(image.sb().journal_start + blocks - 1, format::Block{});
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "torn transaction discarded");
}

TEST(FsckJournalTest, NonDescriptorAtJournalStartIsEmpty) {
  Image image;
  image.Write(image.sb().journal_start, image.Read(image.InodeBlock(1)));
  FsckReport report = image.Check();
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.journal_state, "empty");
}

TEST(FsckJournalTest, ImageTargetInsideTheJournal) {
  Image image;
  const uint64_t target = image.sb().journal_start + 20;
  image.WriteTransaction(kSequence, {{target, image.Read(image.InodeBlock(1))}});
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "journal-bad-target");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_NE(problem->message.find(std::to_string(target)), std::string::npos) << problem->message;
}

// Replay of this transaction would overwrite /d/f's data with a directory
// block.
TEST(FsckJournalTest, ImageOverAFilesDataBlock) {
  Image image;
  Tree tree = BuildTree(image);
  format::Block directory_image;
  format::EncodeDirectoryBlock(format::DirectoryBlock{{Entry("x", 3, kFileType)}},
                               tree.file_block, kSequence, directory_image);
  image.WriteTransaction(kSequence, {{tree.file_block, directory_image}});
  FsckReport report = image.Check();
  const FsckProblem* problem = FindProblem(report, "journal-image-not-metadata");
  ASSERT_NE(problem, nullptr) << Describe(report);
  EXPECT_EQ(problem->where, "block " + std::to_string(tree.file_block));
}

TEST(FsckJournalTest, ImageOfAFreeBlock) {
  Image image;
  BuildTree(image);
  const uint64_t free_block = image.sb().total_blocks - 10;
  format::Block directory_image;
  format::EncodeDirectoryBlock(format::DirectoryBlock{}, free_block, kSequence, directory_image);
  image.WriteTransaction(kSequence, {{free_block, directory_image}});
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "journal-image-not-metadata")) << Describe(report);
}

TEST(FsckJournalTest, BadSuperblockImage) {
  Image image;
  image.WriteTransaction(kSequence, {{format::kSuperblockPrimary, format::Block{}}});
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "journal-bad-image")) << Describe(report);
}

}  // namespace
}  // namespace mdfs::fsck::testing
