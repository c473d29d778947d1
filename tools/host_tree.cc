#include "host_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace mdfs::cli {
namespace {

// "a regular file", "a symbolic link", ...: what a host entry is.
std::string HostKind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFLNK:
      return "a symbolic link";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    case S_IFBLK:
    case S_IFCHR:
      return "a device";
    default:
      return "a file of unknown type";
  }
}

// kExists: the host entry at `host_path` is not `wanted` and stays as it is.
Status InTheWay(const std::string& host_path, mode_t mode, const std::string& wanted) {
  std::string message = host_path + " is " + HostKind(mode) + " on the host, not " + wanted +
                        "; get -r leaves it alone";
  if (S_ISLNK(mode)) message += " and does not follow it";
  return Exists(message);
}

Status HostError(const std::string& host_path, std::string_view operation) {
  return HostErrnoStatus(operation, errno).WithContext(host_path);
}

// The type of the entry `name` of `dir_fd` itself (a link is not followed).
Result<mode_t> EntryMode(int dir_fd, const std::string& name, const std::string& host_path) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return HostError(host_path, "stat");
  }
  return st.st_mode;
}

timespec ToTimespec(Timestamp time) {
  int64_t seconds = time.ns / 1'000'000'000;
  int64_t nanos = time.ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  return timespec{static_cast<time_t>(seconds), static_cast<long>(nanos)};
}

bool RunAsRoot() { return ::geteuid() == 0; }

// The permission bits to give the host copy. Without the image's owner
// (not root, and another uid or gid) set-user-ID and set-group-ID are
// dropped, as cp drops them when it cannot preserve the owner.
mode_t HostMode(const Attributes& attributes) {
  mode_t mode = attributes.mode & 07777;
  bool same_owner = attributes.uid == ::geteuid() && attributes.gid == ::getegid();
  if (!RunAsRoot() && !same_owner) mode &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
  return mode;
}

}  // namespace

Status CheckHostName(const std::string& name) {
  if (!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
      name.find('\0') == std::string::npos) {
    return Status::Ok();
  }
  return InvalidArgument("'" + name +
                         "' cannot name a host file (empty, '.', '..', or holding '/' or NUL)");
}

Result<HostFile> OpenTopDirectory(const std::string& path, const HostIdentity& image,
                                  const std::string& image_path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    if (SameHostFile(IdentityOfPath(path), image)) {
      return InvalidArgument("'" + path + "' is the image " + image_path +
                             " itself (the same file); refusing to write into it");
    }
    return NotDirectory("exists and is not a directory; get -r copies a tree into a directory");
  }
  bool created = ::mkdir(path.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) return HostErrnoStatus("create the directory", errno);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (created ? O_NOFOLLOW : 0));
  if (fd < 0) return HostErrnoStatus("open the directory", errno);
  return HostFile(fd, /*owned=*/true);
}

Result<HostFile> OpenDirectoryAt(int parent_fd, const std::string& name,
                                 const std::string& host_path) {
  MDFS_RETURN_IF_ERROR(CheckHostName(name));
  if (::mkdirat(parent_fd, name.c_str(), 0700) != 0) {
    if (errno != EEXIST) return HostError(host_path, "create the directory");
    MDFS_ASSIGN_OR_RETURN(mode_t mode, EntryMode(parent_fd, name, host_path));
    if (!S_ISDIR(mode)) return InTheWay(host_path, mode, "a directory");
  }
  int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return HostError(host_path, "open the directory");
  return HostFile(fd, /*owned=*/true);
}

Result<HostRegularFile> OpenRegularFileAt(int dir_fd, const std::string& name,
                                          const std::string& host_path, const HostIdentity& image,
                                          const std::string& image_path) {
  MDFS_RETURN_IF_ERROR(CheckHostName(name));
  const char* c_name = name.c_str();
  int fd = ::openat(dir_fd, c_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) return HostRegularFile{HostFile(fd, /*owned=*/true), /*created=*/true};
  if (errno != EEXIST) return HostError(host_path, "create");
  MDFS_ASSIGN_OR_RETURN(mode_t mode, EntryMode(dir_fd, name, host_path));
  if (!S_ISREG(mode)) return InTheWay(host_path, mode, "a regular file");
  // Opened without O_TRUNC: it may be the image. O_NONBLOCK: should it
  // have become a FIFO meanwhile, the open does not wait for a reader.
  fd = ::openat(dir_fd, c_name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return HostError(host_path, "open");
  HostRegularFile file{HostFile(fd, /*owned=*/true), /*created=*/false};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return HostError(host_path, "stat");
  if (!S_ISREG(st.st_mode)) return InTheWay(host_path, st.st_mode, "a regular file");
  MDFS_RETURN_IF_ERROR(RefuseTheImage(fd, host_path, image, image_path, "overwrite"));
  if (::ftruncate(fd, 0) != 0) return HostError(host_path, "truncate");
  return file;
}

Status MakeSymlinkAt(int dir_fd, const std::string& name, const std::string& target,
                     const std::string& host_path) {
  MDFS_RETURN_IF_ERROR(CheckHostName(name));
  if (target.find('\0') != std::string::npos) {
    return InvalidArgument("the link target holds a NUL byte");
  }
  if (::symlinkat(target.c_str(), dir_fd, name.c_str()) == 0) return Status::Ok();
  if (errno != EEXIST) return HostError(host_path, "create the symbolic link");
  MDFS_ASSIGN_OR_RETURN(mode_t mode, EntryMode(dir_fd, name, host_path));
  if (!S_ISLNK(mode)) return InTheWay(host_path, mode, "a symbolic link");
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0) {
    return HostError(host_path, "remove the old symbolic link");
  }
  if (::symlinkat(target.c_str(), dir_fd, name.c_str()) != 0) {
    return HostError(host_path, "create the symbolic link");
  }
  return Status::Ok();
}

Status ApplyAttributes(int fd, const Attributes& attributes, const std::string& host_path) {
  if (RunAsRoot() && ::fchown(fd, attributes.uid, attributes.gid) != 0) {
    return HostError(host_path, "set the owner");
  }
  if (::fchmod(fd, HostMode(attributes)) != 0) return HostError(host_path, "set the mode");
  const timespec times[2] = {ToTimespec(attributes.atime), ToTimespec(attributes.mtime)};
  if (::futimens(fd, times) != 0) return HostError(host_path, "set the times");
  return Status::Ok();
}

Status ApplySymlinkAttributes(int dir_fd, const std::string& name, const Attributes& attributes,
                              const std::string& host_path) {
  const char* c_name = name.c_str();
  if (RunAsRoot() &&
      ::fchownat(dir_fd, c_name, attributes.uid, attributes.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return HostError(host_path, "set the owner");
  }
  const timespec times[2] = {ToTimespec(attributes.atime), ToTimespec(attributes.mtime)};
  if (::utimensat(dir_fd, c_name, times, AT_SYMLINK_NOFOLLOW) != 0) {
    return HostError(host_path, "set the times");
  }
  return Status::Ok();
}

}  // namespace mdfs::cli
