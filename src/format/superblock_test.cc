#include <gtest/gtest.h>

#include <functional>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;
using testing::Put32;
using testing::Put64;

Superblock ValidSuperblock() {
  Result<Superblock> sb = ComputeGeometry(64ull << 20, 16384, 0);
  EXPECT_TRUE(sb.ok());
  Superblock out = *sb;
  for (size_t i = 0; i < out.uuid.size(); ++i) out.uuid[i] = static_cast<uint8_t>(0xA0 + i);
  out.created_ns = -5;  // before the epoch is allowed
  out.label = "scratch-ü";
  return out;
}

void ExpectEqual(const Superblock& a, const Superblock& b) {
  EXPECT_EQ(a.uuid, b.uuid);
  EXPECT_EQ(a.block_size, b.block_size);
  EXPECT_EQ(a.inode_size, b.inode_size);
  EXPECT_EQ(a.total_blocks, b.total_blocks);
  EXPECT_EQ(a.journal_start, b.journal_start);
  EXPECT_EQ(a.journal_blocks, b.journal_blocks);
  EXPECT_EQ(a.inode_table_start, b.inode_table_start);
  EXPECT_EQ(a.inode_table_blocks, b.inode_table_blocks);
  EXPECT_EQ(a.inode_count, b.inode_count);
  EXPECT_EQ(a.bitmap_start, b.bitmap_start);
  EXPECT_EQ(a.bitmap_blocks, b.bitmap_blocks);
  EXPECT_EQ(a.data_start, b.data_start);
  EXPECT_EQ(a.features_compat, b.features_compat);
  EXPECT_EQ(a.features_ro_compat, b.features_ro_compat);
  EXPECT_EQ(a.features_incompat, b.features_incompat);
  EXPECT_EQ(a.root_inode, b.root_inode);
  EXPECT_EQ(a.created_ns, b.created_ns);
  EXPECT_EQ(a.label, b.label);
}

// Encodes `sb` after `change` and returns the decoder's status.
Status DecodeChanged(const std::function<void(Superblock&)>& change) {
  Superblock sb = ValidSuperblock();
  change(sb);
  Block block;
  EncodeSuperblock(sb, 0, 0, block);
  return DecodeSuperblock(block, 0).status();
}

TEST(Superblock, RoundTrip) {
  Superblock sb = ValidSuperblock();
  sb.features_compat = 0x8000;
  for (uint64_t number : {kSuperblockPrimary, kSuperblockBackup}) {
    Block block;
    EncodeSuperblock(sb, number, 9, block);
    Result<Superblock> decoded = DecodeSuperblock(block, number);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectEqual(*decoded, sb);
    EXPECT_EQ(DecodeHeader(block).sequence, 9u);
  }
}

TEST(Superblock, GoldenOffsets) {
  Superblock sb = ValidSuperblock();
  Block block;
  EncodeSuperblock(sb, 0, 0, block);
  EXPECT_EQ(std::to_integer<uint8_t>(block[32]), 0xA0);  // uuid
  EXPECT_EQ(DecodeFixed32(block.data() + 48), 4096u);
  EXPECT_EQ(DecodeFixed32(block.data() + 52), 256u);
  EXPECT_EQ(DecodeFixed64(block.data() + 56), sb.total_blocks);
  EXPECT_EQ(DecodeFixed64(block.data() + 64), sb.journal_start);
  EXPECT_EQ(DecodeFixed64(block.data() + 96), sb.inode_count);
  EXPECT_EQ(DecodeFixed64(block.data() + 120), sb.data_start);
  EXPECT_EQ(DecodeFixed64(block.data() + 152), 1u);
  EXPECT_EQ(static_cast<int64_t>(DecodeFixed64(block.data() + 160)), -5);
  EXPECT_EQ(std::to_integer<char>(block[168]), 's');
  EXPECT_EQ(block[168 + sb.label.size()], std::byte{0});
}

TEST(Superblock, BadMagic) {
  Block block{};
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "bad magic"));
}

TEST(Superblock, BadChecksum) {
  Block block;
  EncodeSuperblock(ValidSuperblock(), 0, 0, block);
  block[60] ^= std::byte{0x10};
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "checksum"));
}

TEST(Superblock, WrongKind) {
  Block block{};
  SealBlock(block, BlockKind::kInodeTable, 0, 0);
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "expected superblock"));
}

TEST(Superblock, WrongBlockNumber) {
  Block block;
  EncodeSuperblock(ValidSuperblock(), kSuperblockBackup, 0, block);
  EXPECT_TRUE(
      IsCorruption(DecodeSuperblock(block, kSuperblockPrimary).status(), "header says block 1"));
}

TEST(Superblock, UnknownVersion) {
  Block block;
  EncodeSuperblock(ValidSuperblock(), 0, 0, block);
  EncodeFixed16(block.data() + 6, 2);
  testing::Reseal(block);
  EXPECT_EQ(DecodeSuperblock(block, 0).status().code(), Code::kNotSupported);
}

TEST(Superblock, UnknownIncompatFeature) {
  Status status = DecodeChanged([](Superblock& sb) { sb.features_incompat = 0x4; });
  EXPECT_EQ(status.code(), Code::kNotSupported);
  EXPECT_NE(status.message().find("unknown incompatible feature bits 0x4"), std::string::npos)
      << status.message();
}

TEST(Superblock, UnknownIncompatFeatureCheckedBeforeGeometry) {
  // A future feature may change the layout: report it, not the geometry.
  Status status = DecodeChanged([](Superblock& sb) {
    sb.features_incompat = 1ull << 63;
    sb.inode_count = 1;
  });
  EXPECT_EQ(status.code(), Code::kNotSupported) << status.ToString();
}

TEST(Superblock, UnknownRoCompatFeatureIsReturned) {
  Superblock sb = ValidSuperblock();
  sb.features_ro_compat = 0x10;
  Block block;
  EncodeSuperblock(sb, 0, 0, block);
  Result<Superblock> decoded = DecodeSuperblock(block, 0);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->features_ro_compat & ~kKnownRoCompatFeatures, 0x10u);
}

TEST(Superblock, ReservedFieldNonZero) {
  Block block;
  EncodeSuperblock(ValidSuperblock(), 0, 0, block);
  Put32(block, 4092, 1);
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "reserved"));
}

TEST(Superblock, WrongBlockSize) {
  EXPECT_TRUE(
      IsCorruption(DecodeChanged([](Superblock& sb) { sb.block_size = 8192; }), "block_size 8192"));
}

TEST(Superblock, WrongInodeSize) {
  EXPECT_TRUE(
      IsCorruption(DecodeChanged([](Superblock& sb) { sb.inode_size = 128; }), "inode_size 128"));
}

TEST(Superblock, WrongRootInode) {
  EXPECT_TRUE(
      IsCorruption(DecodeChanged([](Superblock& sb) { sb.root_inode = 2; }), "root_inode 2"));
}

TEST(Superblock, LabelNotTerminated) {
  Block block;
  EncodeSuperblock(ValidSuperblock(), 0, 0, block);
  for (size_t i = 168; i < 232; ++i) block[i] = std::byte{'x'};
  testing::Reseal(block);
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "label is not NUL-terminated"));
}

TEST(Superblock, LabelPaddingNonZero) {
  Block block;
  EncodeSuperblock(ValidSuperblock(), 0, 0, block);
  block[230] = std::byte{'x'};
  testing::Reseal(block);
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "label padding"));
}

TEST(Superblock, LabelNotUtf8) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.label = "a\xC3"; }),
                           "label is not UTF-8"));
  EXPECT_TRUE(
      IsCorruption(DecodeChanged([](Superblock& sb) { sb.label = "\x80"; }), "label is not UTF-8"));
}

TEST(Superblock, LabelOf63Bytes) {
  Superblock sb = ValidSuperblock();
  sb.label = std::string(63, 'L');
  Block block;
  EncodeSuperblock(sb, 0, 0, block);
  Result<Superblock> decoded = DecodeSuperblock(block, 0);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->label, sb.label);
}

// ------------------------------------------------------------ geometry rules

TEST(SuperblockGeometry, InodeCountMismatch) {
  EXPECT_TRUE(
      IsCorruption(DecodeChanged([](Superblock& sb) { sb.inode_count += 1; }), "inode_count"));
}

TEST(SuperblockGeometry, BitmapBlocksMismatch) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) {
                             sb.bitmap_blocks += 1;
                             sb.data_start += 1;
                           }),
                           "bitmap_blocks"));
}

TEST(SuperblockGeometry, JournalOverlapsSuperblocks) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.journal_start = 1; }),
                           "journal starts at 1"));
}

TEST(SuperblockGeometry, InodeTableInsideJournal) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.inode_table_start -= 1; }),
                           "inode table starts at"));
}

TEST(SuperblockGeometry, BitmapInsideInodeTable) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.bitmap_start -= 1; }),
                           "bitmap starts at"));
}

TEST(SuperblockGeometry, DataInsideBitmap) {
  EXPECT_TRUE(
      IsCorruption(DecodeChanged([](Superblock& sb) { sb.data_start -= 1; }), "data starts at"));
}

TEST(SuperblockGeometry, DataStartAtEnd) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.data_start = sb.total_blocks; }),
                           "data_start"));
}

TEST(SuperblockGeometry, RegionPastTotalBlocks) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.journal_blocks = 1ull << 40; }),
                           "journal blocks"));
  // Sums that would overflow 64 bits are still caught.
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) {
                             sb.bitmap_start = UINT64_MAX - 1;
                             sb.bitmap_blocks = 2;
                           }),
                           "bitmap blocks"));
}

TEST(SuperblockGeometry, TotalBlocksTooSmall) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.total_blocks = 100; }),
                           "total_blocks 100"));
}

TEST(SuperblockGeometry, TinyJournal) {
  EXPECT_TRUE(IsCorruption(DecodeChanged([](Superblock& sb) { sb.journal_blocks = 15; }),
                           "journal_blocks 15"));
}

TEST(SuperblockGeometry, GapsBetweenRegionsAreAllowed) {
  // The rules are order and containment; a later mkfs may align regions.
  Status status = DecodeChanged([](Superblock& sb) {
    sb.inode_table_start += 1;
    sb.bitmap_start += 1;
    sb.data_start += 10;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST(SuperblockGeometry, RawFieldChangeIsCaught) {
  // The same check, reached by editing bytes instead of the struct.
  Block block;
  EncodeSuperblock(ValidSuperblock(), 0, 0, block);
  Put64(block, 112, 0);  // bitmap_blocks
  EXPECT_TRUE(IsCorruption(DecodeSuperblock(block, 0).status(), "bitmap_blocks 0"));
}

}  // namespace
}  // namespace mdfs::format
