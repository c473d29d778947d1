#include "direct/map_direct_engine.h"
#include "direct_mdfs.h"
#include "lease/leases.h"

#include <sys/mman.h>

#include <algorithm>

namespace mdfs::bench::direct {

namespace {

std::unique_ptr<MdfsTarget> FormatAndOpen(std::unique_ptr<Device> device, std::string label) {
  auto target = std::make_unique<MdfsTarget>();
  target->label = std::move(label);
  target->describe = device->Describe();
  target->device = std::move(device);
  Check(FileSystem::Format(target->device.get()), "Format " + target->describe);
  auto fs = FileSystem::Open(target->device.get());
  Check(fs.status(), "Open " + target->describe);
  target->fs = std::move(*fs);
  auto leases = LeaseManager::Attach(target->fs.get());
  Check(leases.status(), "LeaseManager::Attach " + target->describe);
  target->leases = std::move(*leases);
  return target;
}

}  // namespace

std::unique_ptr<MdfsTarget> OpenImageTarget(const std::string& path, uint64_t size_bytes,
                                            const std::string& kind) {
  FileDeviceOptions options;
  options.create = true;
  options.create_size = size_bytes;
  auto device = kind == "mapped" ? OpenMappedDevice(path, options) : OpenFileDevice(path, options);
  Check(device.status(), "open image " + path);
  RemoveAtExit(path);
  return FormatAndOpen(std::move(*device), "image");
}

std::unique_ptr<MdfsTarget> OpenExistingTarget(const std::string& path, const std::string& kind) {
  auto device = kind == "mapped" ? OpenMappedDevice(path) : OpenFileDevice(path);
  Check(device.status(), "open image " + path);
  return FormatAndOpen(std::move(*device), "image");
}

std::unique_ptr<MdfsTarget> OpenMemoryTarget(uint64_t size_bytes) {
  auto device = CreateMemoryDevice(size_bytes);
  Check(device.status(), "CreateMemoryDevice");
  return FormatAndOpen(std::move(*device), "memory");
}

InodeNumber MdfsTarget::CreateFile() {
  std::string name = "f";  // (not "f" + to_string: g++ 12 warns -Wrestrict on it, falsely)
  name += std::to_string(next_file++);
  auto attributes = fs->Create(kRootInode, name, 0644);
  if (!attributes.ok()) Fail("mdfs Create " + name, attributes.status().ToString());
  return attributes->ino;
}

InodeNumber MdfsTarget::CreateWrittenFile(uint64_t size, const AlignedBuffer& pattern) {
  InodeNumber ino = CreateFile();
  for (uint64_t off = 0; off < size; off += pattern.size()) {
    size_t length = static_cast<size_t>(std::min<uint64_t>(pattern.size(), size - off));
    Check(fs->Write(ino, off, {pattern.data(), length}).status(), "mdfs Write on " + describe);
  }
  return ino;
}

std::unique_ptr<DirectMapping> MdfsTarget::Map(InodeNumber ino, uint64_t offset, uint64_t length,
                                               uint32_t flags, MapDirectOptions options) {
  auto mapping = MapDirect(fs.get(), leases.get(), ino, offset, length, PROT_READ | PROT_WRITE,
                           flags, std::move(options));
  Check(mapping.status(), "MapDirect on " + describe);
  return std::move(*mapping);
}

void MdfsTarget::Punch(InodeNumber ino, uint64_t offset, uint64_t length) {
  Check(fs->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, offset, length),
        "mdfs punch hole on " + describe);
}

std::vector<MdfsTarget::DeviceRange> MdfsTarget::DeviceRanges(InodeNumber ino, uint64_t offset,
                                                              uint64_t length,
                                                              size_t* extent_count) {
  auto extents = fs->GetExtents(ino, offset, length);
  Check(extents.status(), "mdfs GetExtents");
  if (extent_count) *extent_count = extents->size();
  std::vector<DeviceRange> out;
  const uint64_t end = offset + length;
  uint64_t covered = 0;
  for (const ExtentInfo& e : *extents) {
    if (e.flags & kExtentUnwritten) Fail("device ranges", "unexpected unwritten extent");
    uint64_t lo = std::max(offset, e.file_offset), hi = std::min(end, e.file_offset + e.length);
    if (lo < hi) {
      out.push_back({e.device_offset + (lo - e.file_offset), hi - lo});
      covered += hi - lo;
    }
  }
  if (covered != length) Fail("device ranges", "extents do not cover the range");
  return out;
}

std::string MappingDurability(PersistenceMode mode) {
  // kCpuCache is reported only for device-dax or a MAP_SYNC mapping, where
  // the cache-line flush does reach the persistence domain.
  const bool durable = mode != PersistenceMode::kVolatile;
  return std::string("mdfs ") + PersistenceModeName(mode) +
         (durable ? ": durable" : ": NOT durable");
}

std::string CacheFlushDurability(PersistenceMode mode) {
  return mode == PersistenceMode::kCpuCache ? "cpu cache of pmem: durable"
                                            : "cpu cache of page cache: NOT durable";
}

}  // namespace mdfs::bench::direct
