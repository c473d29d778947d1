#include "device/map_file_at.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "device/posix_file.h"

// Older C library headers lack the MAP_SYNC flags; the values are the kernel ABI.
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

namespace mdfs::device_internal {
namespace {

std::string Hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

std::string DescribeRequest(const MapFileAtRequest& request) {
  return "map device offset " + std::to_string(request.offset) + " length " +
         std::to_string(request.length) + " at " +
         Hex(reinterpret_cast<uintptr_t>(request.address));
}

Status NotPageMultiple(const MapFileAtRequest& request, const char* what, uint64_t value) {
  return InvalidArgument(DescribeRequest(request) + ": " + what + " " + Hex(value) +
                         " is not a multiple of the page size (" + std::to_string(PageSizeBytes()) +
                         ")");
}

// The kernel's refusal, with what it usually means for the device.
Status MmapFailed(const MappableFile& file, const MapFileAtRequest& request, int error) {
  Status status = ErrnoStatus("mmap", file.name, error);
  std::string message = DescribeRequest(request) + ": " + status.message();
  if (error == EINVAL && file.device_dax) {
    message +=
        " (device-dax maps only ranges aligned to its alignment, see "
        "/sys/bus/dax/devices/*/align)";
  }
  return Status(status.code(), std::move(message));
}

std::string AlignmentName(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// device-dax maps only whole alignment units (the kernel's check_vma; a
// 4 KiB fault on a 2 MiB device raises SIGBUS), and the device offset must
// follow, or the huge-page fault would map the wrong physical bytes.
Status CheckDeviceDaxAlignment(const MappableFile& file, const MapFileAtRequest& request) {
  const uint64_t align = file.align_bytes;
  if (!file.device_dax || align <= PageSizeBytes()) return Status::Ok();
  const char* what = nullptr;
  uint64_t value = 0;
  if (reinterpret_cast<uintptr_t>(request.address) % align != 0) {
    what = "address";
    value = reinterpret_cast<uintptr_t>(request.address);
  } else if (request.offset % align != 0) {
    what = "device offset";
    value = request.offset;
  } else if (request.length % align != 0) {
    what = "length";
    value = request.length;
  } else {
    return Status::Ok();
  }
  return InvalidArgument(
      DescribeRequest(request) + ": " + file.name + " is device-dax with a " +
      AlignmentName(align) + " alignment (" + file.align_attribute +
      "), and the kernel maps only ranges whose address, device offset and length are "
      "multiples of it; the " +
      what + " " + Hex(value) +
      " is not. mdfs gives files of 2 MiB or more 2 MiB-aligned chunks: map such a file in "
      "whole 2 MiB pieces, or create the namespace with 'ndctl create-namespace -m devdax "
      "--align 4K' to map any extent");
}

}  // namespace

uint64_t PageSizeBytes() {
  static const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page;
}

Status CheckMapAtArguments(const MapFileAtRequest& request, uint64_t device_size_bytes) {
  const uint64_t mask = PageSizeBytes() - 1;
  const auto address = reinterpret_cast<uintptr_t>(request.address);
  if (address == 0) return InvalidArgument(DescribeRequest(request) + ": null address");
  if (address & mask) return NotPageMultiple(request, "address", address);
  if (request.offset & mask) return NotPageMultiple(request, "offset", request.offset);
  if (request.length == 0) return InvalidArgument(DescribeRequest(request) + ": length is 0");
  if (request.length & mask) return NotPageMultiple(request, "length", request.length);
  if (address + request.length < address) {
    return InvalidArgument(DescribeRequest(request) + ": the address range wraps around");
  }
  return CheckRange("map", request.offset, request.length, device_size_bytes);
}

Status MapFileAt(const MappableFile& file, const MapFileAtRequest& request) {
  if (file.fd < 0) {
    return NotSupported(DescribeRequest(request) + ": " + file.name +
                        " has no file descriptor to map");
  }
  MDFS_RETURN_IF_ERROR(CheckMapAtArguments(request, file.size_bytes));
  if (request.writable && file.read_only) {
    return ReadOnly(DescribeRequest(request) + " writable: " + file.name + " was opened read-only");
  }
  MDFS_RETURN_IF_ERROR(CheckDeviceDaxAlignment(file, request));
  const int prot = PROT_READ | (request.writable ? PROT_WRITE : 0);
  const int flags = MAP_FIXED | (file.map_sync ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED);
  void* mapped = mmap(request.address, request.length, prot, flags, file.fd,
                      static_cast<off_t>(request.offset));
  if (mapped == MAP_FAILED) return MmapFailed(file, request, errno);
  return Status::Ok();
}

}  // namespace mdfs::device_internal
