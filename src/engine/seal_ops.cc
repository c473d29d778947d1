// Seal and unseal: a persistent, immutable block map (the swapfile rule).
#include "engine/engine.h"

namespace mdfs {

namespace {
std::string InodeName(uint64_t ino) { return "inode " + std::to_string(ino); }
}  // namespace

Status FileSystemImpl::CheckSealable(const Inode& inode) const {
  for (const MapPiece& piece : inode.map.Pieces(0, BlocksCeil(inode.record.size))) {
    if (!piece.mapped) {
      return InvalidArgument(InodeName(inode.ino) + " has a hole at byte " +
                             std::to_string(piece.file_block * kB) +
                             "; a sealed file must have every block written");
    }
    if (piece.unwritten) {
      return InvalidArgument(InodeName(inode.ino) + " has an unwritten (preallocated) extent at byte " +
                             std::to_string(piece.file_block * kB) +
                             "; write it before sealing");
    }
  }
  return Status::Ok();
}

Status FileSystemImpl::SealAttempt(InodeNumber ino) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (inode->is_directory()) return IsDirectory(InodeName(ino) + " is a directory");
  if (!inode->is_regular()) return InvalidArgument(InodeName(ino) + " is not a regular file");
  if (inode->record.flags & kInodeFlagSealed) return Status::Ok();
  MDFS_RETURN_IF_ERROR(CheckSealable(*inode));
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  // Every layout of the file is recalled: afterwards mappings need none.
  Status status = PrepareBlockMapChange(target, BlockMapChangeKind::kSeal, 0, kToEndOfFile);
  if (status.ok()) {
    // Preallocated blocks past EOF go: the sealed map is exactly the file.
    status = FreeFileBlocks(tx, target, BlocksCeil(target.record.size), kMaxFileSize / kB + 1);
  }
  if (status.ok()) {
    target.record.flags |= kInodeFlagSealed;
    target.record.ctime_ns = NowNs();
  }
  return Finish(tx, status);
}

Status FileSystemImpl::UnsealAttempt(InodeNumber ino) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (inode->is_directory()) return IsDirectory(InodeName(ino) + " is a directory");
  if (!inode->is_regular()) return InvalidArgument(InodeName(ino) + " is not a regular file");
  if (!(inode->record.flags & kInodeFlagSealed)) return Status::Ok();
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  // The listener refuses while lease-free mappings of the sealed file exist.
  Status status = PrepareBlockMapChange(target, BlockMapChangeKind::kUnseal, 0, kToEndOfFile);
  if (status.ok()) {
    target.record.flags &= ~kInodeFlagSealed;
    target.record.ctime_ns = NowNs();
  }
  return Finish(tx, status);
}

}  // namespace mdfs
