// MAP_DIRECT: a file range mapped onto the device's own blocks, with
// durability by flushing from user space (doc/map_direct.md).
//
//   auto m = file->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE,
//                            kMapDirectAllocate, {});   // include/mdfs/session.h
//   std::memcpy((*m)->data() + 4096, record, 64);
//   (*m)->Persist((*m)->data() + 4096, 64);   // durable: see persistence_mode()
//
// Before MapDirect returns, every block of the range is allocated, written
// (new blocks zeroed) and durable in metadata, so stores never need a
// metadata update. The mapping holds a layout lease (LayoutMode kReadWrite
// with PROT_WRITE, else kRead) for its life — except on a sealed file, whose
// block map cannot change: no lease, never recalled. When a breaker recalls
// the layout, the mapping's on_recall callback runs (stop touching the
// range), then the range is replaced so that any later access raises SIGBUS,
// then the layout is released. Revocation (lease_break_time passed) does the
// same without waiting for the callback's blessing.
//
// Thread-safety: data() may be used from any thread; the methods are
// thread-safe. Destroying the mapping unmaps it.
#ifndef MDFS_INCLUDE_MDFS_MAP_DIRECT_H_
#define MDFS_INCLUDE_MDFS_MAP_DIRECT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/status.h"

namespace mdfs {

// MapDirect flags. Any other bit: kNotSupported (the MAP_SHARED_VALIDATE rule).
inline constexpr uint32_t kMapDirectAllocate = 1u << 0;  // map holes, grow the file; else holes fail (kHole)
inline constexpr uint32_t kMapDirectKnownFlags = kMapDirectAllocate;

struct MapDirectOptions {
  // Runs when the layout is recalled (on the breaker's thread), before the
  // range is torn down: stop I/O on it and return. May be empty.
  std::function<void()> on_recall;
  // Runs after a revocation tore the range down. May be empty.
  std::function<void()> on_revoke;
};

class DirectMapping {
 public:
  virtual ~DirectMapping() = default;  // unmaps; releases the layout

  // The range: file bytes [file_offset(), file_offset() + size()) at data().
  virtual std::byte* data() const = 0;
  virtual size_t size() const = 0;
  virtual uint64_t file_offset() const = 0;
  virtual InodeNumber ino() const = 0;
  virtual LayoutId layout() const = 0;  // 0 on a sealed file (no lease)

  // What Persist does on this device: kCpuCache (cache-line write-back +
  // fence: the stores are durable), kMsync (msync of the pages), or
  // kVolatile (nothing survives a reboot anyway; persist only orders).
  virtual PersistenceMode persistence_mode() const = 0;
  // Flush + Drain. [addr, addr+length) must lie inside the mapping.
  virtual Status Persist(const void* addr, size_t length) = 0;
  // Writes back the cache lines (kCpuCache) or the pages (kMsync).
  virtual Status Flush(const void* addr, size_t length) = 0;
  // Waits for earlier flushes (a store fence).
  virtual void Drain() = 0;
  // Copies `length` bytes to `dst` (inside the mapping) with non-temporal
  // stores where that is faster, then makes them durable like Persist.
  virtual Status CopyPersist(void* dst, const void* src, size_t length) = 0;

  // True once the range was recalled or revoked (access raises SIGBUS).
  virtual bool torn_down() const = 0;
  virtual bool revoked() const = 0;
  // Unmaps now (the destructor does it too); releases the layout.
  virtual void Unmap() = 0;
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_MAP_DIRECT_H_
