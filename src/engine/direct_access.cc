// PrepareDirectAccess: every block of a range allocated, written (zeroed
// when new) and durable in metadata, then the layout granted while no
// block-map change can run (MAP_DIRECT, layouts).
#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "engine/engine.h"

namespace mdfs {

namespace {
constexpr size_t kZeroChunk = 1 << 20;

std::string InodeName(uint64_t ino) { return "inode " + std::to_string(ino); }

// What a range needs before it can be accessed directly.
struct RangeNeeds {
  std::optional<uint64_t> first_hole;  // byte offset
  bool unwritten = false;
};

RangeNeeds Examine(const Inode& inode, uint64_t begin, uint64_t end) {
  RangeNeeds needs;
  for (const MapPiece& piece : inode.map.Pieces(begin, end)) {
    if (!piece.mapped && !needs.first_hole) needs.first_hole = piece.file_block * kB;
    if (piece.mapped && piece.unwritten) needs.unwritten = true;
  }
  return needs;
}
}  // namespace

Status FileSystemImpl::MakeWritten(Transaction& tx, Inode& inode, uint64_t begin, uint64_t end,
                                   uint32_t flags, uint64_t end_byte) {
  uint64_t old_size = inode.record.size;
  uint64_t new_size = std::max(old_size, end_byte);
  if (new_size > old_size) {
    MDFS_RETURN_IF_ERROR(PrepareBlockMapChange(inode, BlockMapChangeKind::kDirectAccess, old_size,
                                               kToEndOfFile - old_size));
    ZeroTailBeyondEof(tx, inode);
  }
  MDFS_RETURN_IF_ERROR(
      PrepareUnwrittenConversion(inode, BlockMapChangeKind::kDirectAccess, begin, end));
  MDFS_RETURN_IF_ERROR(
      AllocateRange(tx, inode, begin, end, new_size, BlockMapChangeKind::kDirectAccess).status());
  // Unwritten blocks are zeroed in place, straight away: they read as zeros
  // already (or are free blocks, should this transaction abort), so no
  // reader can tell; the commit's first flush orders these writes before
  // the metadata that marks the blocks written.
  static const std::vector<std::byte> zeros(kZeroChunk);
  for (const MapPiece& piece : inode.map.Pieces(begin, end)) {
    if (!piece.unwritten) continue;
    uint64_t device_offset = piece.device_block * kB;
    for (uint64_t done = 0; done < piece.count * kB; done += kZeroChunk) {
      uint64_t n = std::min<uint64_t>(kZeroChunk, piece.count * kB - done);
      MDFS_RETURN_IF_ERROR(device_->Write(device_offset + done, std::span(zeros).first(n)));
    }
    inode.map.MarkWritten(piece.file_block, piece.file_block + piece.count);
    tx.MarkExtentsChanged(inode.ino);
  }
  if (new_size > old_size) {
    inode.record.size = new_size;
    inode.record.mtime_ns = inode.record.ctime_ns = NowNs();
  }
  return Status::Ok();
}

Status FileSystemImpl::PrepareDirectAccessAttempt(InodeNumber ino, uint64_t offset,
                                                  uint64_t length, uint32_t flags,
                                                  const DirectAccessGrant& grant) {
  if (flags & ~kDirectKnownFlags) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", flags & ~kDirectKnownFlags);
    return NotSupported(std::string("direct access flags ") + hex + " are not supported");
  }
  if (length == 0) return InvalidArgument("direct access to an empty range");
  if (offset > kMaxFileSize || length > kMaxFileSize - offset) {
    return FileTooLarge("range ends past the maximum file size (16 TiB)");
  }
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (inode->is_directory()) return IsDirectory(InodeName(ino) + " is a directory");
  if (!inode->is_regular()) return InvalidArgument(InodeName(ino) + " is not a regular file");
  uint64_t end = offset + length;
  uint64_t begin_block = offset / kB, end_block = BlocksCeil(end);
  bool allocate = flags & kDirectAllocate;
  bool sealed = inode->record.flags & kInodeFlagSealed;
  // The last block of the file may be mapped whole, as mmap maps the last page.
  uint64_t mappable_end = BlocksCeil(inode->record.size) * kB;
  if (end > mappable_end && (!allocate || sealed)) {
    return Hole(InodeName(ino) + ": range [" + std::to_string(offset) + ", " + std::to_string(end) +
                ") passes the end of the file (size " + std::to_string(inode->record.size) + ")");
  }
  RangeNeeds needs = Examine(*inode, begin_block, end_block);
  if (needs.first_hole && !allocate) {
    return Hole(InodeName(ino) + " has a hole at byte " + std::to_string(*needs.first_hole) +
                " (map with the allocate flag to fill it)");
  }
  if (needs.first_hole || needs.unwritten || (allocate && end > inode->record.size)) {
    if (sealed) return TextFileBusy(InodeName(ino) + " has a sealed block map");
    MDFS_RETURN_IF_ERROR(CheckWritable());
    Transaction tx(&inodes_);
    Inode& target = tx.Modify(ino);
    uint64_t end_byte = allocate ? end : 0;
    MDFS_RETURN_IF_ERROR(
        Finish(tx, MakeWritten(tx, target, begin_block, end_block, flags, end_byte)));
  }
  const Inode& current = inodes_[ino];
  return grant(ToAttributes(current), ExtentsLocked(current, offset, length));
}

}  // namespace mdfs
