// VirtualRange: the address space behind one MAP_DIRECT mapping.
//
// A contiguous range of virtual addresses for file bytes
// [file_offset, file_offset + length), placed so that the address of file
// offset x is congruent to x modulo 2 MiB: a 2 MiB-aligned extent at a
// 2 MiB-aligned file offset then lands on a 2 MiB-aligned address, and the
// kernel can map it with one PMD entry on DAX. The range starts reserved
// (PROT_NONE, no memory committed); MapExtents stitches the file's extents
// into it with Device::MapAt; Poison replaces it so that every access
// raises SIGBUS (what the kernel does to a revoked mapping).
//
// States (each transition is one function):
//   reserved --MapExtents--> mapped --Poison--> poisoned --Unmap--> unmapped
//   mapped --Reserve (again)--> reserved;  any --Unmap--> unmapped
//
// Thread-safety: none; the owner (DirectMapping) serializes the calls.
#ifndef MDFS_SRC_DIRECT_VIRTUAL_RANGE_H_
#define MDFS_SRC_DIRECT_VIRTUAL_RANGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "lease/leases.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs::direct_internal {

// The alignment the virtual address follows: x86-64's PMD (huge page) size.
inline constexpr uint64_t kHugePageBytes = uint64_t{2} << 20;

class VirtualRange {
 public:
  // Reserves `length` bytes (a multiple of the page size, > 0) for file
  // bytes starting at `file_offset` (a multiple of the page size).
  static Result<std::unique_ptr<VirtualRange>> Reserve(uint64_t file_offset, uint64_t length);
  ~VirtualRange();  // unmaps
  VirtualRange(const VirtualRange&) = delete;
  VirtualRange& operator=(const VirtualRange&) = delete;

  std::byte* data() const { return data_; }  // the address of file_offset()
  uint64_t length() const { return length_; }
  uint64_t file_offset() const { return file_offset_; }
  bool unmapped() const { return data_ == nullptr; }
  // True when [address, address + length) lies inside the range.
  bool Contains(const void* address, size_t length) const;

  // Maps every block of the range onto its device bytes. `extents` (as
  // PrepareDirectAccess gives them: written, file order, possibly reaching
  // outside the range) must cover the range without a gap (kCorruption
  // otherwise, naming the first uncovered byte). Extents contiguous on the
  // device too are mapped with one MapAt call. On failure the range is
  // reserved again (no device byte stays mapped).
  Status MapExtents(Device& device, const std::vector<ExtentInfo>& extents, bool writable);
  // Back to the PROT_NONE reservation: nothing of the device stays mapped.
  Status ResetToReserved();
  // Replaces the whole range, in one mmap call (atomic for other threads),
  // with a mapping on which every load or store raises SIGBUS.
  Status Poison();
  // Gives the addresses back. Idempotent.
  void Unmap();

 private:
  VirtualRange(std::byte* data, uint64_t file_offset, uint64_t length)
      : data_(data), file_offset_(file_offset), length_(length) {}

  std::byte* data_;  // nullptr once unmapped
  const uint64_t file_offset_;
  const uint64_t length_;
};

// One MapAt call: device bytes [device_offset, +length) at file_offset.
struct MapPiece {
  uint64_t file_offset = 0;
  uint64_t device_offset = 0;
  uint64_t length = 0;
};

// `extents` clipped to [begin, end) and merged where they are contiguous
// both in the file and on the device. kCorruption when they leave a gap,
// overlap, or are out of order (the engine promised written extents).
Result<std::vector<MapPiece>> PlanMapPieces(const std::vector<ExtentInfo>& extents, uint64_t begin,
                                            uint64_t end);

}  // namespace mdfs::direct_internal

#endif  // MDFS_SRC_DIRECT_VIRTUAL_RANGE_H_
