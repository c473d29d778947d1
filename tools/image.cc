#include "image.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

namespace mdfs::cli {
namespace {

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
  if (access == Access::kMmap) return OpenMappedDevice(path, options);
  return OpenFileDevice(path, options);
}

Result<Image> OpenImage(const std::string& path, Access access, bool read_only) {
  FileDeviceOptions device_options;
  device_options.read_only = read_only;
  auto device = OpenImageDevice(path, access, device_options);
  if (!device.ok()) return device.status();
  Image image;
  image.device = std::move(device).value();
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
