#include "device/posix_file.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

namespace mdfs::device_internal {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

namespace {

Code CodeForErrno(int error) {
  switch (error) {
    case ENOENT:
      return Code::kNotFound;
    case EACCES:
    case EPERM:
      return Code::kPermissionDenied;
    case EROFS:
      return Code::kReadOnly;
    case ENOSPC:
      return Code::kNoSpace;
    case EEXIST:
      return Code::kExists;
    case EISDIR:
      return Code::kIsDirectory;
    case ENOTDIR:
      return Code::kNotDirectory;
    case ENAMETOOLONG:
      return Code::kNameTooLong;
    case ELOOP:
      return Code::kLoop;
    case EFBIG:
      return Code::kFileTooLarge;
    case EINVAL:
      return Code::kInvalidArgument;
    case EOPNOTSUPP:
      return Code::kNotSupported;
    case ENODEV:
    case ENXIO:
      return Code::kNoDevice;
    default:
      return Code::kIoError;
  }
}

// open(2), retried on EINTR (possible on network and FUSE file systems).
int OpenRetrying(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// One writer or any number of readers per image, across processes (an
// advisory flock): two processes changing one image would corrupt it.
Status LockImage(int fd, const std::string& path, bool read_only) {
  const int operation = (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB;
  while (flock(fd, operation) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return WouldBlock(path + ": in use by another process (" +
                        (read_only ? "open for writing" : "open") + ")");
    }
    return ErrnoStatus("flock", path, errno);
  }
  return Status::Ok();
}

Result<UniqueFd> OpenOrCreateUnlocked(const std::string& path, const FileDeviceOptions& options);

Result<UniqueFd> OpenOrCreate(const std::string& path, const FileDeviceOptions& options) {
  MDFS_ASSIGN_OR_RETURN(UniqueFd fd, OpenOrCreateUnlocked(path, options));
  MDFS_RETURN_IF_ERROR(LockImage(fd.get(), path, options.read_only));
  return fd;
}

// Opens an existing path, or creates it with options.create_size bytes when
// options.create and it is absent. A concurrent creator wins: we then open
// its file and leave its size alone.
Result<UniqueFd> OpenOrCreateUnlocked(const std::string& path, const FileDeviceOptions& options) {
  const int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  int fd = OpenRetrying(path, flags);
  if (fd < 0 && errno == ENOENT && options.create) {
    fd = OpenRetrying(path, flags | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      UniqueFd created(fd);
      if (ftruncate(fd, static_cast<off_t>(options.create_size)) != 0) {
        Status status = ErrnoStatus("ftruncate", path, errno);
        unlink(path.c_str());  // do not leave a half-made image behind
        return status;
      }
      return created;
    }
    if (errno == EEXIST) fd = OpenRetrying(path, flags);
  }
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return UniqueFd(fd);
}

Result<uint64_t> BlockDeviceSize(int fd, const std::string& path) {
  uint64_t size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) != 0) return ErrnoStatus("ioctl BLKGETSIZE64", path, errno);
  return size;
}

// The sysfs directory of a character device: /sys/dev/char/MAJOR:MINOR.
std::string CharacterDeviceSysfs(dev_t device) {
  return "/sys/dev/char/" + std::to_string(major(device)) + ":" + std::to_string(minor(device));
}

// Reads one unsigned number from a sysfs attribute; nullopt when absent.
std::optional<uint64_t> ReadSysfsNumber(const std::string& attribute) {
  std::ifstream in(attribute);
  uint64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// A character device is accepted only when the kernel says it is device-dax
// (its sysfs "subsystem" link names the dax bus or class): anything else
// (a tty, /dev/zero, ...) is refused rather than assumed persistent.
// device-dax publishes its size and mapping alignment in sysfs; a size that
// is not a multiple of the alignment cannot be mapped whole.
Status InspectDeviceDax(dev_t device, const std::string& path, OpenedFile& file) {
  const std::string sysfs = CharacterDeviceSysfs(device);
  std::error_code error;
  const std::filesystem::path subsystem =
      std::filesystem::read_symlink(sysfs + "/subsystem", error);
  if (error || subsystem.filename() != "dax") {
    return Status(Code::kNoDevice, path + ": a character device that is not device-dax (" + sysfs +
                                       "/subsystem is " +
                                       (error ? "missing" : subsystem.filename().string()) +
                                       ", not dax)");
  }
  const std::optional<uint64_t> size = ReadSysfsNumber(sysfs + "/size");
  if (!size) return Status(Code::kNoDevice, path + ": device-dax without " + sysfs + "/size");
  const uint64_t align = ReadSysfsNumber(sysfs + "/align").value_or(kDefaultDeviceDaxAlignBytes);
  if (align == 0 || *size % align != 0 || *size < align) {
    return InvalidArgument(path + ": device-dax size " + std::to_string(*size) +
                           " bytes is not a non-zero multiple of its alignment " +
                           std::to_string(align) + " (" + sysfs + "/align)");
  }
  file.size_bytes = *size;
  file.dax_align_bytes = align;
  file.dax_sysfs = sysfs;
  if (std::optional<NdRegion> region = FindNdRegion(sysfs)) {
    file.dax_region = region->name;
    file.dax_persistence_domain = region->persistence_domain;
  }
  return Status::Ok();
}

Result<bool> IsRamBacked(int fd, const std::string& path) {
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return ErrnoStatus("fstatfs", path, errno);
  const auto type = static_cast<unsigned long>(fs.f_type);
  return type == TMPFS_MAGIC || type == RAMFS_MAGIC;
}

// Fills kind, size and ram_backed from the open descriptor.
Status Inspect(const std::string& path, bool allow_character, OpenedFile& file) {
  struct stat st;
  if (fstat(file.fd.get(), &st) != 0) return ErrnoStatus("fstat", path, errno);
  if (S_ISREG(st.st_mode)) {
    file.kind = FileKind::kRegular;
    file.size_bytes = static_cast<uint64_t>(st.st_size);
    MDFS_ASSIGN_OR_RETURN(file.ram_backed, IsRamBacked(file.fd.get(), path));
    return Status::Ok();
  }
  if (S_ISBLK(st.st_mode)) {
    file.kind = FileKind::kBlock;
    MDFS_ASSIGN_OR_RETURN(file.size_bytes, BlockDeviceSize(file.fd.get(), path));
    return Status::Ok();
  }
  if (S_ISCHR(st.st_mode) && allow_character) {
    file.kind = FileKind::kCharacter;
    return InspectDeviceDax(st.st_rdev, path, file);
  }
  if (S_ISDIR(st.st_mode)) return IsDirectory(path + ": is a directory");
  return Status(Code::kNoDevice, path + ": not a regular file or block device");
}

}  // namespace

std::optional<NdRegion> FindNdRegion(const std::string& device_sysfs) {
  std::error_code error;
  std::filesystem::path directory = std::filesystem::canonical(device_sysfs, error);
  if (error) return std::nullopt;
  for (; !directory.empty() && directory != directory.root_path();
       directory = directory.parent_path()) {
    std::ifstream uevent(directory / "uevent");
    std::string line;
    bool pmem = false, region = false;
    while (std::getline(uevent, line)) {
      if (line == "DEVTYPE=nd_pmem") pmem = region = true;
      if (line == "DEVTYPE=nd_volatile") region = true;
    }
    if (!region) continue;
    if (!pmem) return std::nullopt;  // an NFIT volatile region: DRAM
    NdRegion found{directory.filename().string(), ""};
    // Shown only when the platform tells (NFIT platform capabilities).
    std::ifstream domain(directory / "persistence_domain");
    std::getline(domain, found.persistence_domain);
    if (found.persistence_domain.empty()) found.persistence_domain = "unknown";
    return found;
  }
  return std::nullopt;
}

bool IsDeviceDaxPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) return false;
  std::error_code error;
  const auto subsystem =
      std::filesystem::read_symlink(CharacterDeviceSysfs(st.st_rdev) + "/subsystem", error);
  return !error && subsystem.filename() == "dax";
}

Status ErrnoStatus(std::string_view operation, std::string_view path, int error) {
  std::string message(operation);
  message += ' ';
  message += path;
  message += ": ";
  message += std::strerror(error);
  return Status(CodeForErrno(error), std::move(message));
}

Status CheckRange(std::string_view operation, uint64_t offset, uint64_t length, uint64_t size) {
  if (offset <= size && length <= size - offset) return Status::Ok();
  return InvalidArgument(std::string(operation) + " at offset " + std::to_string(offset) +
                         " length " + std::to_string(length) + " passes the end of the device" +
                         " (size " + std::to_string(size) + ")");
}

Result<OpenedFile> OpenDevicePath(const std::string& path, const FileDeviceOptions& options,
                                  bool allow_character) {
  if (options.create && options.read_only) {
    return InvalidArgument("open " + path + ": create and read_only are exclusive");
  }
  OpenedFile file;
  MDFS_ASSIGN_OR_RETURN(file.fd, OpenOrCreate(path, options));
  MDFS_RETURN_IF_ERROR(Inspect(path, allow_character, file));
  return file;
}

}  // namespace mdfs::device_internal
