// The one implementation of Device::MapAt for devices backed by a file
// descriptor (file, mapped, memory): argument checks, then
// mmap(MAP_FIXED | MAP_SHARED[_VALIDATE | MAP_SYNC]) of the descriptor.
#ifndef MDFS_SRC_DEVICE_MAP_FILE_AT_H_
#define MDFS_SRC_DEVICE_MAP_FILE_AT_H_

#include <cstdint>
#include <string>

#include "mdfs/status.h"

namespace mdfs::device_internal {

struct MapFileAtRequest {
  void* address = nullptr;
  uint64_t offset = 0;  // bytes into the device
  uint64_t length = 0;  // bytes
  bool writable = false;
};

struct MappableFile {
  int fd = -1;              // -1: the device cannot be mapped
  std::string name;         // the path (or "memory") error messages name
  uint64_t size_bytes = 0;  // the device's size
  bool read_only = false;   // opened read-only: writable mappings refused
  bool map_sync = false;    // MAP_SHARED_VALIDATE | MAP_SYNC, as the device was opened
  bool device_dax = false;  // only for a hint when the kernel refuses the alignment
  // device-dax: the address, offset and length of a mapping must be
  // multiples of this (0: the page size is enough), as its sysfs
  // `align_attribute` says; checked before mmap so the refusal names it.
  uint64_t align_bytes = 0;
  std::string align_attribute{};
};

// The page size the kernel maps with (sysconf(_SC_PAGESIZE)).
uint64_t PageSizeBytes();

// OK when address, offset and length are multiples of the page size,
// length > 0 and [offset, offset + length) lies inside the device; else
// kInvalidArgument naming the value that is wrong.
Status CheckMapAtArguments(const MapFileAtRequest& request, uint64_t device_size_bytes);

// Checks the request, then maps the file's bytes at request.address,
// replacing whatever was mapped there. kReadOnly for a writable mapping of
// a read-only device; kInvalidArgument for a device-dax range that is not
// aligned to its alignment (naming the rule and the ways out); mmap
// failures name the device and the range.
Status MapFileAt(const MappableFile& file, const MapFileAtRequest& request);

}  // namespace mdfs::device_internal

#endif  // MDFS_SRC_DEVICE_MAP_FILE_AT_H_
