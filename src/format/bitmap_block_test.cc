#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;

constexpr size_t kBitsBytes = kBitsPerBitmapBlock / 8;

TEST(BitmapBlock, RoundTrip) {
  std::vector<std::byte> bits(kBitsBytes);
  for (size_t i = 0; i < bits.size(); ++i) bits[i] = static_cast<std::byte>(i * 37);
  Block block;
  EncodeBitmapBlock(bits, 900, 4, block);
  Result<std::vector<std::byte>> decoded = DecodeBitmapBlock(block, 900);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, bits);
  EXPECT_EQ(DecodeHeader(block).sequence, 4u);
}

TEST(BitmapBlock, BitLayoutIsLsbFirst) {
  std::vector<std::byte> bits(kBitsBytes);
  bits[1] = std::byte{0x02};  // bit 9: device block 9 of this bitmap block
  Block block;
  EncodeBitmapBlock(bits, 900, 0, block);
  EXPECT_EQ(block[32 + 1], std::byte{0x02});
  EXPECT_EQ(kBitsPerBitmapBlock, 32512u);
}

TEST(BitmapBlock, ShortInputIsZeroPadded) {
  std::vector<std::byte> bits(10, std::byte{0xFF});
  Block block;
  EncodeBitmapBlock(bits, 900, 0, block);
  Result<std::vector<std::byte>> decoded = DecodeBitmapBlock(block, 900);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), kBitsBytes);
  EXPECT_EQ((*decoded)[9], std::byte{0xFF});
  EXPECT_EQ((*decoded)[10], std::byte{0});
}

TEST(BitmapBlock, BadMagic) {
  Block zeros{};
  EXPECT_TRUE(IsCorruption(DecodeBitmapBlock(zeros, 900).status(), "bad magic"));
}

TEST(BitmapBlock, BadChecksum) {
  std::vector<std::byte> bits(kBitsBytes);
  Block block;
  EncodeBitmapBlock(bits, 900, 0, block);
  block[2000] = std::byte{1};
  EXPECT_TRUE(IsCorruption(DecodeBitmapBlock(block, 900).status(), "checksum"));
}

TEST(BitmapBlock, WrongKind) {
  Block block{};
  SealBlock(block, BlockKind::kSuperblock, 900, 0);
  EXPECT_TRUE(IsCorruption(DecodeBitmapBlock(block, 900).status(), "expected bitmap"));
}

TEST(BitmapBlock, WrongBlockNumber) {
  std::vector<std::byte> bits(kBitsBytes);
  Block block;
  EncodeBitmapBlock(bits, 900, 0, block);
  EXPECT_TRUE(IsCorruption(DecodeBitmapBlock(block, 901).status(), "header says block 900"));
}

}  // namespace
}  // namespace mdfs::format
