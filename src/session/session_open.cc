// Session::Open / OpenHandle / OpenPath: POSIX open(2) over the engine.
#include <fcntl.h>
#include <sys/stat.h>

#include "session/permissions.h"
#include "session/session_impl.h"

namespace mdfs::session_internal {
namespace {

constexpr int kKnownOpenFlags = O_ACCMODE | O_APPEND | O_TRUNC | O_CREAT | O_EXCL | O_DIRECTORY |
                                O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_SYNC | O_DSYNC;

// Splits "/a/b/c" into "/a/b" and "c"; "c" into "" and "c"; "/" into "/"
// and "". Trailing slashes stay with the last component's check.
std::pair<std::string_view, std::string_view> SplitLast(std::string_view path) {
  size_t end = path.find_last_not_of('/');
  if (end == std::string_view::npos) return {path, {}};
  size_t slash = path.rfind('/', end);
  std::string_view name = path.substr(slash == std::string_view::npos ? 0 : slash + 1,
                                      end - (slash == std::string_view::npos ? 0 : slash + 1) + 1);
  if (slash == std::string_view::npos) return {{}, name};
  return {slash == 0 ? path.substr(0, 1) : path.substr(0, slash), name};
}

}  // namespace

Status CheckOpenFlags(int flags) {
  if (flags & ~kKnownOpenFlags) {
    return NotSupported("open flags " + std::to_string(flags & ~kKnownOpenFlags) +
                        " are not supported");
  }
  if ((flags & O_ACCMODE) == O_ACCMODE) return InvalidArgument("open access mode 3");
  return Status::Ok();
}

bool OpenForReading(int flags) { return (flags & O_ACCMODE) != O_WRONLY; }
bool OpenForWriting(int flags) { return (flags & O_ACCMODE) != O_RDONLY; }

Result<std::unique_ptr<File>> SessionImpl::OpenExisting(const Attributes& inode, int flags) {
  if (S_ISLNK(inode.mode)) {
    return Loop("inode " + std::to_string(inode.ino) + " is a symbolic link (O_NOFOLLOW)");
  }
  const bool directory = S_ISDIR(inode.mode);
  if ((flags & O_DIRECTORY) && !directory) {
    return NotDirectory("inode " + std::to_string(inode.ino) + " is not a directory");
  }
  if (directory && (OpenForWriting(flags) || (flags & O_TRUNC))) {
    return IsDirectory("inode " + std::to_string(inode.ino) + " is a directory: open it read-only");
  }
  int mask = (OpenForReading(flags) ? kMayRead : 0) | (OpenForWriting(flags) ? kMayWrite : 0);
  if (flags & O_TRUNC) mask |= kMayWrite;
  MDFS_RETURN_IF_ERROR(CheckAccess(who(), inode, mask));
  MDFS_ASSIGN_OR_RETURN(std::unique_ptr<File> file, MakeFile(state_, inode, flags));
  if ((flags & O_TRUNC) && inode.size > 0) {
    MDFS_RETURN_IF_ERROR(file->Truncate(0, {.nonblocking = (flags & O_NONBLOCK) != 0}));
  }
  return file;
}

Result<std::unique_ptr<File>> SessionImpl::CreateAndOpen(const Attributes& dir,
                                                         std::string_view name, int flags,
                                                         uint32_t mode) {
  MDFS_RETURN_IF_ERROR(CheckAccess(who(), dir, kMayWrite | kMayExec));
  NewInodeOwner owner = OwnerOfNewInode(who(), dir, S_IFREG | (mode & 07777));
  Result<Attributes> created = engine().Create(dir.ino, name, owner.mode, owner.uid, owner.gid);
  if (!created.ok() && created.status().code() == Code::kExists && !(flags & O_EXCL)) {
    // Created by someone else meanwhile: open theirs.
    MDFS_ASSIGN_OR_RETURN(Attributes existing, engine().Lookup(dir.ino, name));
    return OpenExisting(existing, flags & ~O_TRUNC);
  }
  MDFS_RETURN_IF_ERROR(created.status());
  // The creator may use the new file whatever its mode says (as open(2)).
  return MakeFile(state_, *created, flags);
}

Result<std::unique_ptr<File>> SessionImpl::Open(Handle dir, std::string_view name, int flags,
                                                uint32_t mode) {
  MDFS_RETURN_IF_ERROR(CheckOpenFlags(flags));
  MDFS_ASSIGN_OR_RETURN(Attributes parent, Directory(dir, kMayExec));
  Result<Attributes> found = engine().Lookup(parent.ino, name);
  if (!found.ok()) {
    if (found.status().code() != Code::kNotFound || !(flags & O_CREAT)) return found.status();
    return CreateAndOpen(parent, name, flags, mode);
  }
  if ((flags & O_CREAT) && (flags & O_EXCL)) {
    return Exists("\"" + std::string(name) + "\" exists in directory " + std::to_string(dir.ino));
  }
  Attributes inode = *found;
  if (S_ISLNK(inode.mode) && !(flags & O_NOFOLLOW)) {
    int links_left = 40;
    MDFS_ASSIGN_OR_RETURN(std::string target, engine().ReadLink(inode.ino));
    MDFS_ASSIGN_OR_RETURN(inode, WalkFrom(parent, target, true, &links_left));
  }
  if ((flags & O_CREAT) && S_ISDIR(inode.mode)) {
    return IsDirectory("\"" + std::string(name) + "\" is a directory (O_CREAT)");
  }
  return OpenExisting(inode, flags);
}

Result<std::unique_ptr<File>> SessionImpl::OpenHandle(Handle handle, int flags) {
  MDFS_RETURN_IF_ERROR(CheckOpenFlags(flags));
  if (flags & (O_CREAT | O_EXCL)) return InvalidArgument("O_CREAT needs a name (use Open)");
  MDFS_ASSIGN_OR_RETURN(Attributes inode, Current(handle));
  return OpenExisting(inode, flags);
}

Result<std::unique_ptr<File>> SessionImpl::OpenPath(std::string_view path, int flags,
                                                    uint32_t mode) {
  MDFS_RETURN_IF_ERROR(CheckOpenFlags(flags));
  auto [parent_path, name] = SplitLast(path);
  if (name.empty() || name == "." || name == "..") {
    MDFS_ASSIGN_OR_RETURN(Attributes inode, Resolve(path, true, std::nullopt));
    if (flags & O_CREAT) return IsDirectory(std::string(path) + " is a directory (O_CREAT)");
    return OpenExisting(inode, flags);
  }
  MDFS_ASSIGN_OR_RETURN(Attributes parent, parent_path.empty()
                                               ? Current(root_)
                                               : Resolve(parent_path, true, std::nullopt));
  const bool trailing_slash = path.back() == '/';
  if (trailing_slash) flags |= O_DIRECTORY;
  if (trailing_slash && (flags & O_CREAT)) {
    return IsDirectory(std::string(path) + ": O_CREAT of a name ending in '/'");
  }
  return Open(Handle::Of(parent), name, flags, mode);
}

}  // namespace mdfs::session_internal
