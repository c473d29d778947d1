// POSIX permission rules of a local Linux file system (no ACLs), as the
// session layer applies them (doc/api.md, "Permissions"). Pure functions of
// credentials and attributes: the callers fetch the attributes.
//
// Root (uid 0) stands for a caller with every capability: it reads and
// writes anything, searches any directory, and executes a file with any x
// bit (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_CHOWN).
#ifndef MDFS_SRC_SESSION_PERMISSIONS_H_
#define MDFS_SRC_SESSION_PERMISSIONS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "mdfs/session.h"

namespace mdfs::session_internal {

inline constexpr int kMayExec = 1;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayRead = 4;

bool IsRoot(const Credentials& who);
bool IsOwnerOrRoot(const Credentials& who, const Attributes& inode);

// kAccessDenied unless `who` may `mask` (kMay* bits) the inode: the owner
// class if uid matches, else the group class if in its group, else other
// (the classes are exclusive, as in Linux's generic_permission).
Status CheckAccess(const Credentials& who, const Attributes& inode, int mask);

// Removing (or replacing) `victim` from `dir`: write + search on the
// directory (kAccessDenied), then the sticky rule (kPermissionDenied): in a
// sticky directory only the owner of the victim or of the directory, or
// root, may.
Status CheckDelete(const Credentials& who, const Attributes& dir, const Attributes& victim);

// chmod: owner or root (kPermissionDenied). Returns the mode to store:
// S_ISGID is dropped for a caller outside the file's group (unless root).
Result<uint32_t> ModeForChmod(const Credentials& who, const Attributes& inode, uint32_t mode);
// chown: root changes anything; the owner may only set the group to one of
// its groups (kPermissionDenied otherwise).
Status CheckChown(const Credentials& who, const Attributes& inode, uint32_t mask, uint32_t uid,
                  uint32_t gid);
// After chown of a non-directory, by anyone: S_ISUID and an executable
// S_ISGID are cleared. nullopt: nothing to clear.
std::optional<uint32_t> ModeAfterChown(const Attributes& inode);
// utimes: explicit times need owner or root (kPermissionDenied); "now"
// needs owner, root or write permission (kAccessDenied).
Status CheckTimes(const Credentials& who, const Attributes& inode, bool explicit_time);
// A write or truncate by a non-root caller clears S_ISUID and an
// executable S_ISGID of a regular file. nullopt: nothing to clear.
std::optional<uint32_t> ModeAfterWrite(const Credentials& who, const Attributes& inode);

// The owner, group and mode of a new inode in `dir`: the caller's ids,
// except in a setgid directory (the directory's group; a new directory
// inherits S_ISGID; a new executable-setgid file of a caller outside the
// group loses S_ISGID).
struct NewInodeOwner {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;
};
NewInodeOwner OwnerOfNewInode(const Credentials& who, const Attributes& dir, uint32_t mode);

// fs.protected_hardlinks = 1 (Debian's default): a caller who does not own
// the source (and is not root) may link only a regular file that is not
// setuid or executable-setgid and that it may read and write
// (kPermissionDenied otherwise).
Status CheckHardLinkSource(const Credentials& who, const Attributes& source);

}  // namespace mdfs::session_internal

#endif  // MDFS_SRC_SESSION_PERMISSIONS_H_
