// Block allocation for files, truncate, and every fallocate mode.
#include <algorithm>
#include <optional>

#include "engine/engine.h"

namespace mdfs {

namespace {
constexpr uint64_t kMaxFileBlocks = kMaxFileSize / kBlockSize;

// The device block after the extent that ends at or before `file_block`:
// where the file would continue contiguously.
uint64_t ContinuationHint(const ExtentMap& map, uint64_t file_block) {
  const auto& extents = map.extents();
  auto it = extents.upper_bound(file_block);
  if (it == extents.begin()) return 0;
  const MappedExtent& previous = std::prev(it)->second;
  return previous.device_block + (file_block - previous.file_block);
}

// Records as speculative the blocks of `chunk`, just mapped for inode `ino`
// by an operation that asked for file blocks [begin, end), which lie outside
// that request and at or past `eof_blocks`, the operation's new end of file.
void RecordChunkSpeculation(Allocator& allocator, uint64_t ino, const MappedExtent& chunk,
                            uint64_t begin, uint64_t end, uint64_t eof_blocks) {
  auto record = [&](uint64_t low, uint64_t high) {
    low = std::max({low, chunk.file_block, eof_blocks});
    high = std::min(high, chunk.file_end());
    if (low >= high) return;
    allocator.RecordSpeculative(chunk.device_block + (low - chunk.file_block), high - low, ino);
  };
  record(chunk.file_block, begin);
  record(end, chunk.file_end());
}

// The file-block ranges of `inode` in [begin, end) that hold recorded
// speculative blocks (mapped, unwritten), in file order.
std::vector<BlockHull> SpeculativeRanges(const Inode& inode, const Allocator& allocator,
                                         uint64_t begin, uint64_t end) {
  std::vector<BlockHull> ranges;
  if (allocator.speculative_blocks() == 0 || begin >= end) return ranges;
  for (const MapPiece& piece : inode.map.Pieces(begin, end)) {
    if (!piece.mapped || !piece.unwritten) continue;
    for (const BlockRun& run : allocator.SpeculativeRuns(piece.device_block, piece.count)) {
      uint64_t first = piece.file_block + (run.start - piece.device_block);
      ranges.push_back({first, first + run.count});
    }
  }
  return ranges;
}

// The blocks of [begin, end) that an explicit preallocation (fallocate,
// ZERO_RANGE) now claims are no longer speculative: never trimmed.
void ClaimExplicitly(Allocator& allocator, const Inode& inode, uint64_t begin, uint64_t end) {
  if (allocator.speculative_blocks() == 0) return;
  for (const MapPiece& piece : inode.map.Pieces(begin, end)) {
    if (piece.mapped) allocator.ForgetSpeculative(piece.device_block, piece.count);
  }
}
}  // namespace

Result<uint64_t> FileSystemImpl::TrimSpeculative(Transaction& tx, Inode& inode, uint64_t begin,
                                                 uint64_t end, BlockMapChangeKind kind) {
  // Only blocks past EOF: below it, unwritten blocks are part of the file.
  begin = std::max(begin, BlocksCeil(inode.record.size));
  std::vector<BlockHull> ranges = SpeculativeRanges(inode, allocator_, begin, end);
  if (ranges.empty()) return uint64_t{0};
  uint64_t low = ranges.front().first;
  uint64_t high = ranges.back().last;
  MDFS_RETURN_IF_ERROR(PrepareBlockMapChange(inode, kind, low * kB, (high - low) * kB));
  uint64_t freed = 0;
  for (const BlockHull& range : ranges) {
    MDFS_RETURN_IF_ERROR(FreeFileBlocks(tx, inode, range.first, range.last));
    freed += range.last - range.first;
  }
  return freed;
}

Result<bool> FileSystemImpl::ReclaimSpeculative(InodeNumber except) {
  if (read_only_ || allocator_.speculative_blocks() == 0) return false;
  auto reclaimable = [&](uint64_t ino) {
    if (ino == except || ino >= inodes_.size()) return false;
    const Inode& inode = inodes_[ino];
    if (!inode.is_regular() || (inode.record.flags & kInodeFlagSealed)) return false;
    return !SpeculativeRanges(inode, allocator_, BlocksCeil(inode.record.size), kMaxFileBlocks + 1)
                .empty();
  };
  std::vector<uint64_t> owners = allocator_.SpeculativeOwners();
  bool freed = false;
  size_t next = 0;
  while (next < owners.size()) {
    // Batches of at most half the journal (each inode costs its inode-table
    // block, its extent chain and bitmap blocks).
    Transaction tx(&inodes_);
    Status status;
    while (next < owners.size() && status.ok() && CountImages(tx) * 2 < journal_.max_images()) {
      uint64_t ino = owners[next++];
      if (!reclaimable(ino)) continue;
      Result<uint64_t> trimmed = TrimSpeculative(tx, tx.Modify(ino), 0, kMaxFileBlocks + 1,
                                                 BlockMapChangeKind::kPunchHole);
      status = trimmed.status();
      freed = freed || (status.ok() && *trimmed > 0);
    }
    MDFS_RETURN_IF_ERROR(Finish(tx, status));
  }
  return freed;
}

Status FileSystemImpl::PrepareHoleFill(Inode& inode, BlockMapChangeKind kind, uint64_t begin,
                                       uint64_t end, bool large) {
  // The hull of the holes in [begin, end), widened to whole 2 MiB chunks
  // where AllocateRange may take one (only chunks with nothing mapped).
  std::optional<BlockHull> holes =
      inode.map.Hull(begin, end, [](const MapPiece& piece) { return !piece.mapped; });
  if (!holes) return Status::Ok();
  uint64_t low = holes->first, high = holes->last;
  if (large) {
    uint64_t chunk_low = low - low % kBlocksPerChunk;
    if (inode.map.Overlapping(chunk_low, chunk_low + kBlocksPerChunk).empty()) low = chunk_low;
    uint64_t chunk_high = high - high % kBlocksPerChunk;
    if (chunk_high != high &&
        inode.map.Overlapping(chunk_high, chunk_high + kBlocksPerChunk).empty()) {
      high = chunk_high + kBlocksPerChunk;
    }
  }
  return PrepareBlockMapChange(inode, kind, low * kB, (high - low) * kB);
}

Result<std::vector<MappedExtent>> FileSystemImpl::AllocateRange(Transaction& tx, Inode& inode,
                                                                uint64_t begin, uint64_t end,
                                                                uint64_t new_size,
                                                                BlockMapChangeKind kind) {
  // Large files get whole 2 MiB-aligned chunks so they can be mapped with
  // 2 MiB pages; small files get 4 KiB blocks (doc/format.md, "allocation").
  // A chunk is taken only where the file grows into it contiguously (it
  // starts inside the current size) or the request fills a quarter of it:
  // a few bytes written far past EOF get 4 KiB blocks, not 2 MiB. A request
  // of a whole chunk or more is large whatever the size (KEEP_SIZE
  // preallocation), so that it can be mapped on device-dax.
  bool large = new_size >= kBlocksPerChunk * kB || end - begin >= kBlocksPerChunk;
  MDFS_RETURN_IF_ERROR(PrepareHoleFill(inode, kind, begin, end, large));
  uint64_t size_blocks = BlocksCeil(inode.record.size);
  std::vector<MappedExtent> added;
  for (const MapPiece& hole : inode.map.Pieces(begin, end)) {
    if (hole.mapped) continue;
    uint64_t cursor = hole.file_block;
    uint64_t hole_end = hole.file_block + hole.count;
    while (cursor < hole_end) {
      uint64_t hint = ContinuationHint(inode.map, cursor);
      uint64_t chunk_begin = cursor - cursor % kBlocksPerChunk;
      uint64_t chunk_end = chunk_begin + kBlocksPerChunk;
      bool worth_a_chunk = chunk_begin <= size_blocks ||
                           std::min(hole_end, chunk_end) - cursor >= kBlocksPerChunk / 4;
      if (large && worth_a_chunk && chunk_end <= kMaxFileBlocks &&
          inode.map.Overlapping(chunk_begin, chunk_end).empty()) {
        BlockRun run = allocator_.AllocateAlignedChunk(hint);
        if (run.count != 0) {
          tx.RecordAllocation(run);
          MappedExtent extent{chunk_begin, run.start, run.count, true};
          inode.map.Insert(extent);
          added.push_back(extent);
          RecordChunkSpeculation(allocator_, inode.ino, extent, begin, end, BlocksCeil(new_size));
          cursor = chunk_end;
          continue;
        }
      }
      BlockRun run = allocator_.AllocateRun(hole_end - cursor, hint);
      if (run.count == 0) {
        return NoSpace("no free blocks (needed " + std::to_string(hole_end - cursor) +
                       " more for inode " + std::to_string(inode.ino) + ")");
      }
      tx.RecordAllocation(run);
      MappedExtent extent{cursor, run.start, run.count, true};
      inode.map.Insert(extent);
      added.push_back(extent);
      cursor += run.count;
    }
  }
  if (!added.empty()) tx.MarkExtentsChanged(inode.ino);
  return added;
}

Status FileSystemImpl::FreeFileBlocks(Transaction& tx, Inode& inode, uint64_t begin, uint64_t end) {
  std::vector<MappedExtent> removed = inode.map.Remove(begin, end);
  for (const MappedExtent& e : removed) tx.Free(e.device_block, e.count);
  if (!removed.empty()) tx.MarkExtentsChanged(inode.ino);
  return Status::Ok();
}

void FileSystemImpl::ZeroTailBeyondEof(Transaction& tx, const Inode& inode) {
  uint64_t size = inode.record.size;
  if (size % kB == 0) return;
  std::vector<MapPiece> pieces = inode.map.Pieces(size / kB, size / kB + 1);
  if (pieces.empty() || !pieces[0].mapped || pieces[0].unwritten) return;
  // Beyond EOF: invisible until the size grows in the same transaction.
  tx.AddDataWrite(pieces[0].device_block * kB + size % kB,
                  std::vector<std::byte>(kB - size % kB, std::byte{0}));
}

Status FileSystemImpl::CopyOnWriteZero(Transaction& tx, Inode& inode, uint64_t file_block,
                                       uint32_t from, uint32_t to) {
  std::vector<MapPiece> pieces = inode.map.Pieces(file_block, file_block + 1);
  if (pieces.empty() || !pieces[0].mapped || pieces[0].unwritten) return Status::Ok();
  uint64_t old_block = pieces[0].device_block;
  std::vector<std::byte> block(kB);
  MDFS_RETURN_IF_ERROR(device_->Read(old_block * kB, block));
  tx.OverlayDataWrites(old_block * kB, block);  // what this transaction already queued
  std::fill(block.begin() + from, block.begin() + to, std::byte{0});
  BlockRun run = allocator_.AllocateRun(1, old_block + 1);
  if (run.count == 0) {
    // No block to copy into: zero in place. The one non-atomic case
    // (doc/durability.md): a crash before the commit may leave these
    // bytes zeroed while the rest of the operation did not happen.
    tx.AddDataWrite(old_block * kB + from,
                    std::vector<std::byte>(block.begin() + from, block.begin() + to));
    return Status::Ok();
  }
  tx.RecordAllocation(run);
  tx.AddDataWrite(run.start * kB, std::move(block));
  MDFS_RETURN_IF_ERROR(FreeFileBlocks(tx, inode, file_block, file_block + 1));
  inode.map.Insert(MappedExtent{file_block, run.start, 1, false});
  tx.MarkExtentsChanged(inode.ino);
  return Status::Ok();
}

// Zeroes the partial blocks at the edges of [offset, end).
Status FileSystemImpl::ZeroPartialBlocks(Transaction& tx, Inode& inode, uint64_t offset,
                                         uint64_t end) {
  uint64_t head = offset / kB;
  uint64_t tail = end / kB;
  if (head == tail) {
    if (offset % kB != end % kB) {
      MDFS_RETURN_IF_ERROR(CopyOnWriteZero(tx, inode, head, offset % kB, end % kB));
    }
    return Status::Ok();
  }
  if (offset % kB != 0) MDFS_RETURN_IF_ERROR(CopyOnWriteZero(tx, inode, head, offset % kB, kB));
  if (end % kB != 0) MDFS_RETURN_IF_ERROR(CopyOnWriteZero(tx, inode, tail, 0, end % kB));
  return Status::Ok();
}

// ------------------------------------------------------------------ truncate

Status FileSystemImpl::TruncateLocked(Transaction& tx, Inode& inode, uint64_t size) {
  if (inode.is_directory()) return IsDirectory("inode " + std::to_string(inode.ino));
  if (!inode.is_regular())
    return InvalidArgument("inode " + std::to_string(inode.ino) + " is not a regular file");
  if (size > kMaxFileSize) return FileTooLarge("size " + std::to_string(size) + " exceeds 16 TiB");
  uint64_t old_size = inode.record.size;
  if (size != old_size) {
    uint64_t low = std::min(size, old_size);
    MDFS_RETURN_IF_ERROR(
        PrepareBlockMapChange(inode, BlockMapChangeKind::kTruncate, low, UINT64_MAX - low));
  }
  if (size < old_size) {
    // Everything past the new last block goes, preallocated blocks included.
    MDFS_RETURN_IF_ERROR(FreeFileBlocks(tx, inode, BlocksCeil(size), kMaxFileBlocks + 1));
  } else if (size > old_size) {
    // Speculative preallocation the file now covers becomes a hole, not an
    // unwritten part of the file: a sparse file stays sparse.
    MDFS_RETURN_IF_ERROR(
        TrimSpeculative(tx, inode, 0, BlocksCeil(size), BlockMapChangeKind::kTruncate).status());
    ZeroTailBeyondEof(tx, inode);
  }
  inode.record.size = size;
  inode.record.mtime_ns = inode.record.ctime_ns = NowNs();
  return Status::Ok();
}

Status FileSystemImpl::TruncateAttempt(InodeNumber ino, uint64_t size) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_RETURN_IF_ERROR(GetInode(ino).status());
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  return Finish(tx, TruncateLocked(tx, target, size));
}

// ----------------------------------------------------------------- fallocate

namespace {

// The checks of Linux's vfs_fallocate(), in its order.
Status ValidateFallocateMode(uint32_t mode, uint64_t offset, uint64_t length) {
  constexpr uint32_t kKnown = kFallocateKeepSize | kFallocatePunchHole | kFallocateCollapseRange |
                              kFallocateZeroRange | kFallocateInsertRange;
  if (length == 0 || offset > static_cast<uint64_t>(INT64_MAX) ||
      length > static_cast<uint64_t>(INT64_MAX)) {
    return InvalidArgument("fallocate offset/length out of range (length must be > 0)");
  }
  if (mode & ~kKnown) return NotSupported("unknown fallocate mode bits");
  if ((mode & kFallocatePunchHole) && (mode & kFallocateZeroRange)) {
    return NotSupported("PUNCH_HOLE and ZERO_RANGE together");
  }
  if ((mode & kFallocatePunchHole) && !(mode & kFallocateKeepSize)) {
    return NotSupported("PUNCH_HOLE requires KEEP_SIZE");
  }
  if ((mode & kFallocateCollapseRange) && mode != kFallocateCollapseRange) {
    return NotSupported(
        "COLLAPSE_RANGE cannot be combined with other modes (EOPNOTSUPP as Linux >= 6.12)");
  }
  if ((mode & kFallocateInsertRange) && mode != kFallocateInsertRange) {
    return NotSupported(
        "INSERT_RANGE cannot be combined with other modes (EOPNOTSUPP as Linux >= 6.12)");
  }
  return Status::Ok();
}

// The checks of the file and range, after the mode's (ValidateFallocateMode).
Status CheckFallocateTarget(const Inode& inode, uint32_t mode, uint64_t offset, uint64_t length) {
  uint64_t ino = inode.ino;
  if (inode.record.flags & kInodeFlagSealed) {
    return TextFileBusy("inode " + std::to_string(ino) + " has a sealed block map");
  }
  if (inode.is_directory()) return IsDirectory("inode " + std::to_string(ino));
  if (!inode.is_regular()) return NoDevice("fallocate on a non-regular file");
  if (offset + length > kMaxFileSize) return FileTooLarge("range ends past 16 TiB");
  uint64_t size = inode.record.size;
  bool shifts = mode & (kFallocateCollapseRange | kFallocateInsertRange);
  if (shifts && (offset % kB != 0 || length % kB != 0)) {
    return InvalidArgument("COLLAPSE/INSERT_RANGE offset and length must be multiples of 4096");
  }
  if ((mode & kFallocateCollapseRange) && offset + length >= size) {
    return InvalidArgument("COLLAPSE_RANGE must end before the end of the file");
  }
  if ((mode & kFallocateInsertRange) && offset >= size) {
    return InvalidArgument("INSERT_RANGE must start before the end of the file");
  }
  if ((mode & kFallocateInsertRange) && length > kMaxFileSize - size) {
    return FileTooLarge("INSERT_RANGE would grow the file past 16 TiB");
  }
  return Status::Ok();
}

BlockMapChangeKind KindOf(uint32_t mode) {
  if (mode & kFallocatePunchHole) return BlockMapChangeKind::kPunchHole;
  if (mode & kFallocateZeroRange) return BlockMapChangeKind::kZeroRange;
  if (mode & kFallocateCollapseRange) return BlockMapChangeKind::kCollapseRange;
  if (mode & kFallocateInsertRange) return BlockMapChangeKind::kInsertRange;
  return BlockMapChangeKind::kFallocate;
}

}  // namespace

// The ranges each mode changes (doc/leases.md, "Recall ranges"). Mode 0
// and KEEP_SIZE change only the holes they fill (AllocateRange passes the
// gate for those) and, when the size grows, everything past the old EOF.
Status FileSystemImpl::PrepareFallocate(Inode& inode, uint32_t mode, uint64_t offset,
                                        uint64_t length) {
  uint64_t size = inode.record.size;
  BlockMapChangeKind kind = KindOf(mode);
  bool keep_size = mode & kFallocateKeepSize;
  if (mode & (kFallocateCollapseRange | kFallocateInsertRange)) {
    return PrepareBlockMapChange(inode, kind, offset, kToEndOfFile - offset);
  }
  if (!keep_size && offset + length > size) {
    // Growing: layouts reaching past the old EOF, and the range itself.
    uint64_t low = std::min(offset, size);
    if (mode & kFallocateZeroRange)
      return PrepareBlockMapChange(inode, kind, low, kToEndOfFile - low);
    return PrepareBlockMapChange(inode, kind, size, kToEndOfFile - size);
  }
  if (mode & (kFallocatePunchHole | kFallocateZeroRange)) {
    return PrepareBlockMapChange(inode, kind, offset, length);
  }
  return Status::Ok();
}

Status FileSystemImpl::PunchHole(Transaction& tx, Inode& inode, uint64_t offset, uint64_t length) {
  uint64_t end = offset + length;
  uint64_t full_begin = BlocksCeil(offset);
  uint64_t full_end = end / kB;
  if (full_begin < full_end) MDFS_RETURN_IF_ERROR(FreeFileBlocks(tx, inode, full_begin, full_end));
  return ZeroPartialBlocks(tx, inode, offset, end);
}

Status FileSystemImpl::ZeroRange(Transaction& tx, Inode& inode, uint64_t offset, uint64_t length,
                                 bool keep_size) {
  uint64_t end = offset + length;
  uint64_t new_size = keep_size ? inode.record.size : std::max(inode.record.size, end);
  if (!keep_size && end > inode.record.size) {
    MDFS_RETURN_IF_ERROR(
        TrimSpeculative(tx, inode, 0, offset / kB, BlockMapChangeKind::kZeroRange).status());
    ZeroTailBeyondEof(tx, inode);
  }
  MDFS_RETURN_IF_ERROR(AllocateRange(tx, inode, offset / kB, BlocksCeil(end), new_size,
                                     BlockMapChangeKind::kZeroRange)
                           .status());
  ClaimExplicitly(allocator_, inode, offset / kB, BlocksCeil(end));
  uint64_t full_begin = BlocksCeil(offset);
  uint64_t full_end = end / kB;
  if (full_begin < full_end) {
    // Whole blocks read as zeros once marked unwritten; no data is written.
    inode.map.MarkUnwritten(full_begin, full_end);
    tx.MarkExtentsChanged(inode.ino);
  }
  MDFS_RETURN_IF_ERROR(ZeroPartialBlocks(tx, inode, offset, end));
  inode.record.size = new_size;
  return Status::Ok();
}

Status FileSystemImpl::CollapseRange(Transaction& tx, Inode& inode, uint64_t offset,
                                     uint64_t length) {
  uint64_t first = offset / kB;
  uint64_t count = length / kB;
  MDFS_RETURN_IF_ERROR(FreeFileBlocks(tx, inode, first, first + count));
  inode.map.ShiftDown(first + count, count);
  tx.MarkExtentsChanged(inode.ino);
  inode.record.size -= length;
  return Status::Ok();
}

Status FileSystemImpl::InsertRange(Transaction& tx, Inode& inode, uint64_t offset,
                                   uint64_t length) {
  uint64_t first = offset / kB;
  uint64_t count = length / kB;
  // Blocks the shift would push past the limit lie beyond EOF (the caller
  // checked size + length <= the limit): unmapping them changes no byte of
  // the file. XFS trims post-EOF preallocation before a shift the same way.
  MDFS_RETURN_IF_ERROR(FreeFileBlocks(tx, inode, kMaxFileBlocks - count, kMaxFileBlocks + 1));
  inode.map.SplitAt(first);
  inode.map.ShiftUp(first, count);
  tx.MarkExtentsChanged(inode.ino);
  inode.record.size += length;
  return Status::Ok();
}

Status FileSystemImpl::FallocateAttempt(InodeNumber ino, uint32_t mode, uint64_t offset,
                                        uint64_t length) {
  std::unique_lock lock(mu_);
  Status status = FallocateLocked(ino, mode, offset, length);
  if (status.code() != Code::kNoSpace) return status;
  // Speculative preallocation of other files may stand in the way.
  Result<bool> reclaimed = ReclaimSpeculative(ino);
  if (!reclaimed.ok()) return reclaimed.status();
  return *reclaimed ? FallocateLocked(ino, mode, offset, length) : status;
}

// REQUIRES: mu_ held exclusively.
Status FileSystemImpl::FallocateLocked(InodeNumber ino, uint32_t mode, uint64_t offset,
                                       uint64_t length) {
  MDFS_RETURN_IF_ERROR(ValidateFallocateMode(mode, offset, length));
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  MDFS_RETURN_IF_ERROR(CheckFallocateTarget(*inode, mode, offset, length));
  uint64_t size = inode->record.size;
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  Status status = PrepareFallocate(target, mode, offset, length);
  bool keep_size = mode & kFallocateKeepSize;
  if (status.ok()) {
    if (mode & kFallocatePunchHole) {
      status = PunchHole(tx, target, offset, length);
    } else if (mode & kFallocateZeroRange) {
      status = ZeroRange(tx, target, offset, length, keep_size);
    } else if (mode & kFallocateCollapseRange) {
      status = CollapseRange(tx, target, offset, length);
    } else if (mode & kFallocateInsertRange) {
      status = InsertRange(tx, target, offset, length);
    } else {
      // Mode 0 / KEEP_SIZE: the range is preallocated explicitly (kept by
      // Fsync's trim); a gap it leaves past the old EOF stays a hole.
      uint64_t end = offset + length;
      uint64_t new_size = keep_size ? size : std::max(size, end);
      if (new_size > size) {
        status =
            TrimSpeculative(tx, target, 0, offset / kB, BlockMapChangeKind::kFallocate).status();
        ZeroTailBeyondEof(tx, target);
      }
      if (status.ok()) {
        status = AllocateRange(tx, target, offset / kB, BlocksCeil(end), new_size,
                               BlockMapChangeKind::kFallocate)
                     .status();
      }
      if (status.ok()) {
        ClaimExplicitly(allocator_, target, offset / kB, BlocksCeil(end));
        target.record.size = new_size;
      }
    }
  }
  if (status.ok()) target.record.ctime_ns = target.record.mtime_ns = NowNs();
  return Finish(tx, status);
}

}  // namespace mdfs
