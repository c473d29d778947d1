// Read, write, fsync and the extent query.
#include <algorithm>
#include <optional>

#include "engine/break_gate.h"
#include "engine/engine.h"

namespace mdfs {

Status FileSystemImpl::ReadLocked(const Inode& inode, uint64_t offset, std::span<std::byte> out) {
  uint64_t end = offset + out.size();
  for (const MapPiece& piece : inode.map.Pieces(offset / kB, BlocksCeil(end))) {
    uint64_t piece_begin = std::max(offset, piece.file_block * kB);
    uint64_t piece_end = std::min(end, (piece.file_block + piece.count) * kB);
    std::span<std::byte> part = out.subspan(piece_begin - offset, piece_end - piece_begin);
    if (!piece.mapped || piece.unwritten) {
      std::fill(part.begin(), part.end(), std::byte{0});
      continue;
    }
    uint64_t device_offset = piece.device_block * kB + (piece_begin - piece.file_block * kB);
    MDFS_RETURN_IF_ERROR(device_->Read(device_offset, part));
  }
  return Status::Ok();
}

Result<size_t> FileSystemImpl::Read(InodeNumber ino, uint64_t offset, std::span<std::byte> out) {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (inode->is_directory()) return IsDirectory("inode " + std::to_string(ino));
  uint64_t size = inode->record.size;
  if (offset >= size || out.empty()) return size_t{0};
  size_t length = static_cast<size_t>(std::min<uint64_t>(out.size(), size - offset));
  MDFS_RETURN_IF_ERROR(ReadLocked(*inode, offset, out.first(length)));
  return length;
}

// Writes `data` at `offset`: holes are allocated (unwritten), every piece
// is queued for writing; unwritten blocks are filled whole (the data, zeros
// around it) and marked written in the same transaction, so no block ever
// shows stale bytes. REQUIRES: tx.Modify(inode.ino) was called.
Status FileSystemImpl::WritePieces(Transaction& tx, Inode& inode, uint64_t offset,
                                   std::span<const std::byte> data) {
  uint64_t end = offset + data.size();
  uint64_t first_block = offset / kB;
  uint64_t end_block = BlocksCeil(end);
  uint64_t new_size = std::max(inode.record.size, end);
  // Unwritten blocks that exist already, then holes (whose new blocks are
  // converted too, but are covered by the hole fill).
  MDFS_RETURN_IF_ERROR(PrepareUnwrittenConversion(inode, BlockMapChangeKind::kWriteAllocate,
                                                  first_block, end_block));
  MDFS_RETURN_IF_ERROR(
      AllocateRange(tx, inode, first_block, end_block, new_size, BlockMapChangeKind::kWriteAllocate)
          .status());
  for (const MapPiece& piece : inode.map.Pieces(first_block, end_block)) {
    uint64_t piece_begin = piece.file_block * kB;
    uint64_t piece_end = (piece.file_block + piece.count) * kB;
    uint64_t data_begin = std::max(offset, piece_begin);
    uint64_t data_end = std::min(end, piece_end);
    std::span<const std::byte> part = data.subspan(data_begin - offset, data_end - data_begin);
    if (!piece.unwritten) {
      tx.AddDataWrite(piece.device_block * kB + (data_begin - piece_begin),
                      std::vector<std::byte>(part.begin(), part.end()));
      continue;
    }
    std::vector<std::byte> whole(piece_end - piece_begin, std::byte{0});
    std::copy(part.begin(), part.end(), whole.begin() + (data_begin - piece_begin));
    tx.AddDataWrite(piece.device_block * kB, std::move(whole));
    inode.map.MarkWritten(piece.file_block, piece.file_block + piece.count);
    tx.MarkExtentsChanged(inode.ino);
    // Written blocks hold data: no longer speculative preallocation.
    allocator_.ForgetSpeculative(piece.device_block, piece.count);
  }
  return Status::Ok();
}

Status FileSystemImpl::PrepareUnwrittenConversion(Inode& inode, BlockMapChangeKind kind,
                                                  uint64_t begin, uint64_t end) {
  std::optional<BlockHull> unwritten = inode.map.Hull(
      begin, end, [](const MapPiece& piece) { return piece.mapped && piece.unwritten; });
  if (!unwritten) return Status::Ok();
  return PrepareBlockMapChange(inode, kind, unwritten->first * kB,
                               (unwritten->last - unwritten->first) * kB);
}

Result<size_t> FileSystemImpl::WriteAttempt(InodeNumber ino, uint64_t offset,
                                            std::span<const std::byte> data) {
  std::unique_lock lock(mu_);
  Result<size_t> written = WriteLocked(ino, offset, data);
  if (written.ok() || written.status().code() != Code::kNoSpace) return written;
  // Speculative preallocation of other files may stand in the way.
  Result<bool> reclaimed = ReclaimSpeculative(ino);
  if (!reclaimed.ok()) return reclaimed.status();
  return *reclaimed ? WriteLocked(ino, offset, data) : written;
}

Result<uint64_t> FileSystemImpl::Append(InodeNumber ino, std::span<const std::byte> data) {
  return RunAsBreaker([&]() -> Result<uint64_t> {
    std::unique_lock lock(mu_);
    MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
    const uint64_t offset = inode->record.size;
    Result<size_t> written = WriteLocked(ino, offset, data);
    if (!written.ok() && written.status().code() == Code::kNoSpace) {
      MDFS_ASSIGN_OR_RETURN(bool reclaimed, ReclaimSpeculative(ino));
      if (reclaimed) written = WriteLocked(ino, offset, data);
    }
    MDFS_RETURN_IF_ERROR(written.status());
    return offset;
  });
}

// REQUIRES: mu_ held exclusively.
Result<size_t> FileSystemImpl::WriteLocked(InodeNumber ino, uint64_t offset,
                                           std::span<const std::byte> data) {
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (inode->is_directory()) return IsDirectory("inode " + std::to_string(ino));
  if (!inode->is_regular())
    return InvalidArgument("inode " + std::to_string(ino) + " is not a regular file");
  if (data.empty()) return size_t{0};
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) {
    return FileTooLarge("write ends past the maximum file size (16 TiB)");
  }
  uint64_t end = offset + data.size();
  bool needs_transaction = end > inode->record.size;
  for (const MapPiece& piece : inode->map.Pieces(offset / kB, BlocksCeil(end))) {
    if (!piece.mapped || piece.unwritten) needs_transaction = true;
  }
  int64_t now = NowNs();
  if (!needs_transaction) {
    // A pure overwrite: no metadata changes but the times, which become
    // durable with the next transaction or Fsync.
    for (const MapPiece& piece : inode->map.Pieces(offset / kB, BlocksCeil(end))) {
      uint64_t piece_begin = std::max(offset, piece.file_block * kB);
      uint64_t piece_end = std::min(end, (piece.file_block + piece.count) * kB);
      MDFS_RETURN_IF_ERROR(
          device_->Write(piece.device_block * kB + (piece_begin - piece.file_block * kB),
                         data.subspan(piece_begin - offset, piece_end - piece_begin)));
    }
    inode->record.mtime_ns = inode->record.ctime_ns = now;
    inode_time_dirty_[ino] = true;
    return data.size();
  }
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  // Growing exposes what lies past the old EOF; WritePieces passes the gate
  // for the holes it fills and the unwritten blocks it converts.
  uint64_t old_size = target.record.size;
  Status status = end > old_size ? PrepareBlockMapChange(target, BlockMapChangeKind::kWriteAllocate,
                                                         old_size, kToEndOfFile - old_size)
                                 : Status::Ok();
  if (status.ok() && offset > old_size) {
    // The gap the write leaves past the old EOF is a hole: speculative
    // preallocation there goes (a sparse file stays sparse).
    status =
        TrimSpeculative(tx, target, 0, offset / kB, BlockMapChangeKind::kWriteAllocate).status();
    ZeroTailBeyondEof(tx, target);
  }
  if (status.ok()) status = WritePieces(tx, target, offset, data);
  if (status.ok()) {
    target.record.size = std::max(target.record.size, end);
    target.record.mtime_ns = target.record.ctime_ns = now;
  }
  MDFS_RETURN_IF_ERROR(Finish(tx, status));
  return data.size();
}

FileSystemImpl::~FileSystemImpl() {
  std::unique_lock lock(mu_);
  if (shutdown_ || read_only_) return;
  Transaction tx(&inodes_);
  for (uint64_t ino = 1; ino < inodes_.size(); ++ino) {
    if (inode_time_dirty_[ino] && inodes_[ino].in_use()) tx.Modify(ino);
  }
  if (!tx.empty()) {
    (void)Commit(tx);
  }
  (void)device_->Flush();
}

Status FileSystemImpl::Fsync(InodeNumber ino, bool data_only) {
  return RunAsBreaker([&] { return FsyncAttempt(ino, data_only); });
}

namespace {
// Whether the operation on this thread must wait for a recall (break_gate.h).
bool MustWaitForBreak() {
  OperationBreak* operation = OperationBreak::Current();
  return operation != nullptr && operation->must_wait();
}
}  // namespace

// Fsync: the writer is done with the file for now, so its speculative
// preallocation past EOF goes (as XFS trims post-EOF blocks), in the
// transaction that also commits the times of overwrites. fdatasync
// (data_only) changes no metadata: one flush.
Status FileSystemImpl::FsyncAttempt(InodeNumber ino, bool data_only) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  bool metadata = !data_only && !read_only_;
  if (metadata && inode->is_regular() && allocator_.speculative_blocks() != 0) {
    Transaction tx(&inodes_);
    Result<uint64_t> trimmed = TrimSpeculative(tx, tx.Modify(ino), 0, kMaxFileSize / kB + 1,
                                               BlockMapChangeKind::kPunchHole);
    if (trimmed.ok() && *trimmed == 0 && !inode_time_dirty_[ino]) {
      Abort(tx);  // nothing to trim: the saved copy is the inode as it is
    } else {
      // The commit also flushes the data written before it.
      Status status = Finish(tx, trimmed.status());
      if (status.ok() || shutdown_ || MustWaitForBreak()) return status;
      // The trim was refused (no block for a longer extent map, a
      // listener's error): fsync without it, below.
    }
  }
  if (metadata && inode_time_dirty_[ino]) {
    // The times changed by overwrites: one transaction (whose commit also
    // flushes the data written before it). fdatasync (data_only) skips
    // them, as Linux does for timestamps: the data needs one flush only.
    Transaction tx(&inodes_);
    tx.Modify(ino);
    return Commit(tx);
  }
  Status status = device_->Flush();
  if (!status.ok()) {
    shutdown_ = true;
    shutdown_reason_ = "shut down after a failed flush (" + status.ToString() + ")";
  }
  return status;
}

std::vector<ExtentInfo> FileSystemImpl::ExtentsLocked(const Inode& inode, uint64_t offset,
                                                      uint64_t length) const {
  uint64_t end = length > kMaxFileSize * 2 ? kMaxFileSize * 2 : offset + length;
  std::vector<ExtentInfo> result;
  const auto& extents = inode.map.extents();
  for (const MappedExtent& e : inode.map.Overlapping(offset / kB, BlocksCeil(end))) {
    ExtentInfo info;
    info.file_offset = e.file_block * kB;
    info.device_offset = e.device_block * kB;
    info.length = e.count * kB;
    info.flags = e.unwritten ? kExtentUnwritten : 0;
    if (!extents.empty() && e.file_block == extents.rbegin()->first) info.flags |= kExtentLast;
    result.push_back(info);
  }
  return result;
}

Result<std::vector<ExtentInfo>> FileSystemImpl::GetExtents(InodeNumber ino, uint64_t offset,
                                                           uint64_t length) {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  return ExtentsLocked(*inode, offset, length);
}

}  // namespace mdfs
