// WriteNewFileSystem: lays a fresh, empty file system onto a device.
//
// Order of writes (each step flushed before the next one that depends on it):
//   1. zero blocks 0 and 1, Flush   (an old file system on the device is no
//                                    longer valid once we start overwriting it)
//   2. zero the journal region      (no stale transaction can be replayed)
//   3. inode table, bitmap, Flush   (everything the superblocks point at)
//   4. backup superblock, Flush
//   5. primary superblock, Flush
// A crash anywhere before step 5 completes leaves no valid primary
// superblock, so a half-made file system is never opened as if it were whole.
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "format/format.h"
#include "format/format_internal.h"
#include "mdfs/clock.h"

namespace mdfs::format {
namespace {

constexpr uint64_t kChunkBlocks = 256;  // 1 MiB per device write
constexpr uint32_t kRootMode = 0040000 | 0755;
constexpr uint32_t kRootGeneration = 1;

Result<std::array<uint8_t, 16>> RandomUuid() {
  std::array<uint8_t, 16> uuid{};
  size_t filled = 0;
  while (filled < uuid.size()) {
    ssize_t n = getrandom(uuid.data() + filled, uuid.size() - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError(std::string("getrandom: ") + std::strerror(errno));
    filled += static_cast<size_t>(n);
  }
  uuid[6] = (uuid[6] & 0x0F) | 0x40;  // RFC 4122 version 4 (random)
  uuid[8] = (uuid[8] & 0x3F) | 0x80;  // RFC 4122 variant
  return uuid;
}

bool IsZero(const std::array<uint8_t, 16>& uuid) {
  return std::all_of(uuid.begin(), uuid.end(), [](uint8_t b) { return b == 0; });
}

// Writes blocks [start, start + count) in chunks of up to 1 MiB; `fill`
// encodes block `start + i` into the given Block.
template <typename Fill>
Status WriteRegion(Device* device, uint64_t start, uint64_t count, const char* what, Fill fill) {
  std::vector<Block> chunk(static_cast<size_t>(std::min(count, kChunkBlocks)));
  for (uint64_t done = 0; done < count;) {
    const uint64_t n = std::min(count - done, kChunkBlocks);
    for (uint64_t i = 0; i < n; ++i) fill(done + i, chunk[i]);
    const auto bytes = std::as_bytes(std::span(chunk.data(), static_cast<size_t>(n)));
    Status status = device->Write((start + done) * kBlockSize, bytes);
    if (!status.ok()) {
      return status.WithContext("mkfs: writing " + std::string(what) + " block " +
                                std::to_string(start + done));
    }
    done += n;
  }
  return Status::Ok();
}

Status FlushDevice(Device* device, const char* after) {
  return device->Flush().WithContext(std::string("mkfs: flush after ") + after);
}

InodeRecord RootInode(int64_t now_ns) {
  InodeRecord root;
  root.mode = kRootMode;
  root.nlink = 2;
  root.generation = kRootGeneration;
  root.parent = kRootInode;
  root.atime_ns = root.mtime_ns = root.ctime_ns = root.btime_ns = now_ns;
  return root;
}

// Inode table block `index`: all inodes free except the root (inode 1).
void FillInodeTableBlock(const Superblock& sb, uint64_t index, Block& out) {
  out.fill(std::byte{0});
  if (index == InodeTableBlockIndex(kRootInode)) {
    std::span<std::byte, kInodeSize> slot(out.data() + InodeByteOffset(kRootInode), kInodeSize);
    EncodeInode(RootInode(sb.created_ns), slot);
  }
  SealBlock(out, BlockKind::kInodeTable, sb.inode_table_start + index, 0);
}

// Bitmap block `index`: blocks before data_start and past total_blocks in use.
void FillBitmapBlock(const Superblock& sb, uint64_t index, Block& out) {
  std::array<std::byte, kBitsPerBitmapBlock / 8> bits{};
  const uint64_t first = index * kBitsPerBitmapBlock;
  const bool all_free = first >= sb.data_start && first + kBitsPerBitmapBlock <= sb.total_blocks;
  for (uint64_t bit = 0; !all_free && bit < kBitsPerBitmapBlock; ++bit) {
    const uint64_t block = first + bit;
    if (block < sb.data_start || block >= sb.total_blocks) {
      bits[bit / 8] |= std::byte{static_cast<uint8_t>(1u << (bit % 8))};
    }
  }
  EncodeBitmapBlock(bits, sb.bitmap_start + index, 0, out);
}

Status WriteSuperblock(Device* device, const Superblock& sb, uint64_t block_number) {
  Block block;
  EncodeSuperblock(sb, block_number, 0, block);
  MDFS_RETURN_IF_ERROR(WriteBlock(device, block_number, block).WithContext("mkfs"));
  return FlushDevice(
      device, block_number == kSuperblockPrimary ? "primary superblock" : "backup superblock");
}

Result<Superblock> NewSuperblock(Device* device, const FormatOptions& options) {
  MDFS_ASSIGN_OR_RETURN(
      Superblock sb,
      ComputeGeometry(device->size_bytes(), options.bytes_per_inode, options.journal_blocks));
  sb.uuid = options.uuid;
  sb.features_compat |= kFeatureCompatLeaseBreakTime;
  sb.features_ro_compat |= kFeatureRoCompatUnlinkedInodes;
  sb.lease_break_time_ms = options.lease_break_time_ms;
  if (IsZero(sb.uuid)) {
    MDFS_ASSIGN_OR_RETURN(sb.uuid, RandomUuid());
  }
  Clock* clock = options.clock != nullptr ? options.clock : SystemClock();
  sb.created_ns = clock->NowRealtimeNs();
  return sb;
}

}  // namespace

Status WriteNewFileSystem(Device* device, const FormatOptions& options) {
  if (device == nullptr) return InvalidArgument("mkfs: no device");
  MDFS_ASSIGN_OR_RETURN(const Superblock sb, NewSuperblock(device, options));
  auto zero = [](uint64_t, Block& out) { out.fill(std::byte{0}); };
  MDFS_RETURN_IF_ERROR(WriteRegion(device, kSuperblockPrimary, 2, "superblock", zero));
  MDFS_RETURN_IF_ERROR(FlushDevice(device, "invalidating old superblocks"));
  MDFS_RETURN_IF_ERROR(WriteRegion(device, sb.journal_start, sb.journal_blocks, "journal", zero));
  MDFS_RETURN_IF_ERROR(
      WriteRegion(device, sb.inode_table_start, sb.inode_table_blocks, "inode table",
                  [&sb](uint64_t i, Block& out) { FillInodeTableBlock(sb, i, out); }));
  MDFS_RETURN_IF_ERROR(WriteRegion(device, sb.bitmap_start, sb.bitmap_blocks, "bitmap",
                                   [&sb](uint64_t i, Block& out) { FillBitmapBlock(sb, i, out); }));
  MDFS_RETURN_IF_ERROR(FlushDevice(device, "journal, inode table and bitmap"));
  // The backup goes first and the primary last, each flushed: until the
  // primary is durable there is no valid primary, and once it is, the
  // backup it may be repaired from is durable too.
  MDFS_RETURN_IF_ERROR(WriteSuperblock(device, sb, kSuperblockBackup));
  return WriteSuperblock(device, sb, kSuperblockPrimary);
}

}  // namespace mdfs::format
