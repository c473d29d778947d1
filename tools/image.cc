#include "image.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "format/format.h"

namespace mdfs::cli {
namespace {

// mkfs refuses smaller devices ("device too small: ... need at least 2 MiB",
// src/format/geometry.cc); nothing smaller can hold an mdfs file system.
constexpr uint64_t kSmallestFileSystemBytes = uint64_t{2} << 20;

// One flock in /proc/locks on the image, e.g. the line
//   "1: FLOCK  ADVISORY  WRITE 4242 fe:00:10952823 0 EOF"
// (pid, then MAJOR:MINOR:INODE of the file, major and minor in hex).
struct LockHolder {
  long pid = 0;
  bool exclusive = false;
};

std::vector<LockHolder> FlockHoldersOf(const struct stat& file) {
  std::vector<LockHolder> holders;
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string id, kind, advisory, mode, where;
    LockHolder holder;
    if (!(fields >> id >> kind) || kind != "FLOCK") continue;  // "->" marks a waiter
    if (!(fields >> advisory >> mode >> holder.pid >> where)) continue;
    unsigned major_number = 0, minor_number = 0;
    unsigned long long inode = 0;
    if (std::sscanf(where.c_str(), "%x:%x:%llu", &major_number, &minor_number, &inode) != 3) {
      continue;
    }
    if (makedev(major_number, minor_number) != file.st_dev || inode != file.st_ino) continue;
    holder.exclusive = mode == "WRITE";
    holders.push_back(holder);
  }
  return holders;
}

// "pid 4242 'mdfs', open for writing"; the command name when /proc has it.
std::string DescribeHolder(const LockHolder& holder) {
  std::string text = "pid " + std::to_string(holder.pid);
  std::ifstream comm("/proc/" + std::to_string(holder.pid) + "/comm");
  std::string name;
  if (holder.pid > 0 && std::getline(comm, name) && !name.empty()) text += " '" + name + "'";
  return text + (holder.exclusive ? ", open for writing" : ", open read-only");
}

// `status` (the device layer's "in use by another process") with the
// processes that hold the image's lock, when /proc/locks names them.
Status NameLockHolders(const std::string& path, const Status& status) {
  struct stat file {};
  if (::stat(path.c_str(), &file) != 0) return status;
  std::vector<LockHolder> holders = FlockHoldersOf(file);
  if (holders.empty()) return status;
  std::string text;
  for (const LockHolder& holder : holders) {
    if (!text.empty()) text += "; ";
    text += DescribeHolder(holder);
  }
  return WouldBlock(path + ": in use by another process (" + text + ")");
}

// Little-endian 0x5346444D: the first four bytes of every mdfs metadata block.
constexpr std::array<std::byte, 4> kMagicBytes = {std::byte{'M'}, std::byte{'D'}, std::byte{'F'},
                                                  std::byte{'S'}};

// Whether block 0 or block 1 starts with the mdfs magic.
bool HasSuperblockMagic(Device* device) {
  for (uint64_t block = 0; block < 2; ++block) {
    std::array<std::byte, 4> head{};
    uint64_t offset = block * kBlockSize;
    if (offset + head.size() > device->size_bytes()) return false;
    if (!device->Read(offset, head).ok()) continue;
    if (head == kMagicBytes) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Device>> OpenImageDevice(const std::string& path, Access access,
                                                const FileDeviceOptions& options) {
  auto device =
      access == Access::kMmap ? OpenMappedDevice(path, options) : OpenFileDevice(path, options);
  if (!device.ok() && device.status().code() == Code::kWouldBlock &&
      device.status().message().find("in use by another process") != std::string::npos) {
    return NameLockHolders(path, device.status());
  }
  return device;
}

Status CheckImageSize(const Device& device) {
  if (device.size_bytes() >= kSmallestFileSystemBytes) return Status::Ok();
  return Corruption("not an mdfs file system (the image is " + std::to_string(device.size_bytes()) +
                    " bytes, smaller than 2 MiB, the smallest mdfs file system)");
}

Result<Image> OpenImage(const std::string& path, Access access, bool read_only) {
  FileDeviceOptions device_options;
  device_options.read_only = read_only;
  auto device = OpenImageDevice(path, access, device_options);
  if (!device.ok()) return device.status();
  Image image;
  image.device = std::move(device).value();
  MDFS_RETURN_IF_ERROR(CheckImageSize(*image.device));
  OpenOptions open_options;
  open_options.read_only = read_only;
  auto fs = FileSystem::Open(image.device.get(), open_options);
  if (!fs.ok()) {
    if (!HasSuperblockMagic(image.device.get())) {
      return Corruption("not an mdfs file system (no mdfs superblock in block 0 or 1)");
    }
    return fs.status();
  }
  image.fs = std::move(fs).value();
  return image;
}

namespace {

// Whether a file system of `bytes` leaves a whole, aligned unit of
// `align_blocks` for file data after its metadata.
bool HasAlignedDataUnit(uint64_t bytes, const FormatOptions& format, uint64_t align_blocks) {
  auto sb = format::ComputeGeometry(bytes, format.bytes_per_inode, format.journal_blocks);
  if (!sb.ok()) return false;
  const uint64_t first = (sb->data_start + align_blocks - 1) / align_blocks * align_blocks;
  return first + align_blocks <= sb->total_blocks;
}

}  // namespace

Status CheckDeviceDaxRoom(uint64_t device_bytes, uint64_t align_bytes,
                          const FormatOptions& format) {
  if (align_bytes <= kBlockSize || align_bytes % kBlockSize != 0) return Status::Ok();
  const uint64_t align_blocks = align_bytes / kBlockSize;
  auto sb = format::ComputeGeometry(device_bytes, format.bytes_per_inode, format.journal_blocks);
  if (!sb.ok() || HasAlignedDataUnit(device_bytes, format, align_blocks)) return Status::Ok();
  uint64_t enough = (device_bytes / align_bytes + 1) * align_bytes;
  for (int i = 0; i < 64 && !HasAlignedDataUnit(enough, format, align_blocks); ++i) {
    enough += align_bytes;
  }
  return InvalidArgument(
      "device-dax of " + std::to_string(device_bytes) + " bytes is too small: it maps only " +
      "whole " + std::to_string(align_bytes >> 10) + " KiB units, and its metadata (blocks 0-" +
      std::to_string(sb->data_start - 1) + " of " + std::to_string(sb->total_blocks) +
      ") leaves no such unit for file data, so no file on it could be mapped; use a namespace " +
      "of at least " + std::to_string(enough >> 20) +
      " MiB, or one made with 'ndctl create-namespace -m devdax --align 4K'");
}

Result<bool> DeviceStartIsZero(Device* device) {
  uint64_t length = std::min<uint64_t>(device->size_bytes(), 2 * kBlockSize);
  std::vector<std::byte> head(length);
  MDFS_RETURN_IF_ERROR(device->Read(0, head));
  for (std::byte b : head) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string normalized;
  for (std::string_view part : parts) {
    normalized += '/';
    normalized += part;
  }
  return normalized.empty() ? "/" : normalized;
}

PathParts SplitPath(const std::string& path) {
  if (path == "/") return {"/", ""};
  size_t slash = path.rfind('/');
  std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  return {parent, path.substr(slash + 1)};
}

std::string JoinPath(std::string_view directory, std::string_view name) {
  std::string joined(directory);
  if (joined.empty() || joined.back() != '/') joined += '/';
  joined += name;
  return joined;
}

std::string HostBaseName(std::string_view host_path) {
  while (host_path.size() > 1 && host_path.back() == '/') host_path.remove_suffix(1);
  size_t slash = host_path.rfind('/');
  return std::string(slash == std::string_view::npos ? host_path : host_path.substr(slash + 1));
}

}  // namespace mdfs::cli
