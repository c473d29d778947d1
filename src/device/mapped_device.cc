// OpenMappedDevice (the DAX path) and the MappedDevice it returns.
#include "device/mapped_device.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "device/cache_flush.h"
#include "device/map_file_at.h"
#include "device/posix_file.h"

// Older C library headers lack the MAP_SYNC flags; the values are the kernel ABI.
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

namespace mdfs {
namespace device_internal {

MappedDevice::~MappedDevice() { munmap(mapping_.base, mapping_.size_bytes); }

Status MappedDevice::Read(uint64_t offset, std::span<std::byte> out) {
  MDFS_RETURN_IF_ERROR(CheckRange("read", offset, out.size(), mapping_.size_bytes));
  if (!out.empty()) std::memcpy(out.data(), mapping_.base + offset, out.size());
  return Status::Ok();
}

Status MappedDevice::Write(uint64_t offset, std::span<const std::byte> data) {
  if (mapping_.read_only) return ReadOnly("write " + name_ + ": device opened read-only");
  MDFS_RETURN_IF_ERROR(CheckRange("write", offset, data.size(), mapping_.size_bytes));
  if (data.empty()) return Status::Ok();
  std::memcpy(mapping_.base + offset, data.data(), data.size());
  // Dirty lines are not tracked, so write them back now; Flush only fences.
  if (mapping_.mode == PersistenceMode::kCpuCache) {
    WriteBackCacheLines(mapping_.base + offset, data.size(), BestCacheFlushInstruction());
  }
  return Status::Ok();
}

Status MappedDevice::Flush() {
  switch (mapping_.mode) {
    case PersistenceMode::kCpuCache:
      StoreFence();
      return mapping_.msync_in_flush ? Msync(0, mapping_.size_bytes) : Status::Ok();
    case PersistenceMode::kMsync:
    case PersistenceMode::kFdatasync:
      return Msync(0, mapping_.size_bytes);
    case PersistenceMode::kVolatile:
      return Status::Ok();
  }
  return Status::Ok();
}

Status MappedDevice::Persist(uint64_t offset, uint64_t length) {
  MDFS_RETURN_IF_ERROR(CheckRange("persist", offset, length, mapping_.size_bytes));
  switch (mapping_.mode) {
    case PersistenceMode::kCpuCache:
      PersistCacheLines(mapping_.base + offset, length);
      return Status::Ok();
    case PersistenceMode::kMsync:
    case PersistenceMode::kFdatasync:
      return Msync(offset, length);
    case PersistenceMode::kVolatile:
      return Status::Ok();
  }
  return Status::Ok();
}

// msync of the pages covering [offset, offset + length); the mapping starts
// page-aligned, so aligning the offset down aligns the address.
Status MappedDevice::Msync(uint64_t offset, uint64_t length) const {
  if (length == 0) return Status::Ok();
  const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t start = offset & ~(page - 1);
  if (msync(mapping_.base + start, offset + length - start, MS_SYNC) != 0) {
    return ErrnoStatus("msync", name_, errno);
  }
  return Status::Ok();
}

Status MappedDevice::MapAt(void* address, uint64_t offset, uint64_t length, bool writable) {
  const MappableFile file{.fd = fd_.get(),
                          .name = name_,
                          .size_bytes = mapping_.size_bytes,
                          .read_only = mapping_.read_only,
                          .map_sync = mapping_.map_sync,
                          .device_dax = mapping_.device_dax,
                          .align_bytes = mapping_.align_bytes,
                          .align_attribute = mapping_.align_attribute};
  return MapFileAt(file, {address, offset, length, writable});
}

namespace {

// Maps the whole file, MAP_SYNC first. Sets base and whether MAP_SYNC held.
Status MapWholeFile(const std::string& path, const OpenedFile& file, bool read_only,
                    Mapping& mapping, bool& map_sync) {
  if (file.size_bytes == 0) return InvalidArgument("mmap " + path + ": the device is empty");
  const int prot = PROT_READ | (read_only ? 0 : PROT_WRITE);
  const auto length = static_cast<size_t>(file.size_bytes);
  void* base = mmap(nullptr, length, prot, MAP_SHARED_VALIDATE | MAP_SYNC, file.fd.get(), 0);
  map_sync = base != MAP_FAILED;
  if (!map_sync) {
    // EOPNOTSUPP: not DAX (or no MAP_SYNC support); EINVAL: a kernel older
    // than MAP_SHARED_VALIDATE. Anything else is a real failure.
    if (errno != EOPNOTSUPP && errno != EINVAL) return ErrnoStatus("mmap", path, errno);
    base = mmap(nullptr, length, prot, MAP_SHARED, file.fd.get(), 0);
    if (base == MAP_FAILED) return ErrnoStatus("mmap", path, errno);
  }
  mapping.base = static_cast<std::byte*>(base);
  mapping.size_bytes = file.size_bytes;
  return Status::Ok();
}

// cpu-cache only when the kernel granted it: MAP_SYNC was accepted on a
// file (fs-dax: page faults commit the file system's metadata, so a flushed
// store is durable), or the device is device-dax carved from a persistent
// memory region, as sysfs says (FindNdRegion): no page cache and no
// metadata behind it. device-dax over RAM (hmem, CXL RAM) is volatile, even
// though the kernel accepts MAP_SYNC there too.
PersistenceMode ModeFor(const OpenedFile& file, bool map_sync) {
  if (file.kind == FileKind::kCharacter) {
    return file.dax_region.empty() ? PersistenceMode::kVolatile : PersistenceMode::kCpuCache;
  }
  if (map_sync) return PersistenceMode::kCpuCache;
  return file.ram_backed ? PersistenceMode::kVolatile : PersistenceMode::kMsync;
}

std::string DescribeMapping(const std::string& path, const OpenedFile& file, bool map_sync,
                            const Mapping& mapping) {
  std::string text = "mmap " + path + " (" + PersistenceModeName(mapping.mode);
  if (file.kind == FileKind::kCharacter) {
    text += ", device-dax, align " + std::to_string(file.dax_align_bytes >> 10) + " KiB, ";
    text += file.dax_region.empty()
                ? std::string("not persistent memory: no nd_pmem region above ") + file.dax_sysfs
                : "pmem " + file.dax_region + ", persistence_domain " + file.dax_persistence_domain;
    if (map_sync) text += ", MAP_SYNC";
  } else if (map_sync) {
    text += ", MAP_SYNC";
  }
  if (mapping.read_only) text += ", read-only";
  return text + ")";
}

}  // namespace
}  // namespace device_internal

Result<std::unique_ptr<Device>> OpenMappedDevice(const std::string& path,
                                                 const FileDeviceOptions& options) {
  using namespace device_internal;
  MDFS_ASSIGN_OR_RETURN(OpenedFile file, OpenDevicePath(path, options, /*allow_character=*/true));
  Mapping mapping;
  bool map_sync = false;
  MDFS_RETURN_IF_ERROR(MapWholeFile(path, file, options.read_only, mapping, map_sync));
  mapping.mode = ModeFor(file, map_sync);
  mapping.read_only = options.read_only;
  mapping.msync_in_flush = map_sync && file.kind != FileKind::kCharacter;
  mapping.map_sync = map_sync;
  mapping.device_dax = file.kind == FileKind::kCharacter;
  if (mapping.device_dax) {
    mapping.align_bytes = file.dax_align_bytes;
    mapping.align_attribute = file.dax_sysfs + "/align";
  }
  std::string description = DescribeMapping(path, file, map_sync, mapping);
  // The descriptor stays open for MapAt (and keeps the image lock).
  return std::unique_ptr<Device>(
      new MappedDevice(path, std::move(description), mapping, std::move(file.fd)));
}

}  // namespace mdfs
