// MappedDevice: a device whose whole extent is mapped MAP_SHARED; Read and
// Write are memcpy. Internal: built by OpenMappedDevice and CreateMemoryDevice.
#ifndef MDFS_SRC_DEVICE_MAPPED_DEVICE_H_
#define MDFS_SRC_DEVICE_MAPPED_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

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
};

// Durability per mode:
//   kCpuCache  Write writes back its cache lines; Flush fences (and msyncs
//              when msync_in_flush); Persist writes back the range + fence.
//   kMsync     Flush msyncs the whole mapping; Persist msyncs the pages of the range.
//   kVolatile  Flush and Persist do nothing and succeed.
// Thread-safety: Read/Write/Flush/Persist may run concurrently (no state).
class MappedDevice final : public Device {
 public:
  MappedDevice(std::string name, std::string description, const Mapping& mapping)
      : name_(std::move(name)), description_(std::move(description)), mapping_(mapping) {}
  ~MappedDevice() override;

  uint64_t size_bytes() const override { return mapping_.size_bytes; }
  PersistenceMode persistence_mode() const override { return mapping_.mode; }
  std::string Describe() const override { return description_; }
  std::byte* mapped_base() override { return mapping_.base; }

  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush() override;
  Status Persist(uint64_t offset, uint64_t length) override;

 private:
  Status Msync(uint64_t offset, uint64_t length) const;

  const std::string name_;  // the path (or "memory") that error messages name
  const std::string description_;
  const Mapping mapping_;
};

}  // namespace mdfs::device_internal

#endif  // MDFS_SRC_DEVICE_MAPPED_DEVICE_H_
