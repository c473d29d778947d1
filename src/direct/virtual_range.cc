#include "direct/virtual_range.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mdfs::direct_internal {
namespace {

constexpr int kReservedFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

uint64_t PageSizeBytes() {
  static const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page;
}

Status ErrnoError(const std::string& what, int error) {
  return IoError(what + ": " + std::strerror(error));
}

// A zero-length memfd that can never grow (F_SEAL_GROW): every page of a
// mapping of it lies past its end, so any access raises SIGBUS. One per
// process, made on first use and kept open. -1 (and `error`) on failure.
int RevokedFileDescriptor(int& error) {
  static int saved_error = 0;
  static const int fd = [] {
    const int made = memfd_create("mdfs-revoked-mapping", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (made < 0) {
      saved_error = errno;
      return -1;
    }
    if (fcntl(made, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
      saved_error = errno;
      close(made);
      return -1;
    }
    return made;
  }();
  error = saved_error;
  return fd;
}

std::string FileRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

// Appends device bytes for file bytes [begin, end) to `pieces`, merging
// with the last piece when the device bytes follow on.
void AppendPiece(std::vector<MapPiece>& pieces, uint64_t begin, uint64_t end,
                 uint64_t device_offset) {
  if (!pieces.empty()) {
    MapPiece& last = pieces.back();
    if (last.file_offset + last.length == begin &&
        last.device_offset + last.length == device_offset) {
      last.length += end - begin;
      return;
    }
  }
  pieces.push_back({begin, device_offset, end - begin});
}

}  // namespace

Result<std::unique_ptr<VirtualRange>> VirtualRange::Reserve(uint64_t file_offset, uint64_t length) {
  const uint64_t page = PageSizeBytes();
  if (length == 0 || length % page != 0 || file_offset % page != 0) {
    return InvalidArgument("reserve addresses for file range offset " +
                           std::to_string(file_offset) + " length " + std::to_string(length) +
                           ": both must be multiples of the page size (" + std::to_string(page) +
                           ") and the length positive");
  }
  if (length > UINT64_MAX - kHugePageBytes) return InvalidArgument("reserve: length too large");
  // Over-reserve by 2 MiB, then trim both ends so that the start is
  // congruent to file_offset modulo 2 MiB.
  const uint64_t span = length + kHugePageBytes;
  void* raw = mmap(nullptr, span, PROT_NONE, kReservedFlags, -1, 0);
  if (raw == MAP_FAILED) {
    return Status(
        errno == ENOMEM ? Code::kNoSpace : Code::kIoError,
        "reserve " + std::to_string(span) + " bytes of address space: " + std::strerror(errno));
  }
  const auto raw_start = reinterpret_cast<uintptr_t>(raw);
  const uint64_t want = file_offset % kHugePageBytes;
  const uint64_t skip = (want + kHugePageBytes - raw_start % kHugePageBytes) % kHugePageBytes;
  const uintptr_t start = raw_start + skip;
  if (skip > 0) munmap(raw, skip);
  if (span - skip - length > 0) {
    munmap(reinterpret_cast<void*>(start + length), span - skip - length);
  }
  return std::unique_ptr<VirtualRange>(
      new VirtualRange(reinterpret_cast<std::byte*>(start), file_offset, length));
}

VirtualRange::~VirtualRange() { Unmap(); }

bool VirtualRange::Contains(const void* address, size_t length) const {
  if (data_ == nullptr) return false;
  const auto begin = reinterpret_cast<uintptr_t>(address);
  const auto base = reinterpret_cast<uintptr_t>(data_);
  return begin >= base && length <= length_ && begin - base <= length_ - length;
}

Result<std::vector<MapPiece>> PlanMapPieces(const std::vector<ExtentInfo>& extents, uint64_t begin,
                                            uint64_t end) {
  std::vector<MapPiece> pieces;
  uint64_t covered = begin;  // file bytes [begin, covered) are planned
  for (const ExtentInfo& extent : extents) {
    const uint64_t extent_end = extent.file_offset + extent.length;
    const uint64_t low = std::max(extent.file_offset, begin);
    const uint64_t high = std::min(extent_end, end);
    if (low >= high) continue;  // outside the range
    if (extent.flags & kExtentUnwritten) {
      return Corruption("extent " + FileRange(extent.file_offset, extent_end) +
                        " is unwritten; direct access needs written blocks");
    }
    if (low > covered) return Corruption("no extent covers file bytes " + FileRange(covered, low));
    if (low < covered) {
      return Corruption("extent " + FileRange(extent.file_offset, extent_end) +
                        " overlaps or precedes file byte " + std::to_string(covered));
    }
    AppendPiece(pieces, low, high, extent.device_offset + (low - extent.file_offset));
    covered = high;
  }
  if (covered < end) return Corruption("no extent covers file bytes " + FileRange(covered, end));
  return pieces;
}

Status VirtualRange::MapExtents(Device& device, const std::vector<ExtentInfo>& extents,
                                bool writable) {
  if (data_ == nullptr) return InvalidArgument("map extents: the range was unmapped");
  MDFS_ASSIGN_OR_RETURN(std::vector<MapPiece> pieces,
                        PlanMapPieces(extents, file_offset_, file_offset_ + length_));
  for (const MapPiece& piece : pieces) {
    std::byte* address = data_ + (piece.file_offset - file_offset_);
    Status status = device.MapAt(address, piece.device_offset, piece.length, writable);
    if (!status.ok()) {
      (void)ResetToReserved();
      return status.WithContext("map file bytes " +
                                FileRange(piece.file_offset, piece.file_offset + piece.length));
    }
  }
  return Status::Ok();
}

Status VirtualRange::ResetToReserved() {
  if (data_ == nullptr) return InvalidArgument("reset: the range was unmapped");
  if (mmap(data_, length_, PROT_NONE, MAP_FIXED | kReservedFlags, -1, 0) == MAP_FAILED) {
    return ErrnoError("reset mapping to PROT_NONE", errno);
  }
  return Status::Ok();
}

// If the revoked-file mapping cannot be made, PROT_NONE is the next best:
// access still faults (SIGSEGV rather than SIGBUS) and no device byte stays
// reachable.
Status VirtualRange::Poison() {
  if (data_ == nullptr) return InvalidArgument("poison: the range was unmapped");
  int error = 0;
  const int fd = RevokedFileDescriptor(error);
  if (fd < 0) {
    MDFS_RETURN_IF_ERROR(ResetToReserved());
    return ErrnoError("memfd for revoked mappings (fell back to PROT_NONE)", error);
  }
  const int flags = MAP_FIXED | MAP_SHARED | MAP_NORESERVE;
  if (mmap(data_, length_, PROT_READ | PROT_WRITE, flags, fd, 0) == MAP_FAILED) {
    const int mmap_error = errno;
    MDFS_RETURN_IF_ERROR(ResetToReserved());
    return ErrnoError("map the revoked-mapping memfd (fell back to PROT_NONE)", mmap_error);
  }
  return Status::Ok();
}

void VirtualRange::Unmap() {
  if (data_ == nullptr) return;
  munmap(data_, length_);
  data_ = nullptr;
}

}  // namespace mdfs::direct_internal
