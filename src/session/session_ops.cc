// SessionImpl: namespace and attribute operations, each checked against
// the session's credentials (permissions.h) before the engine runs it.
#include <fcntl.h>
#include <sys/stat.h>

#include "lease/leases.h"
#include "session/permissions.h"
#include "session/session_impl.h"

namespace mdfs::session_internal {

Status SessionState::Closed() { return BadHandle("the session is closed"); }

OpenReference::~OpenReference() {
  BreakScope scope({.self = session_});
  (void)engine_->DropOpenReference(ino_);
}

SessionImpl::SessionImpl(VolumeParts* parts, Credentials credentials)
    : state_(std::make_shared<SessionState>(parts, std::move(credentials))) {
  Result<Attributes> root = parts->fs->GetAttributes(kRootInode);
  root_ = root.ok() ? Handle::Of(*root) : Handle{kRootInode, 0};
}

SessionImpl::~SessionImpl() { Close(); }

void SessionImpl::Close() {
  std::lock_guard lock(state_->mu);
  if (state_->closed.load()) return;
  state_->closed.store(true, std::memory_order_release);
  // Invariant 2: no mapping keeps a layout past Close.
  for (direct_internal::DirectMappingImpl* mapping : state_->mappings) mapping->Abandon();
}

Status SessionImpl::NotCurrent(Handle handle, const Result<Attributes>& attributes) {
  if (!attributes.ok() && attributes.status().code() == Code::kNotFound) {
    return Stale("inode " + std::to_string(handle.ino) + " generation " +
                 std::to_string(handle.generation) + " was freed");
  }
  if (!attributes.ok()) return attributes.status();
  if (attributes->generation != handle.generation) {
    return Stale("inode " + std::to_string(handle.ino) + " generation " +
                 std::to_string(handle.generation) + " was freed and reused (now generation " +
                 std::to_string(attributes->generation) + ")");
  }
  return Stale("inode " + std::to_string(handle.ino) +
               " was unlinked; only its open files reach it");
}

Result<Attributes> SessionImpl::Directory(Handle dir, int mask) {
  MDFS_ASSIGN_OR_RETURN(Attributes attributes, Current(dir));
  if (!S_ISDIR(attributes.mode)) {
    return NotDirectory("inode " + std::to_string(dir.ino) + " is not a directory");
  }
  MDFS_RETURN_IF_ERROR(CheckAccess(who(), attributes, mask | kMayExec));
  return attributes;
}

Result<Attributes> SessionImpl::Lookup(Handle dir, std::string_view name) {
  MDFS_ASSIGN_OR_RETURN(Attributes parent, Directory(dir, kMayExec));
  return engine().Lookup(parent.ino, name);
}

Result<Attributes> SessionImpl::CreationDirectory(Handle dir, std::string_view name) {
  // Linux's order: the name is looked up (search) and EEXIST wins over the
  // directory's write permission.
  MDFS_ASSIGN_OR_RETURN(Attributes parent, Directory(dir, kMayExec));
  Result<Attributes> existing = engine().Lookup(parent.ino, name);
  if (existing.ok()) {
    return Exists("\"" + std::string(name) + "\" exists in directory " + std::to_string(dir.ino));
  }
  MDFS_RETURN_IF_ERROR(CheckAccess(who(), parent, kMayWrite | kMayExec));
  return parent;
}

Result<Attributes> SessionImpl::Mkdir(Handle dir, std::string_view name, uint32_t mode) {
  MDFS_ASSIGN_OR_RETURN(Attributes parent, CreationDirectory(dir, name));
  NewInodeOwner owner = OwnerOfNewInode(who(), parent, S_IFDIR | (mode & 07777));
  return engine().Mkdir(parent.ino, name, owner.mode, owner.uid, owner.gid);
}

Result<Attributes> SessionImpl::Symlink(Handle dir, std::string_view name,
                                        std::string_view target) {
  MDFS_ASSIGN_OR_RETURN(Attributes parent, CreationDirectory(dir, name));
  NewInodeOwner owner = OwnerOfNewInode(who(), parent, S_IFLNK | 0777);
  return engine().Symlink(parent.ino, name, target, owner.uid, owner.gid);
}

Result<Attributes> SessionImpl::Link(Handle file, Handle dir, std::string_view name) {
  // Linux's order: the lookups (search), protected_hardlinks (EPERM), then
  // may_create on the directory (EACCES).
  MDFS_ASSIGN_OR_RETURN(Attributes source, Current(file));
  MDFS_ASSIGN_OR_RETURN(Attributes parent, Directory(dir, kMayExec));
  if (S_ISDIR(source.mode)) return PermissionDenied("hard link to a directory");
  MDFS_RETURN_IF_ERROR(CheckHardLinkSource(who(), source));
  MDFS_RETURN_IF_ERROR(CheckAccess(who(), parent, kMayWrite | kMayExec));
  return engine().Link(source.ino, parent.ino, name);
}

// Removals: the name is looked up first (search; ENOENT wins over EACCES),
// then may_delete (CheckDelete), as Linux's unlinkat / rmdir.
Status SessionImpl::Unlink(Handle dir, std::string_view name, CallOptions call) {
  MDFS_ASSIGN_OR_RETURN(Attributes parent, Directory(dir, kMayExec));
  MDFS_ASSIGN_OR_RETURN(Attributes victim, engine().Lookup(parent.ino, name));
  MDFS_RETURN_IF_ERROR(CheckDelete(who(), parent, victim));
  BreakScope scope(state_->Breaking(call));
  return engine().Unlink(parent.ino, name);
}

Status SessionImpl::Rmdir(Handle dir, std::string_view name, CallOptions call) {
  MDFS_ASSIGN_OR_RETURN(Attributes parent, Directory(dir, kMayExec));
  Result<Attributes> victim = engine().Lookup(parent.ino, name);
  if (victim.ok()) {
    MDFS_RETURN_IF_ERROR(CheckDelete(who(), parent, *victim));
  } else {
    MDFS_RETURN_IF_ERROR(CheckAccess(who(), parent, kMayWrite | kMayExec));
  }
  BreakScope scope(state_->Breaking(call));
  return engine().Rmdir(parent.ino, name);  // ".", "..", missing: the engine's errors
}

Status SessionImpl::Rename(Handle dir, std::string_view name, Handle new_dir,
                           std::string_view new_name, uint32_t flags, CallOptions call) {
  // Linux's order (vfs_rename): the lookups (search on both directories),
  // may_delete of the source, may_delete of the target or may_create of
  // the new name, then write on a directory that changes parent.
  MDFS_ASSIGN_OR_RETURN(Attributes from, Directory(dir, kMayExec));
  MDFS_ASSIGN_OR_RETURN(Attributes to, Directory(new_dir, kMayExec));
  MDFS_ASSIGN_OR_RETURN(Attributes source, engine().Lookup(from.ino, name));
  MDFS_RETURN_IF_ERROR(CheckDelete(who(), from, source));
  Result<Attributes> target = engine().Lookup(to.ino, new_name);
  if (target.ok()) {
    MDFS_RETURN_IF_ERROR(CheckDelete(who(), to, *target));
  } else {
    MDFS_RETURN_IF_ERROR(CheckAccess(who(), to, kMayWrite | kMayExec));
  }
  // A directory that changes parent rewrites its "..": write permission on it.
  if (S_ISDIR(source.mode) && from.ino != to.ino) {
    MDFS_RETURN_IF_ERROR(CheckAccess(who(), source, kMayWrite));
  }
  if ((flags & kRenameExchange) && target.ok() && S_ISDIR(target->mode) && from.ino != to.ino) {
    MDFS_RETURN_IF_ERROR(CheckAccess(who(), *target, kMayWrite));
  }
  BreakScope scope(state_->Breaking(call));
  return engine().Rename(from.ino, name, to.ino, new_name, flags);
}

Result<std::vector<DirectoryEntry>> SessionImpl::ReadDirectory(Handle dir) {
  MDFS_ASSIGN_OR_RETURN(Attributes attributes, Current(dir));
  if (!S_ISDIR(attributes.mode)) {
    return NotDirectory("inode " + std::to_string(dir.ino) + " is not a directory");
  }
  MDFS_RETURN_IF_ERROR(CheckAccess(who(), attributes, kMayRead));
  return engine().ReadDirectory(attributes.ino);
}

Result<std::string> SessionImpl::ReadLink(Handle link) {
  MDFS_ASSIGN_OR_RETURN(Attributes attributes, Current(link));
  return engine().ReadLink(attributes.ino);
}

Result<Attributes> SessionImpl::GetAttributes(Handle handle) { return Current(handle); }

Result<Attributes> SessionImpl::SetAttributes(Handle handle, const SetAttributesRequest& request,
                                              CallOptions call) {
  MDFS_ASSIGN_OR_RETURN(Attributes inode, Current(handle));
  return SetAttributesChecked(inode, request, call);
}

Result<Attributes> SessionImpl::SetAttributesChecked(const Attributes& inode,
                                                     const SetAttributesRequest& asked,
                                                     CallOptions call) {
  constexpr uint32_t kKnown =
      kSetMode | kSetUid | kSetGid | kSetSize | kSetAtime | kSetMtime | kSetAtimeNow | kSetMtimeNow;
  if (asked.mask & ~kKnown) {
    return NotSupported("unknown attribute mask bits " + std::to_string(asked.mask & ~kKnown));
  }
  SetAttributesRequest request = asked;
  request.mask &= ~(kSetAtimeNow | kSetMtimeNow);
  if (asked.mask & kSetSize) {
    if (S_ISDIR(inode.mode)) return IsDirectory("inode " + std::to_string(inode.ino));
    MDFS_RETURN_IF_ERROR(CheckAccess(who(), inode, kMayWrite));
    if (std::optional<uint32_t> mode = ModeAfterWrite(who(), inode)) {
      request.mask |= kSetMode;
      request.mode = *mode;
    }
  }
  if (asked.mask & kSetMode) {
    MDFS_ASSIGN_OR_RETURN(request.mode, ModeForChmod(who(), inode, asked.mode));
  }
  if (asked.mask & (kSetUid | kSetGid)) {
    MDFS_RETURN_IF_ERROR(CheckChown(who(), inode, asked.mask, asked.uid, asked.gid));
    Attributes before = inode;
    if (request.mask & kSetMode) before.mode = (inode.mode & S_IFMT) | request.mode;
    if (std::optional<uint32_t> mode = ModeAfterChown(before)) {
      request.mask |= kSetMode;
      request.mode = *mode;
    }
  }
  const bool explicit_time = asked.mask & (kSetAtime | kSetMtime);
  const bool now_time = asked.mask & (kSetAtimeNow | kSetMtimeNow);
  if (explicit_time || now_time) MDFS_RETURN_IF_ERROR(CheckTimes(who(), inode, explicit_time));
  const Timestamp now{state_->parts->clock->NowRealtimeNs()};
  if (asked.mask & kSetAtimeNow) request.mask |= kSetAtime, request.atime = now;
  if (asked.mask & kSetMtimeNow) request.mask |= kSetMtime, request.mtime = now;
  BreakScope scope(state_->Breaking(call));
  Result<Attributes> result = engine().SetAttributes(inode.ino, request);
  if ((request.mask & kSetMode) && (request.mode & (S_ISUID | S_ISGID))) {
    // After the change (VolumeParts::privileged_mode_changes), whatever
    // its outcome.
    state_->parts->privileged_mode_changes->fetch_add(1, std::memory_order_acq_rel);
  }
  return result;
}

}  // namespace mdfs::session_internal
