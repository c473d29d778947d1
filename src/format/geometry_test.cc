#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kTiB = 1ull << 40;

// The invariants every geometry ComputeGeometry returns must satisfy.
void ExpectWellFormed(const Superblock& sb, uint64_t device_bytes) {
  SCOPED_TRACE("device_bytes " + std::to_string(device_bytes));
  EXPECT_EQ(sb.total_blocks, device_bytes / kBlockSize);
  EXPECT_EQ(sb.journal_start, 2u);
  EXPECT_EQ(sb.inode_table_start, sb.journal_start + sb.journal_blocks);
  EXPECT_EQ(sb.inode_count, sb.inode_table_blocks * 15);
  EXPECT_EQ(sb.inode_count % 15, 0u);
  EXPECT_GE(sb.inode_count, 16u);
  EXPECT_EQ(sb.bitmap_start, sb.inode_table_start + sb.inode_table_blocks);
  EXPECT_EQ(sb.bitmap_blocks, (sb.total_blocks + 32511) / 32512);
  EXPECT_EQ(sb.data_start, sb.bitmap_start + sb.bitmap_blocks);
  EXPECT_GE((sb.total_blocks - sb.data_start) * 4, sb.total_blocks);
  EXPECT_EQ(sb.root_inode, 1u);
  // And the decoder accepts it.
  Block block;
  EncodeSuperblock(sb, 0, 0, block);
  EXPECT_TRUE(DecodeSuperblock(block, 0).ok()) << DecodeSuperblock(block, 0).status().ToString();
}

TEST(Geometry, TooSmall) {
  Result<Superblock> sb = ComputeGeometry(1 * kMiB, 16384, 0);
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sb.status().message(), "device too small: 1048576 bytes, need at least 2 MiB");
  EXPECT_FALSE(ComputeGeometry(2 * kMiB - 1, 16384, 0).ok());
}

TEST(Geometry, SmallestDevice) {
  Result<Superblock> sb = ComputeGeometry(2 * kMiB, 16384, 0);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  ExpectWellFormed(*sb, 2 * kMiB);
  EXPECT_EQ(sb->journal_blocks, 256u);  // the default's floor
}

TEST(Geometry, TooLarge) {
  const uint64_t largest = (1ull << 44) * kBlockSize;
  Result<Superblock> sb = ComputeGeometry(largest + kBlockSize, 1 << 30, 0);
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.status().code(), Code::kInvalidArgument);
  EXPECT_NE(sb.status().message().find("device too large"), std::string::npos);
  Result<Superblock> max = ComputeGeometry(largest, 1 << 30, 0);
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  ExpectWellFormed(*max, largest);
  EXPECT_EQ(max->journal_blocks, 16384u);  // the default's ceiling
}

TEST(Geometry, TinyJournal) {
  Result<Superblock> sb = ComputeGeometry(64 * kMiB, 16384, 8);
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sb.status().message(), "journal too small: 8 blocks, need at least 16");
  Result<Superblock> smallest = ComputeGeometry(64 * kMiB, 16384, 16);
  ASSERT_TRUE(smallest.ok()) << smallest.status().ToString();
  EXPECT_EQ(smallest->journal_blocks, 16u);
}

TEST(Geometry, JournalLeavingNoRoomIsRefused) {
  // 2 MiB = 512 blocks; a 400-block journal leaves under 25% for data.
  Result<Superblock> sb = ComputeGeometry(2 * kMiB, 16384, 400);
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.status().code(), Code::kInvalidArgument);
  EXPECT_NE(sb.status().message().find("too little room for data"), std::string::npos)
      << sb.status().message();
  EXPECT_FALSE(ComputeGeometry(64 * kMiB, 16384, 1ull << 40).ok());
}

TEST(Geometry, InodeTableLeavingNoRoomIsRefused) {
  // One inode per 256 bytes: the inode table alone would take the device.
  Result<Superblock> sb = ComputeGeometry(64 * kMiB, 256, 0);
  ASSERT_FALSE(sb.ok());
  EXPECT_NE(sb.status().message().find("too little room for data"), std::string::npos);
  EXPECT_EQ(ComputeGeometry(64 * kMiB, 100, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ComputeGeometry(64 * kMiB, 0, 0).status().code(), Code::kInvalidArgument);
}

TEST(Geometry, WorkedExample256MiB) {
  // The numbers doc/format.md shows.
  Result<Superblock> sb = ComputeGeometry(256 * kMiB, 16384, 0);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_EQ(sb->total_blocks, 65536u);
  EXPECT_EQ(sb->journal_start, 2u);
  EXPECT_EQ(sb->journal_blocks, 1024u);
  EXPECT_EQ(sb->inode_table_start, 1026u);
  EXPECT_EQ(sb->inode_table_blocks, 1093u);  // ceil(16384 / 15)
  EXPECT_EQ(sb->inode_count, 16395u);
  EXPECT_EQ(sb->bitmap_start, 2119u);
  EXPECT_EQ(sb->bitmap_blocks, 3u);
  EXPECT_EQ(sb->data_start, 2122u);
}

TEST(Geometry, TypicalSizes) {
  for (uint64_t bytes : {2 * kMiB, 3 * kMiB + 100, 64 * kMiB, 127 * kMiB, 128 * kMiB, 1 * kGiB,
                         100 * kGiB, 1 * kTiB, 64 * kTiB}) {
    Result<Superblock> sb = ComputeGeometry(bytes, 16384, 0);
    ASSERT_TRUE(sb.ok()) << bytes << ": " << sb.status().ToString();
    ExpectWellFormed(*sb, bytes);
    EXPECT_EQ(sb->journal_blocks, std::clamp<uint64_t>(bytes / kBlockSize / 64, 256, 16384));
    const uint64_t wanted = std::max<uint64_t>(16, bytes / 16384);
    EXPECT_GE(sb->inode_count, wanted);
    EXPECT_LT(sb->inode_count, wanted + 15);
  }
}

TEST(Geometry, ExplicitJournalIsUsed) {
  Result<Superblock> sb = ComputeGeometry(64 * kMiB, 16384, 777);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_EQ(sb->journal_blocks, 777u);
  ExpectWellFormed(*sb, 64 * kMiB);
}

TEST(Geometry, PartialTrailingBlockIsIgnored) {
  Result<Superblock> sb = ComputeGeometry(8 * kMiB + 4095, 16384, 0);
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->total_blocks, 2048u);
}

}  // namespace
}  // namespace mdfs::format
