// Open references (the session layer's open files) and unlinked inodes.
//
// POSIX keeps a file whose last name is removed while it is open: readable
// and writable until its last close. The engine counts open references per
// inode (open_references_); DropLink of the last name of a referenced
// inode does not free it but marks it kInodeFlagUnlinked with nlink 0, in
// the same transaction that removes the name, so the mark is durable with
// the unlink. The last DropOpenReference frees it; after a crash, the next
// writable open frees every marked inode (FreeUnlinkedInodes), which is
// what makes the mark a durable orphan list (doc/format.md, "unlinked
// inodes").
#include "engine/break_gate.h"
#include "engine/engine.h"

namespace mdfs {

Result<Attributes> FileSystemImpl::AddOpenReference(InodeNumber ino, uint32_t generation) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetCurrentInode(ino, generation));
  if (inode->record.flags & kInodeFlagUnlinked) {
    return Stale("inode " + std::to_string(ino) + " was unlinked; only its open files reach it");
  }
  ++open_references_[ino];
  return ToAttributes(*inode);
}

Result<Inode*> FileSystemImpl::GetCurrentInode(InodeNumber ino, uint32_t generation) {
  if (ino == 0 || ino >= inodes_.size()) return Stale("no inode " + std::to_string(ino));
  if (!inodes_[ino].damage.empty()) return Corruption(inodes_[ino].damage);
  const Inode& inode = inodes_[ino];
  if (!inode.in_use() || inode.record.generation != generation) {
    return Stale("inode " + std::to_string(ino) + " generation " + std::to_string(generation) +
                 (inode.in_use() ? " was freed and reused (now generation " +
                                       std::to_string(inode.record.generation) + ")"
                                 : " was freed"));
  }
  return &inodes_[ino];
}

Status FileSystemImpl::DropOpenReference(InodeNumber ino) {
  return RunAsBreaker([&] { return DropOpenReferenceAttempt(ino); });
}

Status FileSystemImpl::DropOpenReferenceAttempt(InodeNumber ino) {
  std::unique_lock lock(mu_);
  auto it = open_references_.find(ino);
  if (it == open_references_.end()) {
    return InvalidArgument("inode " + std::to_string(ino) + " has no open reference");
  }
  const bool last = it->second == 1;
  const Inode& inode = inodes_[ino];
  if (!last || !(inode.record.flags & kInodeFlagUnlinked) || read_only_) {
    if (!last)
      --it->second;
    else
      open_references_.erase(it);
    return Status::Ok();
  }
  // The last reference of an unlinked inode: free it. The reference stays
  // counted until the free committed (or failed for good), so a retry after
  // a recall finds it again.
  Transaction tx(&inodes_);
  Status status = Finish(tx, FreeInode(tx, ino));
  if (OperationBreak::Current() != nullptr && OperationBreak::Current()->must_wait()) {
    return status;  // RunAsBreaker runs the attempt again
  }
  open_references_.erase(ino);
  return status;
}

uint32_t FileSystemImpl::OpenReferences(InodeNumber ino) const {
  auto it = open_references_.find(ino);
  return it == open_references_.end() ? 0 : it->second;
}

Status FileSystemImpl::MarkUnlinked(Transaction& tx, uint64_t ino) {
  Inode& inode = tx.Modify(ino);
  inode.record.nlink = 0;
  inode.record.flags |= kInodeFlagUnlinked;
  inode.record.ctime_ns = NowNs();
  return Status::Ok();
}

Result<uint64_t> FileSystemImpl::FreeUnlinkedInodes() {
  std::unique_lock lock(mu_);
  if (read_only_) return uint64_t{0};
  uint64_t freed = 0;
  for (uint64_t ino = 1; ino < inodes_.size();) {
    // Batches within half the journal, as ReclaimSpeculative does.
    Transaction tx(&inodes_);
    Status status;
    for (; ino < inodes_.size() && status.ok() && CountImages(tx) * 2 < journal_.max_images();
         ++ino) {
      const Inode& inode = inodes_[ino];
      if (!inode.in_use() || !(inode.record.flags & kInodeFlagUnlinked)) continue;
      status = FreeInode(tx, ino);
      freed += status.ok();
    }
    MDFS_RETURN_IF_ERROR(Finish(tx, status));
  }
  return freed;
}

}  // namespace mdfs
