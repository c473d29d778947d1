#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"
#include "mdfs/clock.h"

namespace mdfs::format {
namespace {

using testing::SparseDevice;

constexpr uint64_t kMiB = 1ull << 20;
constexpr int64_t kNow = 1'700'000'000'000'000'000;

FormatOptions FixedOptions(ManualClock* clock) {
  FormatOptions options;
  for (size_t i = 0; i < 16; ++i) options.uuid[i] = static_cast<uint8_t>(i + 1);
  options.clock = clock;
  return options;
}

bool BitSet(const std::vector<std::byte>& bits, uint64_t bit) {
  return (std::to_integer<uint8_t>(bits[bit / 8]) >> (bit % 8) & 1) != 0;
}

void ExpectRootInode(const InodeRecord& root) {
  EXPECT_EQ(root.mode, 040755u);
  EXPECT_EQ(root.nlink, 2u);
  EXPECT_EQ(root.parent, 1u);
  EXPECT_EQ(root.generation, 1u);
  EXPECT_EQ(root.size, 0u);
  EXPECT_EQ(root.extent_count, 0u);
  EXPECT_EQ(root.extent_block, 0u);
  EXPECT_EQ(root.atime_ns, kNow);
  EXPECT_EQ(root.mtime_ns, kNow);
  EXPECT_EQ(root.ctime_ns, kNow);
  EXPECT_EQ(root.btime_ns, kNow);
}

void ExpectInodeTable(SparseDevice& device, const Superblock& sb) {
  for (uint64_t i = 0; i < sb.inode_table_blocks; ++i) {
    const uint64_t number = sb.inode_table_start + i;
    Block block = device.ReadBlockOrDie(number);
    Result<BlockHeader> header = CheckBlock(block, BlockKind::kInodeTable, number);
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(header->sequence, 0u);
    EXPECT_TRUE(internal::AllZero(std::span<const std::byte>(block).subspan(32, 224)));
    for (uint64_t slot = 1; slot <= kInodesPerBlock; ++slot) {
      const uint64_t ino = i * kInodesPerBlock + slot;
      ASSERT_EQ(InodeTableBlockIndex(ino), i);
      std::span<const std::byte, kInodeSize> bytes(block.data() + InodeByteOffset(ino), kInodeSize);
      Result<InodeRecord> inode = DecodeInode(bytes);
      ASSERT_TRUE(inode.ok()) << "inode " << ino << ": " << inode.status().ToString();
      if (ino == kRootInode) {
        ExpectRootInode(*inode);
      } else {
        EXPECT_FALSE(inode->in_use()) << ino;
        EXPECT_TRUE(internal::AllZero(bytes)) << ino;
      }
    }
  }
}

void ExpectBitmap(SparseDevice& device, const Superblock& sb) {
  uint64_t used = 0;
  for (uint64_t i = 0; i < sb.bitmap_blocks; ++i) {
    Result<std::vector<std::byte>> bits =
        DecodeBitmapBlock(device.ReadBlockOrDie(sb.bitmap_start + i), sb.bitmap_start + i);
    ASSERT_TRUE(bits.ok()) << bits.status().ToString();
    for (uint64_t bit = 0; bit < kBitsPerBitmapBlock; ++bit) {
      const uint64_t block = i * kBitsPerBitmapBlock + bit;
      const bool expected = block < sb.data_start || block >= sb.total_blocks;
      ASSERT_EQ(BitSet(*bits, bit), expected) << "device block " << block;
      used += expected ? 1 : 0;
    }
  }
  EXPECT_EQ(used, sb.data_start + sb.bitmap_blocks * kBitsPerBitmapBlock - sb.total_blocks);
}

void ExpectJournalZero(SparseDevice& device, const Superblock& sb) {
  for (uint64_t i = 0; i < sb.journal_blocks; ++i) {
    Block block = device.ReadBlockOrDie(sb.journal_start + i);
    ASSERT_TRUE(internal::AllZero(block)) << "journal block " << i;
  }
}

// Formats and then decodes every metadata block mkfs wrote.
Superblock FormatAndVerify(SparseDevice& device, const FormatOptions& options) {
  Status status = WriteNewFileSystem(&device, options);
  EXPECT_TRUE(status.ok()) << status.ToString();
  Result<Superblock> primary = DecodeSuperblock(device.ReadBlockOrDie(0), 0);
  Result<Superblock> backup = DecodeSuperblock(device.ReadBlockOrDie(1), 1);
  EXPECT_TRUE(primary.ok()) << primary.status().ToString();
  EXPECT_TRUE(backup.ok()) << backup.status().ToString();
  if (!primary.ok() || !backup.ok()) return {};
  Block primary_bytes = device.ReadBlockOrDie(0);
  Block backup_bytes = device.ReadBlockOrDie(1);
  // Identical apart from the header's block number (and so the checksum).
  EXPECT_TRUE(
      std::equal(primary_bytes.begin() + 32, primary_bytes.end(), backup_bytes.begin() + 32));
  ExpectJournalZero(device, *primary);
  ExpectInodeTable(device, *primary);
  ExpectBitmap(device, *primary);
  return *primary;
}

TEST(Mkfs, EveryMetadataBlockDecodes) {
  ManualClock clock(kNow);
  SparseDevice device(8 * kMiB);
  Superblock sb = FormatAndVerify(device, FixedOptions(&clock));
  EXPECT_EQ(sb.created_ns, kNow);
  EXPECT_EQ(sb.uuid[0], 1);
  EXPECT_EQ(sb.uuid[15], 16);
  Result<Superblock> expected = ComputeGeometry(8 * kMiB, 16384, 0);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(sb.data_start, expected->data_start);
  EXPECT_EQ(sb.inode_count, expected->inode_count);
}

TEST(Mkfs, SeveralBitmapBlocks) {
  ManualClock clock(kNow);
  SparseDevice device(300 * kMiB);  // 76800 blocks: 3 bitmap blocks, last one partial
  Superblock sb = FormatAndVerify(device, FixedOptions(&clock));
  EXPECT_EQ(sb.bitmap_blocks, 3u);
}

TEST(Mkfs, ExplicitJournalAndInodeDensity) {
  ManualClock clock(kNow);
  SparseDevice device(16 * kMiB);
  FormatOptions options = FixedOptions(&clock);
  options.journal_blocks = 100;
  options.bytes_per_inode = 4096;
  Superblock sb = FormatAndVerify(device, options);
  EXPECT_EQ(sb.journal_blocks, 100u);
  EXPECT_EQ(sb.inode_count, 4110u);  // 4096 rounded up to a multiple of 15
}

TEST(Mkfs, RandomUuidWhenZero) {
  ManualClock clock(kNow);
  FormatOptions options;
  options.clock = &clock;
  SparseDevice a(4 * kMiB), b(4 * kMiB);
  ASSERT_TRUE(WriteNewFileSystem(&a, options).ok());
  ASSERT_TRUE(WriteNewFileSystem(&b, options).ok());
  Result<Superblock> sa = DecodeSuperblock(a.ReadBlockOrDie(0), 0);
  Result<Superblock> sb = DecodeSuperblock(b.ReadBlockOrDie(0), 0);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_NE(sa->uuid, sb->uuid);
  EXPECT_NE(sa->uuid, (std::array<uint8_t, 16>{}));
  EXPECT_EQ(sa->uuid[6] >> 4, 4);  // RFC 4122 version 4
}

TEST(Mkfs, SystemClockWhenNull) {
  SparseDevice device(4 * kMiB);
  const int64_t before = SystemClock()->NowRealtimeNs();
  ASSERT_TRUE(WriteNewFileSystem(&device, FormatOptions{}).ok());
  const int64_t after = SystemClock()->NowRealtimeNs();
  Result<Superblock> sb = DecodeSuperblock(device.ReadBlockOrDie(0), 0);
  ASSERT_TRUE(sb.ok());
  EXPECT_GE(sb->created_ns, before);
  EXPECT_LE(sb->created_ns, after);
}

TEST(Mkfs, WriteOrder) {
  ManualClock clock(kNow);
  SparseDevice device(4 * kMiB);
  ASSERT_TRUE(WriteNewFileSystem(&device, FixedOptions(&clock)).ok());
  const auto& ops = device.operations();
  ASSERT_GE(ops.size(), 6u);
  // Old superblocks are invalidated first, and that is flushed.
  EXPECT_EQ(ops[0].kind, 'W');
  EXPECT_EQ(ops[0].offset, 0u);
  EXPECT_EQ(ops[0].length, 2u * kBlockSize);
  EXPECT_EQ(ops[1].kind, 'F');
  // Ends: flush, backup, flush, primary, flush.
  const size_t n = ops.size();
  EXPECT_EQ(ops[n - 5].kind, 'F');
  EXPECT_EQ(ops[n - 4].kind, 'W');
  EXPECT_EQ(ops[n - 4].offset, kSuperblockBackup * kBlockSize);
  EXPECT_EQ(ops[n - 3].kind, 'F');
  EXPECT_EQ(ops[n - 2].kind, 'W');
  EXPECT_EQ(ops[n - 2].offset, kSuperblockPrimary * kBlockSize);
  EXPECT_EQ(ops[n - 1].kind, 'F');
  // No other write touches blocks 0 and 1.
  for (size_t i = 1; i < n - 4; ++i) {
    if (ops[i].kind == 'W') {
      EXPECT_GE(ops[i].offset, 2u * kBlockSize) << "operation " << i;
    }
  }
}

TEST(Mkfs, TooSmallDevice) {
  SparseDevice device(1 * kMiB);
  Status status = WriteNewFileSystem(&device, FormatOptions{});
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_TRUE(device.operations().empty());
}

TEST(Mkfs, DeviceErrorsPropagateWithContext) {
  ManualClock clock(kNow);
  SparseDevice probe(4 * kMiB);
  ASSERT_TRUE(WriteNewFileSystem(&probe, FixedOptions(&clock)).ok());
  const size_t total = probe.operations().size();
  for (size_t n = 1; n <= total; ++n) {
    SparseDevice device(4 * kMiB);
    device.FailOperation(n);
    Status status = WriteNewFileSystem(&device, FixedOptions(&clock));
    EXPECT_EQ(status.code(), Code::kIoError) << "operation " << n;
    EXPECT_NE(status.message().find("mkfs"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("injected fault"), std::string::npos) << status.message();
  }
}

TEST(Mkfs, FailureBeforePrimaryLeavesNoValidPrimary) {
  ManualClock clock(kNow);
  SparseDevice device(4 * kMiB);
  ASSERT_TRUE(WriteNewFileSystem(&device, FixedOptions(&clock)).ok());  // an old file system
  const size_t total = device.operations().size();
  // Reformat, failing the write of the primary superblock (second to last).
  device.FailOperation(total - 1);
  EXPECT_FALSE(WriteNewFileSystem(&device, FixedOptions(&clock)).ok());
  EXPECT_FALSE(DecodeSuperblock(device.ReadBlockOrDie(0), 0).ok());
}

TEST(Mkfs, StaleJournalIsZeroed) {
  ManualClock clock(kNow);
  SparseDevice device(4 * kMiB);
  Result<Superblock> geometry = ComputeGeometry(4 * kMiB, 16384, 0);
  ASSERT_TRUE(geometry.ok());
  std::vector<std::byte> junk(geometry->journal_blocks * kBlockSize, std::byte{0xFF});
  ASSERT_TRUE(device.Write(geometry->journal_start * kBlockSize, junk).ok());
  FormatAndVerify(device, FixedOptions(&clock));
}

TEST(Mkfs, NullDevice) {
  EXPECT_EQ(WriteNewFileSystem(nullptr, FormatOptions{}).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace mdfs::format
