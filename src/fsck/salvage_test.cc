// The engine on damaged images (issue 7, items 2 and 3): values fsck flags
// are range-checked where they are loaded — a corruption error naming the
// block or the inode, never a crash — and a read-only open serves whatever
// does not depend on the damage. A writable open of a damaged image is
// refused, so nothing can change a block map over bad metadata.
#include <gtest/gtest.h>

#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"
#include "mdfs/file_system.h"
#include "mdfs/fsck.h"

namespace mdfs::fsck::testing {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<FileSystem> OpenReadOnly(Image& image) {
  OpenOptions options;
  options.read_only = true;
  auto fs = FileSystem::Open(image.device(), options);
  EXPECT_TRUE(fs.ok()) << fs.status().ToString();
  return fs.ok() ? std::move(fs).value() : nullptr;
}

void ExpectWritableOpenRefused(Image& image, const std::string& part) {
  auto fs = FileSystem::Open(image.device());
  ASSERT_FALSE(fs.ok()) << "a damaged image was opened writable";
  EXPECT_EQ(fs.status().code(), Code::kCorruption) << fs.status().ToString();
  EXPECT_TRUE(Contains(fs.status().message(), part)) << fs.status().ToString();
  EXPECT_TRUE(Contains(fs.status().message(), "read-only")) << fs.status().ToString();
}

// fsck --repair: clean afterwards, a change line containing `change`, a
// second run changes nothing, and the engine opens it writable.
void ExpectRepaired(Image& image, const std::string& change) {
  Result<RepairReport> repair = RepairFileSystem(image.device());
  ASSERT_TRUE(repair.ok()) << repair.status().ToString();
  std::string all;
  for (const std::string& line : repair->changes) all += line + "\n";
  EXPECT_TRUE(Contains(all, change)) << all;
  EXPECT_TRUE(repair->after.clean()) << Describe(repair->after) << all;
  Result<RepairReport> again = RepairFileSystem(image.device());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changes.empty()) << again->changes.front();
  auto fs = FileSystem::Open(image.device());
  EXPECT_TRUE(fs.ok()) << fs.status().ToString();
}

// fsck's entry-bad-inode: Lookup used to index past the inode table (SIGSEGV).
TEST(SalvageTest, AnEntryNamingAnInodePastTheCountIsACorruptionError) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(1, 1,
                      {Entry("d", 2, kDirType), Entry("big", 5, kFileType),
                       Entry("prealloc", 6, kFileType), Entry("ghost", 999999, kFileType)});
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto ghost = fs->Lookup(kRootInode, "ghost");
  ASSERT_EQ(ghost.status().code(), Code::kCorruption) << ghost.status().ToString();
  EXPECT_TRUE(Contains(ghost.status().message(), "\"ghost\" names inode 999999"))
      << ghost.status().ToString();
  EXPECT_EQ(fs->LookupPath("/ghost").status().code(), Code::kCorruption);
  EXPECT_EQ(fs->ReadDirectory(kRootInode)->size(), 4u) << "the listing still shows it";
  EXPECT_TRUE(fs->LookupPath("/d/f").ok()) << "the rest of the tree is served";
  fs.reset();
  ExpectWritableOpenRefused(image, "999999");
  ExpectRepaired(image, "directory 1 entry \"ghost\": names no usable inode (999999), dropped");
}

TEST(SalvageTest, AnEntryNamingAFreeInodeIsACorruptionError) {
  Image image;
  BuildTree(image);
  image.MakeDirectory(
      2, 1, {Entry("f", 3, kFileType), Entry("s", 4, kLinkType), Entry("freed", 9, kFileType)});
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto freed = fs->LookupPath("/d/freed");
  ASSERT_EQ(freed.status().code(), Code::kCorruption) << freed.status().ToString();
  EXPECT_TRUE(Contains(freed.status().message(), "free inode 9")) << freed.status().ToString();
}

// fsck's block-out-of-range: Truncate/Unlink used to write past the
// in-memory bitmap. Now the inode is damaged and the image read-only.
TEST(SalvageTest, AnExtentPastTheDeviceDamagesOnlyItsFile) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  image.SetExtents(f, {Extent(0, 134217728, 2)});
  image.WriteInode(3, f);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto damaged = fs->LookupPath("/d/f");
  ASSERT_EQ(damaged.status().code(), Code::kCorruption) << damaged.status().ToString();
  EXPECT_TRUE(Contains(damaged.status().message(), "inode 3"));
  EXPECT_TRUE(Contains(damaged.status().message(), "outside the data area"))
      << damaged.status().ToString();
  EXPECT_EQ(fs->GetAttributes(3).status().code(), Code::kCorruption);
  std::vector<std::byte> out(200);
  EXPECT_EQ(fs->Read(3, 0, out).status().code(), Code::kCorruption);
  EXPECT_TRUE(fs->LookupPath("/big").ok());
  EXPECT_TRUE(fs->Read(fs->LookupPath("/prealloc")->ino, 0, out).ok());
  fs.reset();
  ExpectWritableOpenRefused(image, "134217728");
  ExpectRepaired(image, "cleared inode 3: extent at file block 0 is unusable");
}

TEST(SalvageTest, AnExtentOverMetadataDamagesItsFile) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  image.SetExtents(f, {Extent(0, image.sb().inode_table_start, 1)});
  image.WriteInode(3, f);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(fs->LookupPath("/d/f").status().code(), Code::kCorruption);
}

TEST(SalvageTest, ADamagedInodeTableBlockNamesItsInodes) {
  Image image;
  BuildTree(image);
  // Inode 16 is the first of the second inode-table block: put /d/f there.
  format::InodeRecord f = image.ReadInode(3);
  image.WriteInode(16, f);
  image.WriteInode(3, format::InodeRecord{});
  image.MakeDirectory(2, 1, {Entry("f", 16, kFileType), Entry("s", 4, kLinkType)});
  const uint64_t block = image.InodeBlock(16);
  image.Damage(block, 100);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto damaged = fs->LookupPath("/d/f");
  ASSERT_EQ(damaged.status().code(), Code::kCorruption) << damaged.status().ToString();
  EXPECT_TRUE(Contains(damaged.status().message(),
                       "block " + std::to_string(block) + " (inode table, inodes 16-30)"))
      << damaged.status().ToString();
  EXPECT_TRUE(fs->LookupPath("/d/s").ok()) << "inodes of other blocks are served";
  EXPECT_TRUE(fs->LookupPath("/big").ok());
  fs.reset();
  ExpectWritableOpenRefused(image, "inode table");
  ExpectRepaired(image, "cleared inode 16");
}

TEST(SalvageTest, ADamagedDirectoryBlockNamesItAndSparesOtherDirectories) {
  Image image;
  Tree tree = BuildTree(image);
  image.Damage(tree.dir_block, 200);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto damaged = fs->LookupPath("/d/f");
  ASSERT_EQ(damaged.status().code(), Code::kCorruption) << damaged.status().ToString();
  EXPECT_TRUE(Contains(damaged.status().message(),
                       "block " + std::to_string(tree.dir_block) + " (directory inode 2)"))
      << damaged.status().ToString();
  EXPECT_EQ(fs->ReadDirectory(2).status().code(), Code::kCorruption);
  EXPECT_TRUE(fs->LookupPath("/big").ok());
  EXPECT_EQ(fs->ReadDirectory(kRootInode)->size(), 3u);
  fs.reset();
  // /d's entries are gone: f and s are reconnected under /lost+found.
  ExpectRepaired(image, "linked as /lost+found/#3");
  auto repaired = FileSystem::Open(image.device());
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE((*repaired)->LookupPath("/lost+found/#4").ok());
}

TEST(SalvageTest, ADamagedExtentChainDamagesOnlyItsFile) {
  Image image;
  BuildTree(image);
  const uint64_t chain = image.ReadInode(5).extent_block;
  image.Damage(chain, 300);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto damaged = fs->LookupPath("/big");
  ASSERT_EQ(damaged.status().code(), Code::kCorruption) << damaged.status().ToString();
  EXPECT_TRUE(Contains(damaged.status().message(),
                       "block " + std::to_string(chain) + " (extent chain of inode 5)"))
      << damaged.status().ToString();
  EXPECT_TRUE(fs->LookupPath("/d/f").ok());
}

TEST(SalvageTest, ADamagedBitmapBlockIsReadableButNotWritable) {
  Image image;
  BuildTree(image);
  image.Damage(image.sb().bitmap_start, 64);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  EXPECT_TRUE(fs->LookupPath("/d/f").ok());
  fs.reset();
  ExpectWritableOpenRefused(image, "free-space bitmap");
  ExpectRepaired(image, "rebuilt 1 bitmap block(s)");
}

TEST(SalvageTest, ABlockFreeInTheBitmapRefusesAWritableOpen) {
  Image image;
  Tree tree = BuildTree(image);
  image.SetBitmap(tree.file_block, false);
  ExpectWritableOpenRefused(image, "free in the bitmap");
  EXPECT_NE(OpenReadOnly(image), nullptr);
  ExpectRepaired(image, "rebuilt 1 bitmap block(s)");
}

TEST(SalvageTest, ABlockClaimedTwiceRefusesAWritableOpen) {
  Image image;
  Tree tree = BuildTree(image);
  format::InodeRecord prealloc = image.ReadInode(6);
  image.SetExtents(prealloc, {Extent(0, tree.file_block, 1)});
  image.WriteInode(6, prealloc);
  ExpectWritableOpenRefused(image, "claimed twice");
  ExpectRepaired(image, "cleared inode 6: it claims blocks another inode owns");
}

TEST(SalvageTest, ADamagedRootStillOpensReadOnly) {
  Image image;
  Tree tree = BuildTree(image);
  image.Damage(tree.root_block, 40);
  auto fs = OpenReadOnly(image);
  ASSERT_NE(fs, nullptr);
  auto root = fs->LookupPath("/d");
  ASSERT_EQ(root.status().code(), Code::kCorruption) << root.status().ToString();
  EXPECT_TRUE(Contains(root.status().message(), "directory inode 1"));

  fs.reset();
  ExpectRepaired(image, "linked as /lost+found/#2");
}

TEST(SalvageTest, RepairRewritesADamagedBackupSuperblock) {
  Image image;
  BuildTree(image);
  image.Damage(format::kSuperblockBackup, 100);
  ExpectRepaired(image, "backup superblock (block 1) rewritten");
}

TEST(SalvageTest, RepairFixesLinkCountsAndParents) {
  Image image;
  BuildTree(image);
  format::InodeRecord f = image.ReadInode(3);
  f.nlink = 7;
  image.WriteInode(3, f);
  format::InodeRecord d = image.ReadInode(2);
  d.parent = 2;
  image.WriteInode(2, d);
  ExpectRepaired(image, "inode 3: nlink 7 -> 1");
  EXPECT_EQ(image.ReadInode(2).parent, 1u);
}

TEST(SalvageTest, RepairOfACleanImageChangesNothing) {
  Image image;
  BuildTree(image);
  Result<RepairReport> repair = RepairFileSystem(image.device());
  ASSERT_TRUE(repair.ok());
  EXPECT_TRUE(repair->changes.empty()) << repair->changes.front();
}

}  // namespace
}  // namespace mdfs::fsck::testing
