#include "host_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "output.h"

namespace mdfs::cli {
namespace {

constexpr uint64_t kProgressThresholdBytes = uint64_t{64} << 20;

Code CodeForErrno(int error) {
  switch (error) {
    case ENOENT:
      return Code::kNotFound;
    case EISDIR:
      return Code::kIsDirectory;
    case ENOTDIR:
      return Code::kNotDirectory;
    case EACCES:
    case EPERM:
      return Code::kPermissionDenied;
    case ENOSPC:
      return Code::kNoSpace;
    case EEXIST:
      return Code::kExists;
    case EROFS:
      return Code::kReadOnly;
    case EFBIG:
      return Code::kFileTooLarge;
    case ENAMETOOLONG:
      return Code::kNameTooLong;
    case EINVAL:
      return Code::kInvalidArgument;
    default:
      return Code::kIoError;
  }
}

}  // namespace

Status HostErrnoStatus(std::string_view operation, int error) {
  return Status(CodeForErrno(error), std::string(operation) + ": " + std::strerror(error));
}

HostFile::HostFile(HostFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), owned_(std::exchange(other.owned_, false)) {}

HostFile& HostFile::operator=(HostFile&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

HostFile::~HostFile() { Close(); }

Status HostFile::Close() {
  int fd = std::exchange(fd_, -1);
  if (fd < 0 || !owned_) return Status::Ok();
  if (::close(fd) != 0) return HostErrnoStatus("close", errno);
  return Status::Ok();
}

namespace {

// A new file is regular; an existing one may be a device, a FIFO, ...
bool IsRegular(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

HostIdentity IdentityOfStat(const struct stat& st) {
  HostIdentity identity;
  identity.device = st.st_dev;
  identity.inode = st.st_ino;
  identity.block_device = S_ISBLK(st.st_mode) ? st.st_rdev : 0;
  identity.valid = true;
  return identity;
}

}  // namespace

HostIdentity IdentityOfPath(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return IdentityOfStat(st);
}

HostIdentity IdentityOfDescriptor(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {};
  return IdentityOfStat(st);
}

bool SameHostFile(const HostIdentity& a, const HostIdentity& b) {
  if (!a.valid || !b.valid) return false;
  if (a.block_device != 0 || b.block_device != 0) return a.block_device == b.block_device;
  return a.device == b.device && a.inode == b.inode;
}

Status RefuseTheImage(int fd, const std::string& path, const HostIdentity& image,
                      const std::string& image_path, std::string_view verb) {
  if (!SameHostFile(IdentityOfDescriptor(fd), image)) return Status::Ok();
  return InvalidArgument("'" + path + "' is the image " + image_path +
                         " itself (the same file); refusing to " + std::string(verb) + " it");
}

Result<HostSource> OpenHostSource(const std::string& path) {
  HostSource source;
  if (path == "-") {
    source.file = HostFile(STDIN_FILENO, /*owned=*/false);
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HostErrnoStatus("open", errno);
    source.file = HostFile(fd, /*owned=*/true);
  }
  struct stat st {};
  if (::fstat(source.file.fd(), &st) != 0) return HostErrnoStatus("stat", errno);
  if (S_ISDIR(st.st_mode)) return IsDirectory("a directory cannot be copied");
  if (S_ISREG(st.st_mode)) {
    source.size = st.st_size;
    source.mode = st.st_mode & 07777;
  }
  return source;
}

Result<HostDestination> OpenHostDestination(const std::string& path,
                                            const std::string& default_name,
                                            const HostIdentity& image,
                                            const std::string& image_path) {
  HostDestination destination{{}, path, false};
  if (path == "-") {
    MDFS_RETURN_IF_ERROR(
        RefuseTheImage(STDOUT_FILENO, "standard output", image, image_path, "overwrite"));
    destination.file = HostFile(STDOUT_FILENO, /*owned=*/false);
    return destination;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    destination.path = path + (path.back() == '/' ? "" : "/") + default_name;
  }
  const char* name = destination.path.c_str();
  int fd = ::open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  destination.created = fd >= 0;
  // An existing file is opened without O_TRUNC: it may be the image.
  if (fd < 0 && errno == EEXIST) fd = ::open(name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return HostErrnoStatus("open " + destination.path, errno);
  destination.file = HostFile(fd, /*owned=*/true);
  destination.seekable = IsRegular(fd);
  if (destination.created) return destination;
  MDFS_RETURN_IF_ERROR(RefuseTheImage(fd, destination.path, image, image_path, "overwrite"));
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::ftruncate(fd, 0) != 0)
    return HostErrnoStatus("truncate " + destination.path, errno);
  return destination;
}

Result<size_t> ReadFullAt(int fd, uint64_t offset, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return HostErrnoStatus("read at offset " + std::to_string(offset + done), errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status WriteAllAt(int fd, uint64_t offset, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return HostErrnoStatus("write at offset " + std::to_string(offset + done), errno);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::vector<ByteRange>> HostDataRanges(int fd, uint64_t size) {
  std::vector<ByteRange> ranges;
  uint64_t offset = 0;
  while (offset < size) {
    off_t data = ::lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole from here to the end
    if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
      return std::vector<ByteRange>{{0, size}};  // no SEEK_DATA here: all data
    }
    if (data < 0) return HostErrnoStatus("seek to data at offset " + std::to_string(offset), errno);
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return HostErrnoStatus("seek to a hole at offset " + std::to_string(data), errno);
    uint64_t begin = static_cast<uint64_t>(data);
    uint64_t end = std::min(size, static_cast<uint64_t>(hole));
    if (begin >= end) break;  // the file shrank meanwhile
    ranges.push_back({begin, end - begin});
    offset = end;
  }
  return ranges;
}

Result<size_t> ReadFull(int fd, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return HostErrnoStatus("read", errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status WriteAll(int fd, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return HostErrnoStatus("write", errno);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Progress::Progress(std::string label, int64_t total_bytes)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      enabled_(::isatty(STDERR_FILENO) == 1 &&
               (total_bytes < 0 || static_cast<uint64_t>(total_bytes) > kProgressThresholdBytes)) {}

void Progress::Update(uint64_t done_bytes, std::string_view detail) {
  if (!enabled_) return;
  if (total_bytes_ < 0 && done_bytes <= kProgressThresholdBytes) return;
  auto now = std::chrono::steady_clock::now();
  bool last = total_bytes_ >= 0 && done_bytes >= static_cast<uint64_t>(total_bytes_);
  if (drawn_ && !last && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  std::string line = label_ + ": " + HumanBytes(done_bytes);
  if (total_bytes_ > 0) {
    uint64_t total = static_cast<uint64_t>(total_bytes_);
    line += " / " + HumanBytes(total) + " (" + std::to_string(done_bytes * 100 / total) + "%)";
  }
  if (!detail.empty()) line += ", " + std::string(detail);
  std::fprintf(stderr, "\r%s\033[K", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (!drawn_) return;
  std::fputc('\n', stderr);
  drawn_ = false;
}

void Progress::Erase() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace mdfs::cli
