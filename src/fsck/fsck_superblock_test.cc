// fsck and the superblocks: the backup takes over for a bad primary; with
// neither, there is nothing to check.
#include <gtest/gtest.h>

#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"

namespace mdfs::fsck::testing {
namespace {

TEST(FsckSuperblockTest, CorruptPrimaryUsesTheBackup) {
  Image image;
  BuildTree(image);
  image.Damage(format::kSuperblockPrimary, 100);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "superblock-primary-bad");
  EXPECT_EQ(report.problems[0].where, "block 0");
  // The rest of the check ran, with the backup's geometry.
  EXPECT_EQ(report.inodes_in_use, 6u);
  EXPECT_EQ(report.total_blocks, image.sb().total_blocks);
}

TEST(FsckSuperblockTest, ZeroedPrimaryUsesTheBackup) {
  Image image;
  image.Write(format::kSuperblockPrimary, format::Block{});
  FsckReport report = image.Check();
  EXPECT_TRUE(HasProblem(report, "superblock-primary-bad")) << Describe(report);
  EXPECT_EQ(report.inodes_in_use, 1u);
}

TEST(FsckSuperblockTest, BothSuperblocksBad) {
  Image image;
  image.Damage(format::kSuperblockPrimary, 100);
  image.Damage(format::kSuperblockBackup, 100);
  Result<FsckReport> report = CheckFileSystem(image.device());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kCorruption);
  EXPECT_NE(report.status().message().find("block 0"), std::string::npos)
      << report.status().message();
  EXPECT_NE(report.status().message().find("block 1"), std::string::npos)
      << report.status().message();
  EXPECT_NE(report.status().message().find("checksum"), std::string::npos)
      << report.status().message();
}

TEST(FsckSuperblockTest, NotAnMdfsDevice) {
  auto device = CreateMemoryDevice(4 << 20);
  ASSERT_TRUE(device.ok());
  Result<FsckReport> report = CheckFileSystem(device->get());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kCorruption);
  EXPECT_NE(report.status().message().find("not an mdfs"), std::string::npos)
      << report.status().message();
}

TEST(FsckSuperblockTest, DeviceTooSmallToHoldTwoBlocks) {
  auto device = CreateMemoryDevice(4096);
  ASSERT_TRUE(device.ok());
  Result<FsckReport> report = CheckFileSystem(device->get());
  EXPECT_FALSE(report.ok());
}

TEST(FsckSuperblockTest, NewerIncompatibleFeaturesCannotBeChecked) {
  Image image;
  format::Superblock sb = image.sb();
  sb.features_incompat = 1;
  for (uint64_t n : {format::kSuperblockPrimary, format::kSuperblockBackup}) {
    format::Block block;
    format::EncodeSuperblock(sb, n, 0, block);
    image.Write(n, block);
  }
  Result<FsckReport> report = CheckFileSystem(image.device());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kNotSupported) << report.status().ToString();
}

TEST(FsckSuperblockTest, PrimaryAndBackupDisagree) {
  Image image;
  format::Superblock sb = image.sb();
  sb.label = "other";
  format::Block block;
  format::EncodeSuperblock(sb, format::kSuperblockBackup, 0, block);
  image.Write(format::kSuperblockBackup, block);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "superblock-mismatch");
  EXPECT_NE(report.problems[0].message.find("label"), std::string::npos);
}

TEST(FsckSuperblockTest, BadBackup) {
  Image image;
  image.Damage(format::kSuperblockBackup, 100);
  FsckReport report = image.Check();
  ASSERT_EQ(report.problems.size(), 1u) << Describe(report);
  EXPECT_EQ(report.problems[0].check, "superblock-backup-bad");
}

TEST(FsckSuperblockTest, DeviceSmallerThanTheFileSystem) {
  Image image;
  BuildTree(image);
  auto small = CreateMemoryDevice(image.sb().total_blocks / 2 * kBlockSize);
  ASSERT_TRUE(small.ok());
  for (uint64_t b = 0; b < image.sb().total_blocks / 2; ++b) {
    ASSERT_TRUE(format::WriteBlock(small->get(), b, image.Read(b)).ok());
  }
  Result<FsckReport> report = CheckFileSystem(small->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(HasProblem(*report, "device-too-small")) << Describe(*report);
}

}  // namespace
}  // namespace mdfs::fsck::testing
