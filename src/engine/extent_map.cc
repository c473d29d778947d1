#include "engine/extent_map.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <string>

namespace mdfs {

std::vector<MappedExtent> ExtentMap::Overlapping(uint64_t begin, uint64_t end) const {
  std::vector<MappedExtent> result;
  auto it = extents_.upper_bound(begin);
  if (it != extents_.begin()) {
    auto previous = std::prev(it);
    if (previous->second.file_end() > begin) it = previous;
  }
  for (; it != extents_.end() && it->second.file_block < end; ++it) result.push_back(it->second);
  return result;
}

std::vector<MapPiece> ExtentMap::Pieces(uint64_t begin, uint64_t end) const {
  std::vector<MapPiece> pieces;
  uint64_t cursor = begin;
  for (const MappedExtent& e : Overlapping(begin, end)) {
    uint64_t piece_begin = std::max(e.file_block, begin);
    uint64_t piece_end = std::min(e.file_end(), end);
    if (piece_begin > cursor) pieces.push_back({cursor, piece_begin - cursor, false, 0, false});
    pieces.push_back({piece_begin, piece_end - piece_begin, true,
                      e.device_block + (piece_begin - e.file_block), e.unwritten});
    cursor = piece_end;
  }
  if (cursor < end) pieces.push_back({cursor, end - cursor, false, 0, false});
  return pieces;
}

std::string ExtentMap::CheckInvariants() const {
  uint64_t previous_end = 0;
  for (const auto& [key, e] : extents_) {
    const std::string where = "extent at file block " + std::to_string(key);
    if (key != e.file_block) return where + " is keyed " + std::to_string(e.file_block);
    if (e.count == 0 || e.count > UINT32_MAX) {
      return where + " has count " + std::to_string(e.count);
    }
    if (e.file_block > UINT64_MAX - e.count || e.device_block > UINT64_MAX - e.count) {
      return where + " wraps around";
    }
    if (e.file_block < previous_end) {
      return where + " overlaps the one before (ending at " + std::to_string(previous_end) + ")";
    }
    previous_end = e.file_end();
  }
  return "";
}

void ExtentMap::SplitAt(uint64_t file_block) {
  auto it = extents_.upper_bound(file_block);
  if (it == extents_.begin()) return;
  --it;
  MappedExtent& e = it->second;
  if (e.file_block >= file_block || e.file_end() <= file_block) return;
  MappedExtent tail = e;
  uint64_t head_count = file_block - e.file_block;
  tail.file_block = file_block;
  tail.device_block = e.device_block + head_count;
  tail.count = e.count - head_count;
  e.count = head_count;
  extents_[file_block] = tail;
}

void ExtentMap::Insert(const MappedExtent& extent) {
  assert(extent.count > 0);
  assert(Overlapping(extent.file_block, extent.file_end()).empty());
  // Keep every extent's count within the on-device 32-bit field.
  uint64_t done = 0;
  while (done < extent.count) {
    uint64_t piece = std::min<uint64_t>(extent.count - done, UINT32_MAX);
    MappedExtent part{extent.file_block + done, extent.device_block + done, piece,
                      extent.unwritten};
    extents_[part.file_block] = part;
    MergeRange(part.file_block, part.file_end());
    done += piece;
  }
}

std::vector<MappedExtent> ExtentMap::Remove(uint64_t begin, uint64_t end) {
  SplitAt(begin);
  SplitAt(end);
  std::vector<MappedExtent> removed;
  auto it = extents_.lower_bound(begin);
  while (it != extents_.end() && it->second.file_block < end) {
    removed.push_back(it->second);
    it = extents_.erase(it);
  }
  return removed;
}

void ExtentMap::SetState(uint64_t begin, uint64_t end, bool unwritten) {
  SplitAt(begin);
  SplitAt(end);
  for (auto it = extents_.lower_bound(begin); it != extents_.end() && it->first < end; ++it) {
    it->second.unwritten = unwritten;
  }
  MergeRange(begin, end);
}

void ExtentMap::MergeRange(uint64_t begin, uint64_t end) {
  auto it = extents_.lower_bound(begin);
  if (it != extents_.begin()) --it;
  while (it != extents_.end() && it->first <= end) {
    auto next = std::next(it);
    if (next == extents_.end()) break;
    MappedExtent& a = it->second;
    const MappedExtent& b = next->second;
    if (a.file_end() == b.file_block && a.device_block + a.count == b.device_block &&
        a.unwritten == b.unwritten && a.count + b.count <= UINT32_MAX) {
      a.count += b.count;
      extents_.erase(next);
    } else {
      it = next;
    }
  }
}

void ExtentMap::MarkWritten(uint64_t begin, uint64_t end) { SetState(begin, end, false); }
void ExtentMap::MarkUnwritten(uint64_t begin, uint64_t end) { SetState(begin, end, true); }

void ExtentMap::ShiftDown(uint64_t from, uint64_t delta) {
  std::map<uint64_t, MappedExtent> shifted;
  for (auto& [key, e] : extents_) {
    MappedExtent moved = e;
    if (key >= from) moved.file_block -= delta;
    shifted[moved.file_block] = moved;
  }
  extents_.swap(shifted);
  if (from >= delta) MergeRange(from - delta, from - delta);
}

void ExtentMap::ShiftUp(uint64_t from, uint64_t delta) {
  std::map<uint64_t, MappedExtent> shifted;
  for (auto& [key, e] : extents_) {
    MappedExtent moved = e;
    if (key >= from) moved.file_block += delta;
    shifted[moved.file_block] = moved;
  }
  extents_.swap(shifted);
}

uint64_t ExtentMap::mapped_blocks() const {
  uint64_t total = 0;
  for (const auto& [key, e] : extents_) total += e.count;
  return total;
}

std::vector<format::ExtentRecord> ExtentMap::ToRecords() const {
  std::vector<format::ExtentRecord> records;
  records.reserve(extents_.size());
  for (const auto& [key, e] : extents_) {
    records.push_back({e.file_block, e.device_block, static_cast<uint32_t>(e.count),
                       e.unwritten ? format::kExtentFlagUnwritten : 0u});
  }
  return records;
}

Result<ExtentMap> ExtentMap::FromRecords(const std::vector<format::ExtentRecord>& records) {
  ExtentMap map;
  uint64_t previous_end = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const format::ExtentRecord& r = records[i];
    if (r.block_count == 0 || (i > 0 && r.file_block < previous_end)) {
      return Corruption("extent " + std::to_string(i) + " overlaps or is out of order");
    }
    previous_end = r.file_block + r.block_count;
    map.extents_[r.file_block] = {r.file_block, r.device_block, r.block_count, r.unwritten()};
  }
  return map;
}

}  // namespace mdfs
