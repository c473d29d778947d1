// getattr / setattr.
#include <sys/stat.h>

#include "engine/engine.h"

namespace mdfs {

Result<Attributes> FileSystemImpl::GetAttributes(InodeNumber ino) {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  return ToAttributes(*inode);
}

Result<Attributes> FileSystemImpl::SetAttributesAttempt(InodeNumber ino,
                                                 const SetAttributesRequest& request) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_RETURN_IF_ERROR(GetInode(ino).status());
  constexpr uint32_t kKnown = kSetMode | kSetUid | kSetGid | kSetSize | kSetAtime | kSetMtime;
  if (request.mask & ~kKnown) return InvalidArgument("unknown attribute mask bits");
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  Status status;
  if (request.mask & kSetSize) status = TruncateLocked(tx, target, request.size);
  if (status.ok()) {
    format::InodeRecord& r = target.record;
    if (request.mask & kSetMode) r.mode = (r.mode & S_IFMT) | (request.mode & 07777);
    if (request.mask & kSetUid) r.uid = request.uid;
    if (request.mask & kSetGid) r.gid = request.gid;
    if (request.mask & kSetAtime) r.atime_ns = request.atime.ns;
    if (request.mask & kSetMtime) r.mtime_ns = request.mtime.ns;
    r.ctime_ns = NowNs();
  }
  MDFS_RETURN_IF_ERROR(Finish(tx, status));
  return ToAttributes(inodes_[ino]);
}

}  // namespace mdfs
