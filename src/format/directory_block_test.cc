#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::IsCorruption;
using testing::Put32;

constexpr uint64_t kHere = 4000;
constexpr uint8_t kDir = 4, kRegular = 8, kSymlink = 10;

DirectoryBlock Sample() {
  DirectoryBlock db;
  db.entries = {{12, kRegular, "a.txt"}, {13, kDir, "sub"}, {14, kSymlink, std::string(255, 'n')}};
  return db;
}

Block Encode(const DirectoryBlock& db) {
  Block block;
  EncodeDirectoryBlock(db, kHere, 3, block);
  return block;
}

Status Decode(const Block& block) { return DecodeDirectoryBlock(block, kHere).status(); }

// A directory block whose one entry is written raw, bypassing the encoder's
// REQUIREs: count 1, used_bytes 12 + name.size() unless given.
Block RawEntry(uint16_t name_length, const std::string& name, uint8_t type = kRegular,
               uint64_t ino = 5) {
  Block block{};
  std::byte* entry = block.data() + kDirectoryEntriesOffset;
  EncodeFixed64(entry, ino);
  EncodeFixed16(entry + 8, name_length);
  entry[10] = std::byte{type};
  for (size_t i = 0; i < name.size(); ++i) entry[12 + i] = static_cast<std::byte>(name[i]);
  EncodeFixed32(block.data() + 32, 1);
  EncodeFixed32(block.data() + 36, static_cast<uint32_t>(12 + name.size()));
  SealBlock(block, BlockKind::kDirectoryBlock, kHere, 0);
  return block;
}

void ExpectRoundTrip(const DirectoryBlock& db) {
  Result<DirectoryBlock> decoded = DecodeDirectoryBlock(Encode(db), kHere);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->entries.size(), db.entries.size());
  for (size_t i = 0; i < db.entries.size(); ++i) {
    EXPECT_EQ(decoded->entries[i].ino, db.entries[i].ino);
    EXPECT_EQ(decoded->entries[i].type, db.entries[i].type);
    EXPECT_EQ(decoded->entries[i].name, db.entries[i].name);
  }
}

TEST(DirectoryBlock, RoundTrip) { ExpectRoundTrip(Sample()); }

TEST(DirectoryBlock, EmptyRoundTrip) { ExpectRoundTrip(DirectoryBlock{}); }

TEST(DirectoryBlock, FullBlockRoundTrip) {
  // 4056 bytes exactly: 15 entries of 12 + 255 = 267 bytes make 4005, plus
  // one entry of 51 bytes (39-byte name).
  DirectoryBlock db;
  for (uint64_t i = 0; i < 15; ++i) {
    db.entries.push_back({100 + i, kRegular, std::string(255, static_cast<char>('a' + i))});
  }
  db.entries.push_back({200, kDir, std::string(39, 'z')});
  size_t total = 0;
  for (const auto& e : db.entries) total += e.encoded_size();
  ASSERT_EQ(total, kDirectoryBlockCapacity);
  ExpectRoundTrip(db);
}

TEST(DirectoryBlock, GoldenLayout) {
  Block block = Encode(Sample());
  EXPECT_EQ(DecodeFixed32(block.data() + 32), 3u);
  EXPECT_EQ(DecodeFixed32(block.data() + 36), 17u + 15 + 267);
  EXPECT_EQ(DecodeFixed64(block.data() + 40), 12u);
  EXPECT_EQ(DecodeFixed16(block.data() + 48), 5u);
  EXPECT_EQ(std::to_integer<uint8_t>(block[50]), kRegular);
  EXPECT_EQ(std::to_integer<char>(block[52]), 'a');
  EXPECT_EQ(DecodeFixed64(block.data() + 40 + 17), 13u);  // packed: entry 1 follows at once
}

TEST(DirectoryBlock, BadChecksum) {
  Block block = Encode(Sample());
  block[60] ^= std::byte{1};
  EXPECT_TRUE(IsCorruption(Decode(block), "checksum"));
}

TEST(DirectoryBlock, WrongKind) {
  Block block{};
  SealBlock(block, BlockKind::kExtentBlock, kHere, 0);
  EXPECT_TRUE(IsCorruption(Decode(block), "expected directory block"));
}

TEST(DirectoryBlock, WrongBlockNumber) {
  EXPECT_TRUE(IsCorruption(DecodeDirectoryBlock(Encode(Sample()), 1).status(), "header says"));
}

TEST(DirectoryBlock, ValidRawEntry) {
  EXPECT_TRUE(Decode(RawEntry(3, "abc")).ok());  // the helper itself is sound
}

TEST(DirectoryBlock, NameWithSlash) {
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(3, "a/b")), "entry 0: name contains '/'"));
}

TEST(DirectoryBlock, NameWithNul) {
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(3, std::string("a\0b", 3))), "contains NUL"));
}

TEST(DirectoryBlock, NameDot) {
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(1, ".")), "is . or .."));
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(2, "..")), "is . or .."));
}

TEST(DirectoryBlock, NameLengthZero) {
  Block block = RawEntry(0, "");
  Put32(block, 36, 13);  // past the 13-byte minimum, so the entry itself is examined
  EXPECT_TRUE(IsCorruption(Decode(block), "name_length 0 outside 1..255"));
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(0, "")), "count 1 does not fit"));
}

TEST(DirectoryBlock, NameLength256) {
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(256, std::string(256, 'x'))), "name_length 256"));
}

TEST(DirectoryBlock, TruncatedStructure) {
  // name_length says 40 but used_bytes ends after 3 name bytes.
  Block block = RawEntry(40, "abc");
  EXPECT_TRUE(IsCorruption(Decode(block), "name passes used_bytes"));
  // count 2 with bytes for one entry.
  Block two = RawEntry(3, "abc");
  Put32(two, 32, 2);
  EXPECT_TRUE(IsCorruption(Decode(two), "count 2 does not fit"));
  // A second entry header cut by used_bytes (count 2 passes the 13-byte
  // minimum bound, so the entry walk itself must catch it).
  Block cut = RawEntry(30, std::string(30, 'a'));
  Put32(cut, 32, 2);
  Put32(cut, 36, 42 + 5);
  EXPECT_TRUE(IsCorruption(Decode(cut), "entry 1: entry header passes used_bytes 47"));
}

TEST(DirectoryBlock, CountHuge) {
  Block block = Encode(Sample());
  Put32(block, 32, UINT32_MAX);
  EXPECT_TRUE(IsCorruption(Decode(block), "count 4294967295"));
}

TEST(DirectoryBlock, UsedBytesMismatch) {
  Block longer = Encode(Sample());
  Put32(longer, 36, DecodeFixed32(longer.data() + 36) + 1);
  EXPECT_TRUE(IsCorruption(Decode(longer), "entries take"));
  Block shorter = Encode(Sample());
  Put32(shorter, 36, DecodeFixed32(shorter.data() + 36) - 1);
  EXPECT_TRUE(IsCorruption(Decode(shorter), "used_bytes"));
  Block past = Encode(Sample());
  Put32(past, 36, 4057);
  EXPECT_TRUE(IsCorruption(Decode(past), "used_bytes 4057 > 4056"));
}

TEST(DirectoryBlock, GarbageAfterUsedBytes) {
  Block block = Encode(Sample());
  block[4095] = std::byte{1};
  testing::Reseal(block);
  EXPECT_TRUE(IsCorruption(Decode(block), "bytes after used_bytes"));
}

TEST(DirectoryBlock, ReservedFieldNonZero) {
  Block block = RawEntry(3, "abc");
  block[kDirectoryEntriesOffset + 11] = std::byte{1};
  testing::Reseal(block);
  EXPECT_TRUE(IsCorruption(Decode(block), "reserved"));
}

TEST(DirectoryBlock, InodeZero) {
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(3, "abc", kRegular, 0)), "ino 0"));
}

TEST(DirectoryBlock, UnknownType) {
  EXPECT_TRUE(IsCorruption(Decode(RawEntry(3, "abc", 1)), "unknown type 1"));
}

TEST(DirectoryBlock, DuplicateName) {
  DirectoryBlock db = Sample();
  db.entries.push_back({99, kRegular, "sub"});
  EXPECT_TRUE(IsCorruption(Decode(Encode(db)), "duplicate name \"sub\""));
}

}  // namespace
}  // namespace mdfs::format
