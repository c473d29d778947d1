// Pass 4: the inode table, and each in-use inode's extent map.
#include <algorithm>
#include <string>
#include <unordered_set>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

std::string InodeWhere(uint64_t ino) { return "inode " + std::to_string(ino); }

void ScanFreeInode(Context& ctx, uint64_t ino, const format::InodeRecord& inode) {
  ctx.inode_states[ino] = InodeState::kFree;
  if (inode.nlink != 0 || inode.extent_count != 0 || inode.extent_block != 0) {
    ctx.Problem("free-inode-not-clear", InodeWhere(ino),
                "a free inode (mode 0) has nlink " + std::to_string(inode.nlink) + " and " +
                    std::to_string(inode.extent_count) + " extents");
  }
}

void ScanInode(Context& ctx, uint64_t ino, std::span<const std::byte, format::kInodeSize> raw) {
  Result<format::InodeRecord> inode = format::DecodeInode(raw);
  if (!inode.ok()) {
    ctx.Problem("bad-inode", InodeWhere(ino), inode.status().message());
    return;  // stays kUnreadable
  }
  if (!inode->in_use()) return ScanFreeInode(ctx, ino, *inode);
  const uint32_t type = inode->mode & S_IFMT;
  if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK) {
    ctx.Problem("bad-inode", InodeWhere(ino), "unknown file type: " + TypeName(inode->mode));
    return;
  }
  if (type != S_IFDIR && inode->parent != 0) {
    ctx.Problem("parent-not-zero", InodeWhere(ino),
                "a " + TypeName(type) + " has parent " + std::to_string(inode->parent) +
                    " (only directories record a parent)");
  }
  ctx.inode_states[ino] = InodeState::kInUse;
  ctx.inodes[ino].record = std::move(inode).value();
}

void ScanTableBlock(Context& ctx, uint64_t index) {
  const uint64_t block_number = ctx.sb.inode_table_start + index;
  const std::string where = "block " + std::to_string(block_number) + " (inode table block " +
                            std::to_string(index) + ")";
  format::Block block;
  if (Status status = ctx.ReadBlock(block_number, block); !status.ok()) {
    ctx.Problem("read-error", where, status.message());
    return;
  }
  Result<format::BlockHeader> header =
      format::CheckBlock(block, format::BlockKind::kInodeTable, block_number);
  if (!header.ok()) {
    ReportBadBlock(ctx, block, format::BlockKind::kInodeTable, block_number, header.status(),
                   "bad-inode-table-block", where);
    return;  // its inodes stay kUnreadable
  }
  // The rest of slot 0, after the header, is reserved (zero); no decoder
  // covers it, since the table block has no payload decoder of its own.
  if (std::any_of(block.begin() + format::kBlockHeaderSize, block.begin() + format::kInodeSize,
                  [](std::byte b) { return b != std::byte{0}; })) {
    ctx.Problem("bad-inode-table-block", where, "reserved bytes 32..255 are not zero");
  }
  for (uint64_t slot = 0; slot < format::kInodesPerBlock; ++slot) {
    const uint64_t ino = index * format::kInodesPerBlock + slot + 1;
    if (ino > ctx.sb.inode_count) break;
    std::span<const std::byte, format::kInodeSize> raw(block.data() + format::InodeByteOffset(ino),
                                                       format::kInodeSize);
    ScanInode(ctx, ino, raw);
  }
}

// Walks the extent block chain from inode.extent_block. Stops at the first
// block that is out of range, repeats, or fails to decode, and once the
// chain has yielded extent_count extents: every block holds at least one
// extent, so the walk reads at most min(extent_count, total_blocks) blocks.
// Returns false when the chain is broken (reported).
bool WalkExtentChain(Context& ctx, uint64_t ino, InodeInfo& info) {
  const format::InodeRecord& inode = info.record;
  std::unordered_set<uint64_t> seen;
  for (uint64_t next = inode.extent_block; next != 0;) {
    const std::string where =
        InodeWhere(ino) + " extent block " + std::to_string(info.extent_blocks.size());
    if (info.extents.size() >= inode.extent_count) {
      ctx.Problem("extent-count-mismatch", where,
                  "the extent block chain continues (to block " + std::to_string(next) +
                      ") after extent_count " + std::to_string(inode.extent_count) + " extents");
      return false;
    }
    if (!seen.insert(next).second) {
      ctx.Problem("extent-chain-cycle", where,
                  "the extent block chain returns to block " + std::to_string(next));
      return false;
    }
    if (!ctx.InDataRegion(next, 1)) {
      ctx.Problem("block-out-of-range", where,
                  "extent block " + std::to_string(next) + " is outside the data region");
      return false;
    }
    format::Block block;
    if (Status status = ctx.ReadBlock(next, block); !status.ok()) {
      ctx.Problem("read-error", where, status.message());
      return false;
    }
    Result<format::ExtentBlock> decoded = format::DecodeExtentBlock(block, next);
    if (!decoded.ok()) {
      ReportBadBlock(ctx, block, format::BlockKind::kExtentBlock, next, decoded.status(),
                     "bad-extent-block", where + " (block " + std::to_string(next) + ")");
      return false;
    }
    info.extent_blocks.push_back(next);
    info.extents.insert(info.extents.end(), decoded->extents.begin(), decoded->extents.end());
    next = decoded->next_block;
  }
  return true;
}

void LoadExtents(Context& ctx, uint64_t ino, InodeInfo& info) {
  if (info.record.extent_block == 0) {
    info.extents = info.record.inline_extents;
  } else if (!WalkExtentChain(ctx, ino, info)) {
    return;  // the broken chain is the problem reported
  }
  if (info.extents.size() != info.record.extent_count) {
    ctx.Problem("extent-count-mismatch", InodeWhere(ino),
                "extent_count is " + std::to_string(info.record.extent_count) + " but " +
                    std::to_string(info.extents.size()) + " extents were found");
  }
}

}  // namespace

void ScanInodes(Context& ctx) {
  ctx.inode_states.assign(ctx.sb.inode_count + 1, InodeState::kUnreadable);
  for (uint64_t index = 0; index < ctx.sb.inode_table_blocks; ++index) {
    ScanTableBlock(ctx, index);
  }
  for (auto& [ino, info] : ctx.inodes) LoadExtents(ctx, ino, info);
}

}  // namespace mdfs::fsck
