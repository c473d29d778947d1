// CreateMemoryDevice: a memfd mapped MAP_SHARED, for tests. Nothing survives
// the process; persistence mode kVolatile, so Flush and Persist do nothing.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "device/mapped_device.h"
#include "device/posix_file.h"

namespace mdfs {
namespace {

// "64 MiB", "12 KiB", "1000 bytes": the largest unit that divides exactly.
std::string FormatSize(uint64_t bytes) {
  constexpr uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes % kGiB == 0) return std::to_string(bytes / kGiB) + " GiB";
  if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

Result<std::unique_ptr<Device>> CreateMemoryDevice(uint64_t size_bytes) {
  using device_internal::ErrnoStatus;
  if (size_bytes == 0) return InvalidArgument("memory device: size must be positive");
  device_internal::UniqueFd fd(memfd_create("mdfs-memory", MFD_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("memfd_create", "mdfs-memory", errno);
  if (ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
    return ErrnoStatus("ftruncate", "mdfs-memory", errno);
  }
  void* base = mmap(nullptr, size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) return ErrnoStatus("mmap", "mdfs-memory", errno);
  device_internal::Mapping mapping;
  mapping.base = static_cast<std::byte*>(base);
  mapping.size_bytes = size_bytes;
  mapping.mode = PersistenceMode::kVolatile;
  // The memfd stays open for MapAt.
  return std::unique_ptr<Device>(new device_internal::MappedDevice(
      "memory", "memory " + FormatSize(size_bytes), mapping, std::move(fd)));
}

}  // namespace mdfs
