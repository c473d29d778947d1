// Opening an image (a regular file or a block device holding mdfs) for one
// command, and the path arithmetic of paths inside the image.
#ifndef MDFS_TOOLS_IMAGE_H_
#define MDFS_TOOLS_IMAGE_H_

#include <memory>
#include <string>
#include <string_view>

#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs::cli {

// How the image is accessed: pread/pwrite (OpenFileDevice) or a shared
// mapping (OpenMappedDevice, the DAX path).
enum class Access { kPread, kMmap };

// Opens the device at `path`. The device layer locks the image (an
// advisory flock: shared for read-only opens, exclusive otherwise); when
// another process holds a conflicting lock the error names it from
// /proc/locks: "a.img: in use by another process (pid 4242 'mdfs', open
// for writing)".
Result<std::unique_ptr<Device>> OpenImageDevice(const std::string& path, Access access,
                                                const FileDeviceOptions& options);

// Corruption "not an mdfs file system (the image is 100 bytes, smaller
// than 2 MiB, the smallest mdfs file system)" when `device` is too small to
// hold one; OK otherwise.
Status CheckImageSize(const Device& device);

// A device and the file system on it. `fs` is declared last so it is
// destroyed (closed) before the device it uses.
struct Image {
  std::unique_ptr<Device> device;
  std::unique_ptr<FileSystem> fs;
};

// Opens the device at `path` and the file system on it (read-only: the
// device is opened O_RDONLY and the file system read-only). The error
// explains what is wrong with the image; print it after the image path:
//   "not found: open /x.img: No such file or directory"
//   "corruption: not an mdfs file system (no mdfs superblock in block 0 or 1)"
//   "corruption: not an mdfs file system (the image is 100 bytes, ...)"
//   "would block: x.img: in use by another process (pid 4242 'mdfs', open for writing)"
Result<Image> OpenImage(const std::string& path, Access access, bool read_only);

// A device-dax of `device_bytes` maps only whole, aligned units of
// `align_bytes` (doc/hardware.md). kInvalidArgument "too small", naming the
// size that would do, when the metadata of a file system formatted with
// `format` leaves no such unit for file data: it could be formatted, but no
// file on it could ever be mapped. OK for alignments of 4 KiB (or 0:
// unknown), which map any block.
Status CheckDeviceDaxRoom(uint64_t device_bytes, uint64_t align_bytes, const FormatOptions& format);

// True when the first 8 KiB of `device` (both superblock slots) are zero.
Result<bool> DeviceStartIsZero(Device* device);

// Paths inside the image are absolute; a relative path is taken from the
// root. "/a//b/./c/" -> "/a/b/c"; ".." is resolved lexically ("/.." is "/").
std::string NormalizePath(std::string_view path);

// "/a/b" -> {"/a", "b"}; "/" -> {"/", ""}. REQUIRES: `path` is normalized.
struct PathParts {
  std::string parent;
  std::string name;
};
PathParts SplitPath(const std::string& path);

// "/a" + "b" -> "/a/b"; "/" + "b" -> "/b".
std::string JoinPath(std::string_view directory, std::string_view name);

// The last component of a host path: "dir/file.txt" -> "file.txt".
std::string HostBaseName(std::string_view host_path);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_IMAGE_H_
