// Durability of stores through a MAP_DIRECT mapping, per persistence mode
// (include/mdfs/device.h):
//
//   mode        Flush (range)                        Drain         Persist
//   kCpuCache   write back the cache lines (CLWB...)  store fence   Flush + Drain
//   kMsync      msync(MS_SYNC) of the covering pages  store fence   Flush + Drain
//   kFdatasync  msync(MS_SYNC) of the covering pages  store fence   Flush + Drain
//   kVolatile   nothing                               store fence   Drain
//
// CopyPersist copies with non-temporal stores (libpmem) when the copy is
// large enough for that to win, else with memcpy (+ cache-line write-back
// on kCpuCache); then makes the bytes durable as Persist does.
//
// Thread-safety: stateless; callers keep the range mapped for the call.
#ifndef MDFS_SRC_DIRECT_PERSIST_H_
#define MDFS_SRC_DIRECT_PERSIST_H_

#include <cstddef>

#include "mdfs/device.h"
#include "mdfs/status.h"

namespace mdfs::direct_internal {

// kCpuCache: from this size up, non-temporal stores beat memcpy + CLWB
// (measured: doc/map_direct.md, "Choosing the copy").
inline constexpr size_t kNonTemporalCopyMinBytes = 64;
// Other modes (no cache-line write-back to save): memcpy into a destination
// that stays cached wins at every size; streaming, non-temporal stores win
// from a few KiB. A copy this large (past a core's L2) does not stay cached.
inline constexpr size_t kNonTemporalCopyMinBytesWithoutFlush = 256 * 1024;

Status FlushRange(PersistenceMode mode, const void* address, size_t length);
void DrainStores();
Status PersistRange(PersistenceMode mode, const void* address, size_t length);
Status CopyPersistRange(PersistenceMode mode, void* destination, const void* source, size_t length);

// The two kCpuCache copies, exposed for the measurement in persist_test.
void CopyWithCacheLineWriteBack(void* destination, const void* source, size_t length);
void CopyNonTemporal(void* destination, const void* source, size_t length);

}  // namespace mdfs::direct_internal

#endif  // MDFS_SRC_DIRECT_PERSIST_H_
