#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"
#include "util/crc32c.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;
using testing::Put32;

Block SealedBlock(BlockKind kind = BlockKind::kExtentBlock, uint64_t number = 17) {
  Block block{};
  block[100] = std::byte{0xAB};  // some payload
  SealBlock(block, kind, number, 42);
  return block;
}

TEST(BlockHeader, SealThenCheckRoundTrip) {
  Block block = SealedBlock();
  Result<BlockHeader> header = CheckBlock(block, BlockKind::kExtentBlock, 17);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->magic, kMagic);
  EXPECT_EQ(header->kind, BlockKind::kExtentBlock);
  EXPECT_EQ(header->version, kFormatVersion);
  EXPECT_EQ(header->block_number, 17u);
  EXPECT_EQ(header->sequence, 42u);
  EXPECT_EQ(block[100], std::byte{0xAB});  // sealing leaves the payload alone
}

TEST(BlockHeader, GoldenBytes) {
  Block block = SealedBlock(BlockKind::kBitmap, 0x0102);
  const uint8_t expected[] = {0x4D, 0x44, 0x46, 0x53,  // "MDFS"
                              0x03, 0x00,              // kind: bitmap
                              0x01, 0x00};             // version 1
  for (size_t i = 0; i < sizeof(expected); ++i) {
    EXPECT_EQ(std::to_integer<uint8_t>(block[i]), expected[i]) << "byte " << i;
  }
  EXPECT_EQ(DecodeFixed32(block.data() + 12), 0u);
  EXPECT_EQ(DecodeFixed64(block.data() + 16), 0x0102u);
  EXPECT_EQ(DecodeFixed64(block.data() + 24), 42u);
  // The checksum is CRC32C of the block with the crc field zeroed.
  Block zeroed = block;
  EncodeFixed32(zeroed.data() + 8, 0);
  EXPECT_EQ(DecodeFixed32(block.data() + 8), Crc32c(zeroed));
}

TEST(BlockHeader, DecodeHeaderDoesNotCheck) {
  Block block{};
  block[0] = std::byte{1};
  BlockHeader header = DecodeHeader(block);
  EXPECT_EQ(header.magic, 1u);
  EXPECT_EQ(static_cast<uint16_t>(header.kind), 0u);
}

TEST(BlockHeader, BadMagic) {
  Block zeros{};
  Status status = CheckBlock(zeros, BlockKind::kSuperblock, 17).status();
  EXPECT_TRUE(IsCorruption(status, "block 17: bad magic 0x00000000"));
}

TEST(BlockHeader, BadMagicReportedBeforeChecksum) {
  Block block = SealedBlock();
  block[0] = std::byte{0};  // also breaks the checksum
  EXPECT_TRUE(IsCorruption(CheckBlock(block, BlockKind::kExtentBlock, 17).status(), "bad magic"));
}

TEST(BlockHeader, UnknownVersion) {
  Block block = SealedBlock();
  EncodeFixed16(block.data() + 6, 7);
  testing::Reseal(block);
  Status status = CheckBlock(block, BlockKind::kExtentBlock, 17).status();
  EXPECT_EQ(status.code(), Code::kNotSupported);
  EXPECT_NE(status.message().find("format version 7 is newer than this mdfs (1)"),
            std::string::npos)
      << status.message();
}

TEST(BlockHeader, VersionZeroIsCorruption) {
  Block block = SealedBlock();
  EncodeFixed16(block.data() + 6, 0);
  testing::Reseal(block);
  EXPECT_TRUE(IsCorruption(CheckBlock(block, BlockKind::kExtentBlock, 17).status(),
                           "bad format version 0"));
}

TEST(BlockHeader, WrongKind) {
  Block block = SealedBlock(BlockKind::kBitmap);
  EXPECT_TRUE(IsCorruption(CheckBlock(block, BlockKind::kSuperblock, 17).status(),
                           "kind is bitmap, expected superblock"));
}

TEST(BlockHeader, UnknownKind) {
  Block block = SealedBlock(static_cast<BlockKind>(99));
  EXPECT_TRUE(
      IsCorruption(CheckBlock(block, BlockKind::kSuperblock, 17).status(), "unknown kind 99"));
}

TEST(BlockHeader, BadChecksum) {
  Block block = SealedBlock();
  block[4095] ^= std::byte{1};  // the last byte is covered too
  EXPECT_TRUE(
      IsCorruption(CheckBlock(block, BlockKind::kExtentBlock, 17).status(), "checksum mismatch"));
}

TEST(BlockHeader, WrongBlockNumber) {
  Block block = SealedBlock(BlockKind::kExtentBlock, 18);
  EXPECT_TRUE(IsCorruption(CheckBlock(block, BlockKind::kExtentBlock, 17).status(),
                           "block 17: header says block 18"));
}

TEST(BlockHeader, ReservedFieldNonZero) {
  Block block = SealedBlock();
  Put32(block, 12, 1);
  EXPECT_TRUE(IsCorruption(CheckBlock(block, BlockKind::kExtentBlock, 17).status(), "reserved"));
}

TEST(BlockHeader, KindNames) {
  EXPECT_STREQ(BlockKindName(BlockKind::kSuperblock), "superblock");
  EXPECT_STREQ(BlockKindName(BlockKind::kJournalCommit), "journal commit");
  EXPECT_STREQ(BlockKindName(static_cast<BlockKind>(0)), "unknown");
}

TEST(BlockHeader, FrozenValues) {
  EXPECT_EQ(kMagic, 0x5346444Du);
  EXPECT_EQ(kFormatVersion, 1);
  EXPECT_EQ(static_cast<int>(BlockKind::kSuperblock), 1);
  EXPECT_EQ(static_cast<int>(BlockKind::kInodeTable), 2);
  EXPECT_EQ(static_cast<int>(BlockKind::kBitmap), 3);
  EXPECT_EQ(static_cast<int>(BlockKind::kExtentBlock), 4);
  EXPECT_EQ(static_cast<int>(BlockKind::kDirectoryBlock), 5);
  EXPECT_EQ(static_cast<int>(BlockKind::kJournalDescriptor), 6);
  EXPECT_EQ(static_cast<int>(BlockKind::kJournalCommit), 7);
  EXPECT_EQ(kExtentFlagUnwritten, 1u);
  EXPECT_EQ(kInodeFlagSealed, 1u);
  EXPECT_EQ(kDescriptorFlagMore, 1u);
}

}  // namespace
}  // namespace mdfs::format
