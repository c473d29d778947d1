#include "model/linux_oracle.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace mdfs::test {
namespace {

Status Errno(const std::string& what) {
  const int error = errno;
  return Status(CodeFromErrno(error), what + ": " + std::strerror(error));
}

// Runs `body(fd)` on `path` opened with `flags`.
template <typename Body>
Status WithFile(const std::string& path, int flags, Body body) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path);
  Status status = body(fd);
  close(fd);
  return status;
}

Status LinuxWrite(const std::string& path, const Op& op) {
  return WithFile(path, O_WRONLY, [&](int fd) {
    const std::vector<std::byte> data = PatternBytes(op.data_seed, op.offset, op.length);
    size_t done = 0;
    do {
      const ssize_t n = pwrite(fd, data.data() + done, data.size() - done, op.offset + done);
      if (n < 0) return Errno("pwrite");
      done += n;
    } while (done < data.size());
    if (op.fsync && fsync(fd) != 0) return Errno("fsync");
    return Status::Ok();
  });
}

Status LinuxRead(const std::string& path, const Op& op, std::vector<std::byte>* out) {
  return WithFile(path, O_RDONLY, [&](int fd) {
    std::vector<std::byte> data(op.length);
    size_t done = 0;
    do {  // at least one call: pread of 0 bytes still fails on a directory
      const ssize_t n = pread(fd, data.data() + done, data.size() - done, op.offset + done);
      if (n < 0) return Errno("pread");
      if (n == 0) break;
      done += n;
    } while (done < data.size());
    data.resize(done);
    if (out) *out = std::move(data);
    return Status::Ok();
  });
}

Status LinuxSetAttr(const std::string& path, const SetAttributesRequest& attr) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return Errno("lstat");
  if ((attr.mask & kSetSize) && truncate(path.c_str(), attr.size) != 0) return Errno("truncate");
  if (attr.mask & (kSetUid | kSetGid)) {
    const uid_t uid = (attr.mask & kSetUid) ? attr.uid : static_cast<uid_t>(-1);
    const gid_t gid = (attr.mask & kSetGid) ? attr.gid : static_cast<gid_t>(-1);
    if (chown(path.c_str(), uid, gid) != 0) return Errno("chown");
    // chown clears set-user-ID and set-group-ID; mdfs's setattr (and the
    // model) changes the mode only when asked to.
    if (!(attr.mask & kSetMode) && chmod(path.c_str(), st.st_mode & 07777) != 0)
      return Errno("chmod");
  }
  if ((attr.mask & kSetMode) && chmod(path.c_str(), attr.mode & 07777) != 0) return Errno("chmod");
  if (attr.mask & (kSetAtime | kSetMtime)) {
    struct timespec times[2];
    times[0].tv_nsec = times[1].tv_nsec = UTIME_OMIT;
    if (attr.mask & kSetAtime)
      times[0] = {attr.atime.ns / 1'000'000'000, attr.atime.ns % 1'000'000'000};
    if (attr.mask & kSetMtime)
      times[1] = {attr.mtime.ns / 1'000'000'000, attr.mtime.ns % 1'000'000'000};
    if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
      return Errno("utimensat");
  }
  return Status::Ok();
}

Status Check(int result, const std::string& what) {
  return result == 0 ? Status::Ok() : Errno(what);
}

}  // namespace

Code CodeFromErrno(int error) {
  switch (error) {
    case 0:
      return Code::kOk;
    case ENOENT:
      return Code::kNotFound;
    case EEXIST:
      return Code::kExists;
    case ENOTDIR:
      return Code::kNotDirectory;
    case EISDIR:
      return Code::kIsDirectory;
    case ENOTEMPTY:
      return Code::kNotEmpty;
    case EINVAL:
      return Code::kInvalidArgument;
    case EOPNOTSUPP:
      return Code::kNotSupported;
    case EFBIG:
      return Code::kFileTooLarge;
    case ENAMETOOLONG:
      return Code::kNameTooLong;
    case EPERM:
      return Code::kPermissionDenied;
    case EMLINK:
      return Code::kTooManyLinks;
    case ELOOP:
      return Code::kLoop;
    case ENODEV:
      return Code::kNoDevice;
    case ENOSPC:
      return Code::kNoSpace;
    default:
      return Code::kIoError;
  }
}

Status ApplyToLinux(const std::string& root, const Op& op, std::vector<std::byte>* read_out) {
  const std::string path = root + op.path, path2 = root + op.path2;
  switch (op.kind) {
    case OpKind::kCreate: {
      const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, op.mode);
      if (fd < 0) return Errno("create");
      close(fd);
      return Status::Ok();
    }
    case OpKind::kMkdir:
      return Check(mkdir(path.c_str(), op.mode), "mkdir");
    case OpKind::kSymlink:
      return Check(symlink(op.target.c_str(), path.c_str()), "symlink");
    case OpKind::kLink:
      return Check(linkat(AT_FDCWD, path.c_str(), AT_FDCWD, path2.c_str(), 0), "link");
    case OpKind::kUnlink:
      return Check(unlink(path.c_str()), "unlink");
    case OpKind::kRmdir:
      return Check(rmdir(path.c_str()), "rmdir");
    case OpKind::kRename:
      return Check(renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, path2.c_str(), op.flags), "rename");
    case OpKind::kWrite:
      return LinuxWrite(path, op);
    case OpKind::kRead:
      return LinuxRead(path, op, read_out);
    case OpKind::kTruncate:
      return Check(truncate(path.c_str(), op.offset), "truncate");
    case OpKind::kSetAttr:
      return LinuxSetAttr(path, op.attr);
    case OpKind::kFallocate:
      return WithFile(path, O_WRONLY, [&](int fd) {
        return Check(fallocate(fd, op.flags, op.offset, op.length), "fallocate");
      });
    case OpKind::kFsync:
      return WithFile(path, O_RDONLY, [](int fd) { return Check(fsync(fd), "fsync"); });
    case OpKind::kReopen:
      return Status::Ok();
  }
  return InvalidArgument("unknown op");
}

bool CrossesSymlink(const ModelFs& model, const Op& op) {
  for (const std::string& path : {op.path, op.path2}) {
    for (std::string parent = ParentPath(path); !path.empty() && parent != "/";
         parent = ParentPath(parent)) {
      auto id = model.Resolve(parent);
      if (id.ok() && model.node(*id).type == S_IFLNK) return true;
    }
  }
  return false;
}

testing::AssertionResult CheckLinuxTree(const std::string& root, const ModelFs& model) {
  std::set<std::string> seen;
  for (const ModelEntry& entry : model.Walk()) {
    const std::string path = root + entry.path;
    const ModelNode& node = model.node(entry.id);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0)
      return testing::AssertionFailure() << entry.path << " is missing";
    const uint64_t size = node.type == S_IFREG ? node.data.size() : node.target.size();
    if ((st.st_mode & S_IFMT) != node.type || (st.st_mode & 07777) != node.permissions ||
        st.st_uid != node.uid || st.st_gid != node.gid || st.st_nlink != node.nlink ||
        (node.type != S_IFDIR && static_cast<uint64_t>(st.st_size) != size)) {
      char modes[64];
      std::snprintf(modes, sizeof(modes), "mode 0%o (model 0%o)", static_cast<unsigned>(st.st_mode),
                    node.type | node.permissions);
      return testing::AssertionFailure()
             << entry.path << ": " << modes << " owner " << st.st_uid << ":" << st.st_gid
             << " nlink " << st.st_nlink << " (model " << node.nlink << ") size " << st.st_size
             << " (model " << size << ")";
    }
    if (node.type == S_IFREG) {
      std::vector<std::byte> bytes;
      Op read{.kind = OpKind::kRead, .path = entry.path, .offset = 0, .length = size};
      if (!ApplyToLinux(root, read, &bytes).ok() || bytes != node.data.Read(0, size)) {
        return testing::AssertionFailure() << entry.path << ": contents differ";
      }
    }
    if (node.type == S_IFDIR) {
      DIR* dir = opendir(path.c_str());
      size_t count = 0;
      while (dirent* e = readdir(dir))
        count += std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..");
      closedir(dir);
      if (count != node.children.size())
        return testing::AssertionFailure() << entry.path << ": entry count differs";
    }
  }
  return testing::AssertionSuccess();
}

}  // namespace mdfs::test
