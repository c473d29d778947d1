#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;
using testing::Put32;
using testing::Put64;

constexpr uint64_t kJournalBlock = 2;

JournalDescriptor Descriptor(size_t count, bool more = false) {
  JournalDescriptor d;
  d.sequence = 77;
  d.more = more;
  for (size_t i = 0; i < count; ++i) d.targets.push_back(1000 + i);
  return d;
}

Block Encode(const JournalDescriptor& d) {
  Block block;
  EncodeJournalDescriptor(d, kJournalBlock, block);
  return block;
}

Block Encode(const JournalCommit& c) {
  Block block;
  EncodeJournalCommit(c, kJournalBlock, block);
  return block;
}

Status DecodeD(const Block& block) {
  return DecodeJournalDescriptor(block, kJournalBlock).status();
}
Status DecodeC(const Block& block) { return DecodeJournalCommit(block, kJournalBlock).status(); }

TEST(JournalDescriptor, RoundTrip) {
  for (size_t count : {size_t{1}, size_t{3}, kTargetsPerDescriptor}) {
    for (bool more : {false, true}) {
      JournalDescriptor d = Descriptor(count, more);
      Result<JournalDescriptor> decoded = DecodeJournalDescriptor(Encode(d), kJournalBlock);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(decoded->sequence, 77u);
      EXPECT_EQ(decoded->more, more);
      EXPECT_EQ(decoded->targets, d.targets);
    }
  }
}

TEST(JournalDescriptor, GoldenOffsets) {
  Block block = Encode(Descriptor(2, true));
  EXPECT_EQ(DecodeHeader(block).sequence, 77u);
  EXPECT_EQ(DecodeFixed32(block.data() + 32), 2u);
  EXPECT_EQ(DecodeFixed32(block.data() + 36), kDescriptorFlagMore);
  EXPECT_EQ(DecodeFixed64(block.data() + 40), 1000u);
  EXPECT_EQ(DecodeFixed64(block.data() + 48), 1001u);
}

TEST(JournalDescriptor, CountZero) {
  Block block = Encode(Descriptor(1));
  Put32(block, 32, 0);
  EXPECT_TRUE(IsCorruption(DecodeD(block), "count 0 outside 1..507"));
}

TEST(JournalDescriptor, CountTooLarge) {
  // TruncatedStructure: 508 targets would run past the block.
  Block block = Encode(Descriptor(507));
  Put32(block, 32, 508);
  EXPECT_TRUE(IsCorruption(DecodeD(block), "count 508 outside 1..507"));
}

TEST(JournalDescriptor, CountSmallerThanTargets) {
  Block block = Encode(Descriptor(3));
  Put32(block, 32, 2);
  EXPECT_TRUE(IsCorruption(DecodeD(block), "unused target slots"));
}

TEST(JournalDescriptor, UnknownFlag) {
  Block block = Encode(Descriptor(1));
  Put32(block, 36, 0x3);
  EXPECT_TRUE(IsCorruption(DecodeD(block), "unknown flags 0x2"));
}

TEST(JournalDescriptor, TargetOutOfRange) {
  Block block = Encode(Descriptor(2));
  Put64(block, 48, 1ull << 44);
  EXPECT_TRUE(IsCorruption(DecodeD(block), "target 1"));
}

TEST(JournalDescriptor, BadChecksum) {
  Block block = Encode(Descriptor(2));
  block[44] ^= std::byte{1};
  EXPECT_TRUE(IsCorruption(DecodeD(block), "checksum"));
}

TEST(JournalDescriptor, WrongKind) {
  JournalCommit c{77, 2, 0, 1};
  EXPECT_TRUE(IsCorruption(DecodeD(Encode(c)), "kind is journal commit"));
}

TEST(JournalDescriptor, WrongBlockNumber) {
  Block block = Encode(Descriptor(1));
  EXPECT_TRUE(IsCorruption(DecodeJournalDescriptor(block, 3).status(), "header says block 2"));
}

TEST(JournalDescriptor, BadMagic) {
  Block zeros{};  // a freshly zeroed journal: no transaction
  EXPECT_TRUE(IsCorruption(DecodeD(zeros), "bad magic"));
}

TEST(JournalCommit, RoundTrip) {
  JournalCommit c{77, 510, 0xDEADBEEF, 508};  // 2 descriptors, 508 images
  Result<JournalCommit> decoded = DecodeJournalCommit(Encode(c), kJournalBlock);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->sequence, 77u);
  EXPECT_EQ(decoded->total_blocks, 510u);
  EXPECT_EQ(decoded->data_crc32c, 0xDEADBEEFu);
  EXPECT_EQ(decoded->image_count, 508u);
}

TEST(JournalCommit, GoldenOffsets) {
  Block block = Encode(JournalCommit{5, 4, 0x01020304, 3});
  EXPECT_EQ(DecodeFixed32(block.data() + 32), 4u);
  EXPECT_EQ(DecodeFixed32(block.data() + 36), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(block.data() + 40), 3u);
  EXPECT_EQ(DecodeHeader(block).sequence, 5u);
}

TEST(JournalCommit, ImageCountZero) {
  EXPECT_TRUE(IsCorruption(DecodeC(Encode(JournalCommit{1, 1, 0, 0})), "image_count 0"));
}

TEST(JournalCommit, ImageCountNotBelowTotal) {
  EXPECT_TRUE(IsCorruption(DecodeC(Encode(JournalCommit{1, 3, 0, 3})), "image_count 3"));
  EXPECT_TRUE(IsCorruption(DecodeC(Encode(JournalCommit{1, 3, 0, UINT64_MAX})), "image_count"));
}

TEST(JournalCommit, TooFewDescriptors) {
  // One descriptor cannot list 508 images.
  EXPECT_TRUE(IsCorruption(DecodeC(Encode(JournalCommit{1, 509, 0, 508})),
                           "1 descriptors cannot list 508 images"));
}

TEST(JournalCommit, TooManyDescriptors) {
  EXPECT_TRUE(IsCorruption(DecodeC(Encode(JournalCommit{1, 10, 0, 2})), "8 descriptors"));
}

TEST(JournalCommit, ReservedFieldNonZero) {
  Block block = Encode(JournalCommit{1, 2, 0, 1});
  Put32(block, 48, 1);
  EXPECT_TRUE(IsCorruption(DecodeC(block), "reserved"));
}

TEST(JournalCommit, WrongKind) {
  EXPECT_TRUE(IsCorruption(DecodeC(Encode(Descriptor(1))), "expected journal commit"));
}

TEST(JournalCommit, BadChecksum) {
  Block block = Encode(JournalCommit{1, 2, 0, 1});
  block[36] ^= std::byte{0x80};
  EXPECT_TRUE(IsCorruption(DecodeC(block), "checksum"));
}

}  // namespace
}  // namespace mdfs::format
