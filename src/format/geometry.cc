// Where the regions of a file system go: computed for mkfs, validated for
// every superblock read.
//
//   [0 primary sb][1 backup sb][journal][inode table][bitmap][data ...]
#include <algorithm>

#include "format/format.h"
#include "format/format_internal.h"

namespace mdfs::format {
namespace {

using internal::kMaxTotalBlocks;
using internal::kMinDeviceBytes;
using internal::kMinJournalBlocks;
using internal::kMinTotalBlocks;

constexpr uint64_t kDefaultJournalMin = 256;
constexpr uint64_t kDefaultJournalMax = 16384;
constexpr uint64_t kMinInodes = 16;
constexpr uint64_t kFirstJournalBlock = 2;  // after the two superblocks

uint64_t CeilDiv(uint64_t a, uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

std::string Num(uint64_t value) { return std::to_string(value); }

// A region [start, start + count) must lie inside the device.
Status CheckRegion(const char* name, uint64_t start, uint64_t count, uint64_t total,
                   std::string_view where) {
  if (start > total || count > total - start) {
    return Corruption(std::string(where) + name + " blocks [" + Num(start) + ", +" + Num(count) +
                      ") pass total_blocks " + Num(total));
  }
  return Status::Ok();
}

// `later` must start at or after the end of `earlier`.
Status CheckOrder(const char* earlier, uint64_t earlier_end, const char* later,
                  uint64_t later_start, std::string_view where) {
  if (later_start < earlier_end) {
    return Corruption(std::string(where) + later + " starts at " + Num(later_start) +
                      ", inside or before the " + earlier + " (ends at " + Num(earlier_end) + ")");
  }
  return Status::Ok();
}

Status CheckCounts(const Superblock& sb, std::string_view where) {
  const std::string at(where);
  if (sb.journal_blocks < kMinJournalBlocks) {
    return Corruption(at + "journal_blocks " + Num(sb.journal_blocks) + " < 16");
  }
  if (sb.inode_table_blocks == 0) return Corruption(at + "inode_table_blocks 0");
  if (sb.inode_count != sb.inode_table_blocks * kInodesPerBlock) {
    return Corruption(at + "inode_count " + Num(sb.inode_count) + " != inode_table_blocks " +
                      Num(sb.inode_table_blocks) + " * 15");
  }
  const uint64_t bitmap_blocks = CeilDiv(sb.total_blocks, kBitsPerBitmapBlock);
  if (sb.bitmap_blocks != bitmap_blocks) {
    return Corruption(at + "bitmap_blocks " + Num(sb.bitmap_blocks) + " != ceil(total_blocks " +
                      Num(sb.total_blocks) + " / 32512) = " + Num(bitmap_blocks));
  }
  return Status::Ok();
}

uint64_t DefaultJournalBlocks(uint64_t total_blocks) {
  return std::clamp(total_blocks / 64, kDefaultJournalMin, kDefaultJournalMax);
}

// Inodes for the device, at least 16, rounded up to whole inode table blocks.
uint64_t InodeCount(uint64_t device_bytes, uint64_t bytes_per_inode) {
  const uint64_t wanted = std::max(kMinInodes, device_bytes / bytes_per_inode);
  return CeilDiv(wanted, kInodesPerBlock) * kInodesPerBlock;
}

Status CheckArguments(uint64_t device_bytes, uint64_t bytes_per_inode, uint64_t journal_blocks) {
  if (device_bytes < kMinDeviceBytes) {
    return InvalidArgument("device too small: " + Num(device_bytes) +
                           " bytes, need at least 2 MiB");
  }
  if (device_bytes / kBlockSize > kMaxTotalBlocks) {
    return InvalidArgument("device too large: " + Num(device_bytes / kBlockSize) +
                           " blocks, at most 2^44 (64 PiB)");
  }
  if (bytes_per_inode < kInodeSize) {
    return InvalidArgument("bytes_per_inode " + Num(bytes_per_inode) + " is below 256");
  }
  if (journal_blocks != 0 && journal_blocks < kMinJournalBlocks) {
    return InvalidArgument("journal too small: " + Num(journal_blocks) +
                           " blocks, need at least 16");
  }
  // A commit record counts the transaction's blocks in 32 bits.
  if (journal_blocks > UINT32_MAX) {
    return InvalidArgument("journal too large: " + Num(journal_blocks) + " blocks");
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

Status ValidateGeometry(const Superblock& sb, std::string_view where) {
  const std::string at(where);
  if (sb.total_blocks < kMinTotalBlocks || sb.total_blocks > kMaxTotalBlocks) {
    return Corruption(at + "total_blocks " + Num(sb.total_blocks) + " outside [512, 2^44]");
  }
  const uint64_t total = sb.total_blocks;
  MDFS_RETURN_IF_ERROR(CheckRegion("journal", sb.journal_start, sb.journal_blocks, total, where));
  MDFS_RETURN_IF_ERROR(
      CheckRegion("inode table", sb.inode_table_start, sb.inode_table_blocks, total, where));
  MDFS_RETURN_IF_ERROR(CheckRegion("bitmap", sb.bitmap_start, sb.bitmap_blocks, total, where));
  MDFS_RETURN_IF_ERROR(
      CheckOrder("superblocks", kFirstJournalBlock, "journal", sb.journal_start, where));
  MDFS_RETURN_IF_ERROR(CheckOrder("journal", sb.journal_start + sb.journal_blocks, "inode table",
                                  sb.inode_table_start, where));
  MDFS_RETURN_IF_ERROR(CheckOrder("inode table", sb.inode_table_start + sb.inode_table_blocks,
                                  "bitmap", sb.bitmap_start, where));
  MDFS_RETURN_IF_ERROR(
      CheckOrder("bitmap", sb.bitmap_start + sb.bitmap_blocks, "data", sb.data_start, where));
  if (sb.data_start >= total) {
    return Corruption(at + "data_start " + Num(sb.data_start) + " >= total_blocks " + Num(total));
  }
  return CheckCounts(sb, where);
}

}  // namespace internal

Result<Superblock> ComputeGeometry(uint64_t device_bytes, uint64_t bytes_per_inode,
                                   uint64_t journal_blocks) {
  MDFS_RETURN_IF_ERROR(CheckArguments(device_bytes, bytes_per_inode, journal_blocks));
  Superblock sb;
  sb.total_blocks = device_bytes / kBlockSize;
  sb.journal_start = kFirstJournalBlock;
  sb.journal_blocks = journal_blocks != 0 ? journal_blocks : DefaultJournalBlocks(sb.total_blocks);
  sb.inode_count = InodeCount(device_bytes, bytes_per_inode);
  sb.inode_table_blocks = sb.inode_count / kInodesPerBlock;
  sb.bitmap_blocks = CeilDiv(sb.total_blocks, kBitsPerBitmapBlock);
  // No overflow: journal_blocks < 2^32, inode_table_blocks < 2^56 / 3840.
  sb.inode_table_start = sb.journal_start + sb.journal_blocks;
  sb.bitmap_start = sb.inode_table_start + sb.inode_table_blocks;
  sb.data_start = sb.bitmap_start + sb.bitmap_blocks;
  const uint64_t data_blocks =
      sb.data_start < sb.total_blocks ? sb.total_blocks - sb.data_start : 0;
  // At least a quarter of the device must remain for data (no overflow:
  // total_blocks <= 2^44).
  if (data_blocks * 4 < sb.total_blocks) {
    return InvalidArgument("geometry leaves too little room for data: journal " +
                           Num(sb.journal_blocks) + " blocks, inode table " +
                           Num(sb.inode_table_blocks) + " blocks, bitmap " + Num(sb.bitmap_blocks) +
                           " blocks leave " + Num(data_blocks) + " of " + Num(sb.total_blocks) +
                           " blocks for data (need at least 25%)");
  }
  assert(internal::ValidateGeometry(sb, "ComputeGeometry: ").ok());
  return sb;
}

}  // namespace mdfs::format
