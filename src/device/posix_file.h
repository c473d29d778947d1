// Internal helpers shared by the POSIX-backed devices (file, mapped, memory):
// an owning file descriptor, errno -> Status, the range check every device
// applies, and opening a device path the way FileDeviceOptions asks.
#ifndef MDFS_SRC_DEVICE_POSIX_FILE_H_
#define MDFS_SRC_DEVICE_POSIX_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mdfs/device.h"
#include "mdfs/status.h"

namespace mdfs::device_internal {

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  int Release();

 private:
  int fd_ = -1;
};

// "<operation> <path>: <strerror(error)>", with the Code that matches `error`
// (ENOENT -> kNotFound, EROFS -> kReadOnly, ...; anything else kIoError).
Status ErrnoStatus(std::string_view operation, std::string_view path, int error);

// OK when [offset, offset + length) lies inside a device of `size` bytes
// (overflow-safe); otherwise kInvalidArgument naming all three.
Status CheckRange(std::string_view operation, uint64_t offset, uint64_t length, uint64_t size);

enum class FileKind { kRegular, kBlock, kCharacter };

struct OpenedFile {
  UniqueFd fd;
  FileKind kind = FileKind::kRegular;
  uint64_t size_bytes = 0;
  bool ram_backed = false;  // a regular file on tmpfs or ramfs
  // kCharacter (device-dax) only: the mapping alignment from sysfs, the
  // sysfs directory it came from, and the persistent-memory region the
  // instance is carved from (FindNdRegion; empty name: none, not persistent).
  uint64_t dax_align_bytes = 0;
  std::string dax_sysfs;
  std::string dax_region;
  std::string dax_persistence_domain;
};

// A libnvdimm region: persistent memory (DRAM behind an NVDIMM, an emulated
// NVDIMM, CXL persistent memory).
struct NdRegion {
  std::string name;                // "region0"
  std::string persistence_domain;  // "cpu_cache", "memory_controller" or "unknown"
};

// The persistent-memory region a device-dax instance is carved from: the
// nearest ancestor of its (resolved) sysfs directory whose uevent says
// DEVTYPE=nd_pmem (a libnvdimm pmem region). nullopt when there is none:
// device-dax over soft-reserved or CXL RAM (dax_hmem, dax_cxl) or over an
// NFIT volatile region (DEVTYPE=nd_volatile) is memory that does not
// survive power loss, so mdfs reports it volatile, never cpu-cache.
// persistence_domain is the region's attribute, "unknown" when the platform
// does not publish it (the kernel hides the attribute then; qemu's NFIT).
std::optional<NdRegion> FindNdRegion(const std::string& device_sysfs);

// device-dax's alignment when sysfs has no "align" attribute (older kernels).
inline constexpr uint64_t kDefaultDeviceDaxAlignBytes = uint64_t{2} << 20;

// Whether `path` is a device-dax character device (stat + sysfs), for the
// callers that must pick the mapped device for it (it has no read/write).
bool IsDeviceDaxPath(const std::string& path);

// Opens `path` per `options`: O_RDONLY when read_only, else O_RDWR; when
// options.create and the path does not exist, creates it with
// options.create_size bytes (an existing file is never truncated or resized).
// Regular files and block devices are accepted; character devices only when
// `allow_character` (device-dax), whose size comes from sysfs.
Result<OpenedFile> OpenDevicePath(const std::string& path, const FileDeviceOptions& options,
                                  bool allow_character);

}  // namespace mdfs::device_internal

#endif  // MDFS_SRC_DEVICE_POSIX_FILE_H_
