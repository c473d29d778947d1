// The mdfs side of mdfs_bench_direct: a file system with its LeaseManager on
// one device, and the few calls the sections make through it.
#ifndef MDFS_BENCH_DIRECT_MDFS_H_
#define MDFS_BENCH_DIRECT_MDFS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "direct_host.h"
#include "lease/leases.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"

namespace mdfs::bench::direct {

struct MdfsTarget {
  std::string label;     // "image" or "memory": used in row names
  std::string describe;  // Device::Describe()
  // Destroyed in reverse order: leases, then fs, then device.
  std::unique_ptr<Device> device;
  std::unique_ptr<FileSystem> fs;
  std::unique_ptr<LeaseManager> leases;
  uint64_t next_file = 0;  // names f0, f1, ...

  // A new empty regular file in the root directory.
  InodeNumber CreateFile();
  // A new file of `size` bytes written with `pattern` (allocating writes,
  // durable at return), so that its blocks are allocated and written.
  InodeNumber CreateWrittenFile(uint64_t size, const AlignedBuffer& pattern);
  // MapDirect read-write; fails the run on error.
  std::unique_ptr<DirectMapping> Map(InodeNumber ino, uint64_t offset, uint64_t length,
                                     uint32_t flags, MapDirectOptions options = {});
  // Punches [offset, offset + length) out of `ino` (KEEP_SIZE).
  void Punch(InodeNumber ino, uint64_t offset, uint64_t length);
  // Device byte ranges behind file bytes [offset, offset + length).
  struct DeviceRange {
    uint64_t device_offset, length;
  };
  std::vector<DeviceRange> DeviceRanges(InodeNumber ino, uint64_t offset, uint64_t length,
                                        size_t* extent_count = nullptr);
};

// mdfs formatted on an image file of `size_bytes` at `path` (removed at
// exit): OpenFileDevice ("file") or OpenMappedDevice ("mapped").
std::unique_ptr<MdfsTarget> OpenImageTarget(const std::string& path, uint64_t size_bytes,
                                            const std::string& kind);
// mdfs formatted on an existing device or file at `path` (kept at exit, its
// contents lost): device-dax is always mapped; otherwise as `kind` says.
std::unique_ptr<MdfsTarget> OpenExistingTarget(const std::string& path, const std::string& kind);
// mdfs formatted on CreateMemoryDevice(size_bytes).
std::unique_ptr<MdfsTarget> OpenMemoryTarget(uint64_t size_bytes);

// "mdfs msync: durable", "mdfs volatile: NOT durable": what
// DirectMapping::Persist achieves under `mode` on this machine.
std::string MappingDurability(PersistenceMode mode);
// What a bare cache-line flush (pmem_persist) achieves on a mapping whose
// persistence mode is `mode`: durable only on cpu-cache (persistent memory).
std::string CacheFlushDurability(PersistenceMode mode);

}  // namespace mdfs::bench::direct

#endif  // MDFS_BENCH_DIRECT_MDFS_H_
