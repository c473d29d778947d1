// A file's block map in memory: file block -> device block, written or
// unwritten, as non-overlapping extents sorted by file block.
//
// Invariants (CheckInvariants; the tests call it after every operation,
// fsck checks the same on the device): each extent is keyed by its
// file_block, has 1 <= count <= 2^32 - 1 (the on-device field) and does not
// wrap; extents never overlap. Insert, MarkWritten, MarkUnwritten and the
// shifts merge neighbours that continue each other on the device with the
// same state, so the map stays small — but SplitAt leaves a split in place
// on purpose, and a map loaded from the device is as it was stored, so
// "merged" is a policy, not an invariant.
//
// Thread-safety: none; guarded by the engine's lock.
#ifndef MDFS_SRC_ENGINE_EXTENT_MAP_H_
#define MDFS_SRC_ENGINE_EXTENT_MAP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "format/format.h"

namespace mdfs {

struct MappedExtent {
  uint64_t file_block = 0;
  uint64_t device_block = 0;
  uint64_t count = 0;
  bool unwritten = false;
  uint64_t file_end() const { return file_block + count; }
};

// A piece of a file range: either mapped (an extent or a part of one) or a hole.
struct MapPiece {
  uint64_t file_block = 0;
  uint64_t count = 0;
  bool mapped = false;
  uint64_t device_block = 0;  // mapped only
  bool unwritten = false;     // mapped only
};

// File blocks [first, last) spanning every piece that satisfies `wanted`.
struct BlockHull {
  uint64_t first = 0;
  uint64_t last = 0;
};

class ExtentMap {
 public:
  // Splits [begin, end) into mapped pieces and holes, in file order.
  std::vector<MapPiece> Pieces(uint64_t begin, uint64_t end) const;
  // The hull of the pieces of [begin, end) for which `wanted(piece)` holds;
  // nullopt when there is none.
  template <typename Predicate>
  std::optional<BlockHull> Hull(uint64_t begin, uint64_t end, Predicate wanted) const {
    std::optional<BlockHull> hull;
    for (const MapPiece& piece : Pieces(begin, end)) {
      if (!wanted(piece)) continue;
      if (!hull) hull = BlockHull{piece.file_block, 0};
      hull->last = piece.file_block + piece.count;
    }
    return hull;
  }
  // Extents overlapping [begin, end), unclipped, in order.
  std::vector<MappedExtent> Overlapping(uint64_t begin, uint64_t end) const;

  // REQUIRES: [extent.file_block, file_end) is a hole.
  void Insert(const MappedExtent& extent);
  // Unmaps [begin, end) and returns the device runs it held (to be freed).
  std::vector<MappedExtent> Remove(uint64_t begin, uint64_t end);
  // Marks [begin, end) written (it must be fully mapped).
  void MarkWritten(uint64_t begin, uint64_t end);
  // Marks the mapped parts of [begin, end) unwritten.
  void MarkUnwritten(uint64_t begin, uint64_t end);
  // Moves every extent at or after `from` by -delta / +delta file blocks.
  // REQUIRES (down): [from - delta, from) is a hole. (up): no extent spans `from`.
  void ShiftDown(uint64_t from, uint64_t delta);
  void ShiftUp(uint64_t from, uint64_t delta);
  // Ensures no extent spans `file_block` (one starts or ends there).
  void SplitAt(uint64_t file_block);

  uint64_t extent_count() const { return extents_.size(); }
  uint64_t mapped_blocks() const;
  bool empty() const { return extents_.empty(); }
  std::vector<format::ExtentRecord> ToRecords() const;
  // Loads from records as decoded; kCorruption if they overlap or are unsorted.
  static Result<ExtentMap> FromRecords(const std::vector<format::ExtentRecord>& records);
  const std::map<uint64_t, MappedExtent>& extents() const { return extents_; }
  // The first broken invariant, described; "" when the map is sound.
  std::string CheckInvariants() const;

 private:
  void SetState(uint64_t begin, uint64_t end, bool unwritten);
  // Merges every mergeable neighbour pair from the extent before `begin` to past `end`.
  void MergeRange(uint64_t begin, uint64_t end);

  std::map<uint64_t, MappedExtent> extents_;  // keyed by file_block
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_EXTENT_MAP_H_
