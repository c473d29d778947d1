#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;
using testing::Put32;
using testing::Put64;

constexpr uint64_t kHere = 3000;

ExtentBlock Sample(size_t count) {
  ExtentBlock eb;
  eb.next_block = 3001;
  for (size_t i = 0; i < count; ++i) {
    eb.extents.push_back({i * 4, 10000 + i * 8, 3, i % 2 == 0 ? 0u : kExtentFlagUnwritten});
  }
  return eb;
}

Block Encode(const ExtentBlock& eb) {
  Block block;
  EncodeExtentBlock(eb, kHere, 5, block);
  return block;
}

Status Decode(const Block& block) { return DecodeExtentBlock(block, kHere).status(); }

TEST(ExtentBlock, RoundTrip) {
  for (size_t count : {size_t{1}, size_t{7}, kExtentsPerBlock}) {
    ExtentBlock eb = Sample(count);
    eb.next_block = count == 1 ? 0 : 3001;
    Result<ExtentBlock> decoded = DecodeExtentBlock(Encode(eb), kHere);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->next_block, eb.next_block);
    EXPECT_EQ(decoded->extents, eb.extents);
  }
}

TEST(ExtentBlock, GoldenOffsets) {
  Block block = Encode(Sample(2));
  EXPECT_EQ(DecodeFixed64(block.data() + 32), 3001u);
  EXPECT_EQ(DecodeFixed32(block.data() + 40), 2u);
  EXPECT_EQ(DecodeFixed64(block.data() + 48 + 24), 4u);  // extent 1 file_block
  EXPECT_EQ(DecodeFixed64(block.data() + 48 + 24 + 8), 10008u);
  EXPECT_EQ(DecodeFixed32(block.data() + 48 + 24 + 16), 3u);
  EXPECT_EQ(DecodeFixed32(block.data() + 48 + 24 + 20), kExtentFlagUnwritten);
}

TEST(ExtentBlock, BadChecksum) {
  Block block = Encode(Sample(3));
  block[50] ^= std::byte{4};
  EXPECT_TRUE(IsCorruption(Decode(block), "checksum"));
}

TEST(ExtentBlock, WrongKind) {
  Block block{};
  SealBlock(block, BlockKind::kDirectoryBlock, kHere, 0);
  EXPECT_TRUE(IsCorruption(Decode(block), "expected extent block"));
}

TEST(ExtentBlock, WrongBlockNumber) {
  Block block = Encode(Sample(3));
  EXPECT_TRUE(IsCorruption(DecodeExtentBlock(block, kHere + 1).status(), "header says block"));
}

TEST(ExtentBlock, CountZero) {
  Block block = Encode(Sample(1));
  Put32(block, 40, 0);
  EXPECT_TRUE(IsCorruption(Decode(block), "count 0 outside 1..168"));
}

TEST(ExtentBlock, TruncatedStructure) {
  // A count that points past the end of the block.
  Block block = Encode(Sample(3));
  Put32(block, 40, 169);
  EXPECT_TRUE(IsCorruption(Decode(block), "count 169"));
  Put32(block, 40, UINT32_MAX);
  EXPECT_TRUE(IsCorruption(Decode(block), "count 4294967295"));
}

TEST(ExtentBlock, CountSmallerThanContents) {
  Block block = Encode(Sample(3));
  Put32(block, 40, 2);
  EXPECT_TRUE(IsCorruption(Decode(block), "bytes after extent 1 are not zero"));
}

TEST(ExtentBlock, ReservedFieldNonZero) {
  Block block = Encode(Sample(3));
  Put32(block, 44, 1);
  EXPECT_TRUE(IsCorruption(Decode(block), "reserved"));
}

TEST(ExtentBlock, ZeroLengthExtent) {
  ExtentBlock eb = Sample(3);
  eb.extents[2].block_count = 0;
  EXPECT_TRUE(
      IsCorruption(Decode(Encode(eb)), "block 3000 (extent block): extent 2: block_count 0"));
}

TEST(ExtentBlock, UnknownExtentFlag) {
  ExtentBlock eb = Sample(3);
  eb.extents[1].flags = 0x80000000u;
  EXPECT_TRUE(IsCorruption(Decode(Encode(eb)), "extent 1: unknown flags 0x80000000"));
}

TEST(ExtentBlock, ExtentOverflow) {
  ExtentBlock eb = Sample(1);
  eb.extents[0].file_block = UINT64_MAX - 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(eb)), "passes the largest file"));
}

TEST(ExtentBlock, NotSorted) {
  ExtentBlock eb = Sample(3);
  eb.extents[2].file_block = 0;
  EXPECT_TRUE(IsCorruption(Decode(Encode(eb)), "extent 2: file_block 0 overlaps"));
}

TEST(ExtentBlock, NextPointsToItself) {
  ExtentBlock eb = Sample(2);
  eb.next_block = kHere;
  EXPECT_TRUE(IsCorruption(Decode(Encode(eb)), "points to itself"));
}

TEST(ExtentBlock, NextOutOfRange) {
  Block block = Encode(Sample(2));
  Put64(block, 32, UINT64_MAX);
  EXPECT_TRUE(IsCorruption(Decode(block), "out of range"));
}

}  // namespace
}  // namespace mdfs::format
