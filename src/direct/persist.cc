#include "direct/persist.h"

#include <libpmem.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "device/cache_flush.h"

namespace mdfs::direct_internal {
namespace {

// msync(MS_SYNC) of every page that overlaps [address, address + length).
Status MsyncPages(const void* address, size_t length) {
  if (length == 0) return Status::Ok();
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(address);
  const uintptr_t page_begin = begin & ~(page - 1);
  if (msync(reinterpret_cast<void*>(page_begin), begin + length - page_begin, MS_SYNC) != 0) {
    const int error = errno;
    char where[32];
    std::snprintf(where, sizeof(where), "%#llx", static_cast<unsigned long long>(begin));
    return IoError("msync of " + std::to_string(length) + " bytes at " + where + ": " +
                   std::strerror(error));
  }
  return Status::Ok();
}

}  // namespace

Status FlushRange(PersistenceMode mode, const void* address, size_t length) {
  switch (mode) {
    case PersistenceMode::kCpuCache:
      device_internal::WriteBackCacheLines(address, length,
                                           device_internal::BestCacheFlushInstruction());
      return Status::Ok();
    case PersistenceMode::kMsync:
    case PersistenceMode::kFdatasync:
      return MsyncPages(address, length);
    case PersistenceMode::kVolatile:
      return Status::Ok();
  }
  return Status::Ok();
}

void DrainStores() { device_internal::StoreFence(); }

Status PersistRange(PersistenceMode mode, const void* address, size_t length) {
  MDFS_RETURN_IF_ERROR(FlushRange(mode, address, length));
  DrainStores();
  return Status::Ok();
}

void CopyWithCacheLineWriteBack(void* destination, const void* source, size_t length) {
  std::memcpy(destination, source, length);
  device_internal::WriteBackCacheLines(destination, length,
                                       device_internal::BestCacheFlushInstruction());
}

// libpmem's non-temporal copy, without its drain (ours follows).
void CopyNonTemporal(void* destination, const void* source, size_t length) {
  pmem_memcpy(destination, source, length, PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_NODRAIN);
}

Status CopyPersistRange(PersistenceMode mode, void* destination, const void* source,
                        size_t length) {
  if (mode != PersistenceMode::kCpuCache) {
    if (length >= kNonTemporalCopyMinBytesWithoutFlush) {
      CopyNonTemporal(destination, source, length);
      DrainStores();  // out of the write-combining buffers before msync reads the pages
    } else {
      std::memcpy(destination, source, length);
    }
    return PersistRange(mode, destination, length);
  }
  if (length >= kNonTemporalCopyMinBytes) {
    CopyNonTemporal(destination, source, length);
  } else {
    CopyWithCacheLineWriteBack(destination, source, length);
  }
  DrainStores();
  return Status::Ok();
}

}  // namespace mdfs::direct_internal
