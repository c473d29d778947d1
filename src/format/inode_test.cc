#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;
using Slot = std::array<std::byte, kInodeSize>;

InodeRecord RegularFile() {
  InodeRecord inode;
  inode.mode = 0100644;
  inode.flags = kInodeFlagSealed;
  inode.uid = 1000;
  inode.gid = 100;
  inode.size = 3 * 4096 + 17;
  inode.nlink = 2;
  inode.generation = 7;
  inode.atime_ns = -1;
  inode.mtime_ns = 1'700'000'000'123'456'789;
  inode.ctime_ns = 3;
  inode.btime_ns = 4;
  inode.extent_count = 2;
  inode.inline_extents = {{0, 5000, 2, 0}, {2, 9000, 2, kExtentFlagUnwritten}};
  return inode;
}

Slot Encode(const InodeRecord& inode) {
  Slot slot;
  EncodeInode(inode, slot);
  return slot;
}

Status Decode(const Slot& slot) { return DecodeInode(slot).status(); }

void ExpectEqual(const InodeRecord& a, const InodeRecord& b) {
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.gid, b.gid);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.nlink, b.nlink);
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.atime_ns, b.atime_ns);
  EXPECT_EQ(a.mtime_ns, b.mtime_ns);
  EXPECT_EQ(a.ctime_ns, b.ctime_ns);
  EXPECT_EQ(a.btime_ns, b.btime_ns);
  EXPECT_EQ(a.parent, b.parent);
  EXPECT_EQ(a.extent_count, b.extent_count);
  EXPECT_EQ(a.extent_block, b.extent_block);
  EXPECT_EQ(a.inline_extents, b.inline_extents);
}

void ExpectRoundTrip(const InodeRecord& inode) {
  Slot slot = Encode(inode);
  Result<InodeRecord> decoded = DecodeInode(slot);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectEqual(*decoded, inode);
  EXPECT_EQ(Encode(*decoded), slot);
}

TEST(Inode, RoundTripRegularFile) { ExpectRoundTrip(RegularFile()); }

TEST(Inode, RoundTripSixInlineExtents) {
  InodeRecord inode = RegularFile();
  inode.inline_extents.clear();
  for (uint64_t i = 0; i < kInlineExtents; ++i) {
    inode.inline_extents.push_back({i * 10, 1000 + i * 100, 10, 0});
  }
  inode.extent_count = kInlineExtents;
  ExpectRoundTrip(inode);
}

TEST(Inode, RoundTripExtentBlockMap) {
  InodeRecord inode = RegularFile();
  inode.inline_extents.clear();
  inode.extent_count = 500;
  inode.extent_block = 777;
  ExpectRoundTrip(inode);
}

TEST(Inode, RoundTripDirectoryAndSymlink) {
  InodeRecord dir;
  dir.mode = 040755;
  dir.nlink = 3;
  dir.parent = 1;
  dir.size = 4096;
  dir.extent_count = 1;
  dir.inline_extents = {{0, 600, 1, 0}};
  ExpectRoundTrip(dir);
  InodeRecord link;
  link.mode = 0120777;
  link.nlink = 1;
  link.size = 4095;
  ExpectRoundTrip(link);
}

TEST(Inode, RoundTripFreeKeepsGeneration) {
  InodeRecord free_inode;
  free_inode.generation = 12;
  ExpectRoundTrip(free_inode);
  EXPECT_FALSE(free_inode.in_use());
}

TEST(Inode, GoldenOffsets) {
  Slot slot = Encode(RegularFile());
  EXPECT_EQ(DecodeFixed32(slot.data() + 0), 0100644u);
  EXPECT_EQ(DecodeFixed32(slot.data() + 4), kInodeFlagSealed);
  EXPECT_EQ(DecodeFixed64(slot.data() + 16), 3u * 4096 + 17);
  EXPECT_EQ(DecodeFixed32(slot.data() + 28), 7u);
  EXPECT_EQ(DecodeFixed64(slot.data() + 32), UINT64_MAX);  // atime -1
  EXPECT_EQ(DecodeFixed64(slot.data() + 72), 2u);
  EXPECT_EQ(DecodeFixed64(slot.data() + 96 + 24 + 8), 9000u);  // extent 1 device_block
  EXPECT_EQ(DecodeFixed32(slot.data() + 96 + 24 + 20), kExtentFlagUnwritten);
}

TEST(Inode, NumberToLocation) {
  EXPECT_EQ(InodeTableBlockIndex(1), 0u);
  EXPECT_EQ(InodeByteOffset(1), 256u);
  EXPECT_EQ(InodeTableBlockIndex(15), 0u);
  EXPECT_EQ(InodeByteOffset(15), 15u * 256);
  EXPECT_EQ(InodeTableBlockIndex(16), 1u);
  EXPECT_EQ(InodeByteOffset(16), 256u);
}

TEST(Inode, ReservedFieldNonZero) {
  for (size_t offset : {88u, 95u, 240u, 255u}) {
    Slot slot = Encode(RegularFile());
    slot[offset] = std::byte{1};
    EXPECT_TRUE(IsCorruption(Decode(slot), "reserved")) << offset;
  }
}

TEST(Inode, UnknownFlag) {
  InodeRecord inode = RegularFile();
  inode.flags = 0x4;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "unknown flags 0x4"));
}

TEST(Inode, UnknownFileType) {
  InodeRecord inode = RegularFile();
  inode.mode = 010644;  // FIFO
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "unknown file type"));
  inode.mode = 0644;  // no type, but not free
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "unknown file type"));
}

TEST(Inode, ModeUnknownBits) {
  InodeRecord inode = RegularFile();
  inode.mode |= 1u << 20;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "unknown bits"));
}

TEST(Inode, FreeWithLinks) {
  InodeRecord inode;
  inode.nlink = 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "free (mode 0) with nlink 1"));
}

TEST(Inode, FreeWithExtents) {
  InodeRecord inode;
  inode.extent_count = 1;
  inode.inline_extents = {{0, 10, 1, 0}};
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "free (mode 0) with extent_count 1"));
  InodeRecord chained;
  chained.extent_block = 9;
  EXPECT_TRUE(IsCorruption(Decode(Encode(chained)), "extent_block 9"));
}

TEST(Inode, ZeroLengthExtent) {
  InodeRecord inode = RegularFile();
  inode.inline_extents[1].block_count = 0;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "extent 1: block_count 0"));
}

TEST(Inode, UnknownExtentFlag) {
  InodeRecord inode = RegularFile();
  inode.inline_extents[0].flags = 0x6;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "extent 0: unknown flags 0x6"));
}

TEST(Inode, ExtentFileBlockOverflow) {
  InodeRecord inode = RegularFile();
  inode.inline_extents[1].file_block = UINT64_MAX;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "passes the largest file"));
  inode.inline_extents[1].file_block = (1ull << 32) - 1;  // ends one past 2^32
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "passes the largest file"));
}

TEST(Inode, ExtentDeviceBlockOverflow) {
  InodeRecord inode = RegularFile();
  inode.inline_extents[0].device_block = UINT64_MAX - 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "passes the largest device"));
}

TEST(Inode, ExtentsNotSorted) {
  InodeRecord inode = RegularFile();
  std::swap(inode.inline_extents[0], inode.inline_extents[1]);
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "extent 1: file_block 0 overlaps"));
}

TEST(Inode, ExtentsOverlap) {
  InodeRecord inode = RegularFile();
  inode.inline_extents[1].file_block = 1;  // extent 0 covers [0, 2)
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "overlaps"));
}

TEST(Inode, InlineExtentCountPastCapacity) {
  // TruncatedStructure: a count pointing past the inline area.
  InodeRecord inode = RegularFile();
  inode.extent_count = 7;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "extent_count 7 > 6 with no extent_block"));
}

TEST(Inode, InlineExtentCountMismatch) {
  // extent_count says 1 but two slots are filled.
  InodeRecord inode = RegularFile();
  inode.extent_count = 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "unused inline extent slots"));
}

TEST(Inode, ExtentBlockWithFewExtents) {
  InodeRecord inode = RegularFile();
  inode.inline_extents.clear();
  inode.extent_block = 50;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "extent_count 2 <= 6 with extent_block 50"));
}

TEST(Inode, ExtentBlockWithInlineLeftovers) {
  InodeRecord inode = RegularFile();  // two inline extents encoded...
  inode.extent_count = 40;            // ...but the map is in a chain
  inode.extent_block = 50;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "unused inline extent slots"));
}

TEST(Inode, ExtentBlockOutOfRange) {
  InodeRecord inode = RegularFile();
  inode.inline_extents.clear();
  inode.extent_count = 10;
  inode.extent_block = 1ull << 50;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "out of range"));
}

TEST(Inode, DirectoryWithoutParent) {
  InodeRecord inode;
  inode.mode = 040755;
  inode.nlink = 2;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "a directory needs one"));
}

TEST(Inode, FileWithParent) {
  InodeRecord inode = RegularFile();
  inode.parent = 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "only directories have one"));
}

TEST(Inode, SizeTooLarge) {
  InodeRecord inode = RegularFile();
  inode.size = kMaxFileSize + 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "size"));
}

TEST(Inode, SymlinkSize) {
  InodeRecord link;
  link.mode = 0120777;
  link.nlink = 1;
  link.size = 0;
  EXPECT_TRUE(IsCorruption(Decode(Encode(link)), "symlink size 0"));
  link.size = 4096;
  EXPECT_TRUE(IsCorruption(Decode(Encode(link)), "symlink size 4096"));
}

TEST(Inode, TooManyLinks) {
  InodeRecord inode = RegularFile();
  inode.nlink = kMaxLinkCount + 1;
  EXPECT_TRUE(IsCorruption(Decode(Encode(inode)), "nlink 65001"));
}

}  // namespace
}  // namespace mdfs::format
