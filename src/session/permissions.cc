#include "session/permissions.h"

#include <sys/stat.h>

#include <cstdio>
#include <string>

namespace mdfs::session_internal {
namespace {

std::string Who(const Credentials& who) {
  return "uid " + std::to_string(who.uid) + " gid " + std::to_string(who.gid);
}

std::string Inode(const Attributes& inode) { return "inode " + std::to_string(inode.ino); }

std::string MaskName(int mask) {
  std::string name;
  if (mask & kMayRead) name += "read";
  if (mask & kMayWrite) name += name.empty() ? "write" : "+write";
  if (mask & kMayExec) name += name.empty() ? "search/execute" : "+search/execute";
  return name;
}

std::string Octal(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04o", mode);
  return text;
}

bool ExecutableSetgid(uint32_t mode) { return (mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP); }

// The permission bits without S_ISUID and an executable S_ISGID (what
// Linux's should_remove_suid clears); nullopt when neither is set.
std::optional<uint32_t> WithoutSetIds(uint32_t st_mode) {
  uint32_t mode = st_mode & 07777;
  uint32_t cleared = mode & ~static_cast<uint32_t>(S_ISUID);
  if (ExecutableSetgid(mode)) cleared &= ~static_cast<uint32_t>(S_ISGID);
  if (cleared == mode) return std::nullopt;
  return cleared;
}

}  // namespace

bool IsRoot(const Credentials& who) { return who.uid == 0; }

bool IsOwnerOrRoot(const Credentials& who, const Attributes& inode) {
  return IsRoot(who) || who.uid == inode.uid;
}

Status CheckAccess(const Credentials& who, const Attributes& inode, int mask) {
  if (IsRoot(who)) {
    // CAP_DAC_OVERRIDE: everything but executing a file with no x bit.
    bool exec_ok = S_ISDIR(inode.mode) || (inode.mode & (S_IXUSR | S_IXGRP | S_IXOTH));
    if (!(mask & kMayExec) || exec_ok) return Status::Ok();
  } else {
    uint32_t bits = inode.mode & 07;
    if (who.uid == inode.uid) {
      bits = (inode.mode >> 6) & 07;
    } else if (who.InGroup(inode.gid)) {
      bits = (inode.mode >> 3) & 07;
    }
    if ((static_cast<uint32_t>(mask) & ~bits) == 0) return Status::Ok();
  }
  return AccessDenied(Who(who) + " may not " + MaskName(mask) + " " + Inode(inode) + " (mode " +
                      Octal(inode.mode & 07777) + ", owner " + std::to_string(inode.uid) + ":" +
                      std::to_string(inode.gid) + ")");
}

Status CheckDelete(const Credentials& who, const Attributes& dir, const Attributes& victim) {
  MDFS_RETURN_IF_ERROR(CheckAccess(who, dir, kMayWrite | kMayExec));
  if (!(dir.mode & S_ISVTX) || IsRoot(who) || who.uid == victim.uid || who.uid == dir.uid) {
    return Status::Ok();
  }
  return PermissionDenied(Who(who) + " may not remove " + Inode(victim) + " (owner " +
                          std::to_string(victim.uid) + ") from sticky directory " +
                          std::to_string(dir.ino) + " (owner " + std::to_string(dir.uid) + ")");
}

Result<uint32_t> ModeForChmod(const Credentials& who, const Attributes& inode, uint32_t mode) {
  if (!IsOwnerOrRoot(who, inode)) {
    return PermissionDenied(Who(who) + " may not chmod " + Inode(inode) + ", owned by uid " +
                            std::to_string(inode.uid));
  }
  mode &= 07777;
  if (!IsRoot(who) && !who.InGroup(inode.gid)) mode &= ~static_cast<uint32_t>(S_ISGID);
  return mode;
}

Status CheckChown(const Credentials& who, const Attributes& inode, uint32_t mask, uint32_t uid,
                  uint32_t gid) {
  if (IsRoot(who)) return Status::Ok();
  const bool uid_changes = (mask & kSetUid) && uid != inode.uid;
  const bool gid_changes = (mask & kSetGid) && gid != inode.gid;
  if (uid_changes) {
    return PermissionDenied(Who(who) + " may not give " + Inode(inode) + " to uid " +
                            std::to_string(uid) + ": only root changes an owner");
  }
  if (!(mask & (kSetUid | kSetGid))) return Status::Ok();
  if (who.uid != inode.uid) {
    return PermissionDenied(Who(who) + " may not chown " + Inode(inode) + ", owned by uid " +
                            std::to_string(inode.uid));
  }
  if (gid_changes && !who.InGroup(gid)) {
    return PermissionDenied(Who(who) + " is not in group " + std::to_string(gid) +
                            ", so may not give it " + Inode(inode));
  }
  return Status::Ok();
}

std::optional<uint32_t> ModeAfterChown(const Attributes& inode) {
  if (S_ISDIR(inode.mode)) return std::nullopt;
  return WithoutSetIds(inode.mode);
}

Status CheckTimes(const Credentials& who, const Attributes& inode, bool explicit_time) {
  if (IsOwnerOrRoot(who, inode)) return Status::Ok();
  if (explicit_time) {
    return PermissionDenied(Who(who) + " may not set the times of " + Inode(inode) +
                            " (owner uid " + std::to_string(inode.uid) + ")");
  }
  return CheckAccess(who, inode, kMayWrite);
}

std::optional<uint32_t> ModeAfterWrite(const Credentials& who, const Attributes& inode) {
  if (IsRoot(who) || !S_ISREG(inode.mode)) return std::nullopt;
  return WithoutSetIds(inode.mode);
}

NewInodeOwner OwnerOfNewInode(const Credentials& who, const Attributes& dir, uint32_t mode) {
  NewInodeOwner owner{who.uid, who.gid, mode};
  if (!(dir.mode & S_ISGID)) return owner;
  owner.gid = dir.gid;
  if (S_ISDIR(mode)) {
    owner.mode |= S_ISGID;
  } else if (ExecutableSetgid(mode) && !IsRoot(who) && !who.InGroup(dir.gid)) {
    owner.mode &= ~static_cast<uint32_t>(S_ISGID);
  }
  return owner;
}

Status CheckHardLinkSource(const Credentials& who, const Attributes& source) {
  if (IsOwnerOrRoot(who, source)) return Status::Ok();
  const bool safe = S_ISREG(source.mode) && !(source.mode & S_ISUID) &&
                    !ExecutableSetgid(source.mode) &&
                    CheckAccess(who, source, kMayRead | kMayWrite).ok();
  if (safe) return Status::Ok();
  return PermissionDenied(Who(who) + " may not hard-link " + Inode(source) + " (owner uid " +
                          std::to_string(source.uid) +
                          "): protected_hardlinks needs a regular, non-setuid file the caller "
                          "may read and write");
}

}  // namespace mdfs::session_internal
