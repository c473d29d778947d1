// MappedDevice: a device whose whole extent is mapped MAP_SHARED; Read and
// Write are memcpy. Internal: built by OpenMappedDevice and CreateMemoryDevice.
#ifndef MDFS_SRC_DEVICE_MAPPED_DEVICE_H_
#define MDFS_SRC_DEVICE_MAPPED_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "device/posix_file.h"
#include "mdfs/device.h"

namespace mdfs::device_internal {

struct Mapping {
  std::byte* base = nullptr;  // from mmap; the device owns it from construction
  uint64_t size_bytes = 0;
  PersistenceMode mode = PersistenceMode::kVolatile;
  bool read_only = false;
  // kCpuCache only: msync after the fence in Flush (fs-dax with MAP_SYNC).
  // device-dax has no fsync, so msync would fail with EINVAL there.
  bool msync_in_flush = false;
  // The whole-device mapping was made with MAP_SHARED_VALIDATE|MAP_SYNC;
  // MapAt then uses the same flags, so its mappings are as durable.
  bool map_sync = false;
  bool device_dax = false;  // a device-dax character device (alignment rules)
  // device-dax only: MapAt refuses ranges whose address, offset or length
  // is not a multiple of this (the kernel would), naming `align_attribute`.
  uint64_t align_bytes = 0;
  std::string align_attribute;  // "/sys/dev/char/252:0/align"
};

// Durability per mode:
//   kCpuCache  Write writes back its cache lines; Flush fences (and msyncs
//              when msync_in_flush); Persist writes back the range + fence.
//   kMsync     Flush msyncs the whole mapping; Persist msyncs the pages of the range.
//   kVolatile  Flush and Persist do nothing and succeed.
// MapAt maps the descriptor `fd` (kNotSupported when it is -1: a device
// built over memory that has no file behind it).
// Thread-safety: Read/Write/Flush/Persist may run concurrently (no state).
class MappedDevice final : public Device {
 public:
  MappedDevice(std::string name, std::string description, const Mapping& mapping,
               UniqueFd fd = UniqueFd())
      : name_(std::move(name)),
        description_(std::move(description)),
        mapping_(mapping),
        fd_(std::move(fd)) {}
  ~MappedDevice() override;

  uint64_t size_bytes() const override { return mapping_.size_bytes; }
  PersistenceMode persistence_mode() const override { return mapping_.mode; }
  std::string Describe() const override { return description_; }
  std::byte* mapped_base() override { return mapping_.base; }

  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush() override;
  Status Persist(uint64_t offset, uint64_t length) override;
  Status MapAt(void* address, uint64_t offset, uint64_t length, bool writable) override;

 private:
  Status Msync(uint64_t offset, uint64_t length) const;

  const std::string name_;  // the path (or "memory") that error messages name
  const std::string description_;
  const Mapping mapping_;
  const UniqueFd fd_;  // for MapAt; -1 when there is no file behind the mapping
};

}  // namespace mdfs::device_internal

#endif  // MDFS_SRC_DEVICE_MAPPED_DEVICE_H_
