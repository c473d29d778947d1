// Pass 5: block ownership. Every block an inode references — its extent
// blocks and every device block of every extent, written or unwritten — must
// lie in the data region and belong to exactly one inode, and the bitmap must
// mark exactly the owned data blocks in use.
//
// Ownership is kept as ranges (one per extent), not per block, so memory
// grows with the number of extents rather than the size of the device.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

struct Owned {
  uint64_t first = 0;  // device block
  uint64_t count = 0;
  uint64_t ino = 0;
  bool extent_block = false;  // else an extent
  size_t index = 0;           // of the extent, or of the extent block in the chain
  uint64_t end() const { return first + count; }
};

std::string OwnerName(const Owned& owned) {
  return "inode " + std::to_string(owned.ino) +
         (owned.extent_block ? " extent block " : " extent ") + std::to_string(owned.index);
}

// Adds the part of extent `index` of `ino` inside the data region; reports
// any part outside it.
void AddExtent(Context& ctx, uint64_t ino, size_t index, const format::ExtentRecord& extent,
               std::vector<Owned>& owned) {
  if (extent.block_count == 0) return;  // reported by the extent pass
  const uint64_t first = extent.device_block;
  uint64_t end = first + extent.block_count;
  if (end < first) end = UINT64_MAX;
  if (!ctx.InDataRegion(first, extent.block_count)) {
    ctx.Problem(
        "block-out-of-range", "inode " + std::to_string(ino) + " extent " + std::to_string(index),
        "device blocks " + std::to_string(first) + "+" + std::to_string(extent.block_count) +
            " are not all inside the data region [" + std::to_string(ctx.sb.data_start) + ", " +
            std::to_string(ctx.sb.total_blocks) + ")");
  }
  const uint64_t low = std::max(first, ctx.sb.data_start);
  const uint64_t high = std::min(end, ctx.sb.total_blocks);
  if (low < high) owned.push_back({low, high - low, ino, false, index});
}

std::vector<Owned> CollectOwned(Context& ctx) {
  std::vector<Owned> owned;
  for (const auto& [ino, info] : ctx.inodes) {
    for (size_t i = 0; i < info.extent_blocks.size(); ++i) {
      owned.push_back({info.extent_blocks[i], 1, ino, true, i});  // range-checked by the scan
    }
    for (size_t i = 0; i < info.extents.size(); ++i) AddExtent(ctx, ino, i, info.extents[i], owned);
  }
  std::sort(owned.begin(), owned.end(),
            [](const Owned& a, const Owned& b) { return a.first < b.first; });
  return owned;
}

// `owned` sorted by first block. Each range is compared with the range seen
// so far that reaches furthest, so every doubly owned block is reported at
// least once.
void ReportDoubleOwned(Context& ctx, const std::vector<Owned>& owned) {
  size_t furthest = 0;
  for (size_t i = 1; i < owned.size(); ++i) {
    const Owned& a = owned[furthest];
    const Owned& b = owned[i];
    if (b.first < a.end()) {
      const uint64_t overlap_end = std::min(a.end(), b.end());
      ctx.Problem("block-double-owned", BlockRange(b.first, overlap_end - b.first),
                  "owned by both " + OwnerName(a) + " and " + OwnerName(b));
    }
    if (b.end() > a.end()) furthest = i;
  }
}

void ReportUsedButFree(Context& ctx, const std::vector<Owned>& owned) {
  for (const Owned& range : owned) {
    RunReporter free_runs([&](uint64_t first, uint64_t count) {
      ctx.Problem("block-used-but-free", BlockRange(first, count),
                  "owned by " + OwnerName(range) + " but marked free in the bitmap");
    });
    for (uint64_t block = range.first; block < range.end(); ++block) {
      if (ctx.MarkedUsed(block) == false) free_runs.Add(block);
    }
  }
}

// Walks the data region against the union of the owned ranges: counts the
// owned blocks and reports blocks the bitmap marks used that nobody owns.
// Returns the number of distinct owned blocks.
uint64_t ReportLeaked(Context& ctx, const std::vector<Owned>& owned) {
  const std::string caveat =
      ctx.AnyInodeUnreadable() ? " (some inodes could not be read; one of them may own it)" : "";
  RunReporter leaked_runs([&](uint64_t first, uint64_t count) {
    ctx.Problem("block-leaked", BlockRange(first, count),
                "marked in use in the bitmap but owned by no inode" + caveat);
  });
  uint64_t owned_blocks = 0;
  size_t next = 0;          // the next range, by first block
  uint64_t covered_to = 0;  // the union of ranges before `next` ends here
  for (uint64_t block = ctx.sb.data_start; block < ctx.sb.total_blocks; ++block) {
    while (next < owned.size() && owned[next].first <= block) {
      covered_to = std::max(covered_to, owned[next].end());
      ++next;
    }
    if (block < covered_to) {
      ++owned_blocks;
    } else if (ctx.MarkedUsed(block) == true) {
      leaked_runs.Add(block);
    }
  }
  return owned_blocks;
}

// Invariant J4 of the journal: a committed transaction never carries an
// image of a block it frees, and a later transaction that reused the block
// would have replaced it in the journal. So every data-region block the
// journal's transaction writes is, in the state after replay, a directory
// block or an extent block; anything else means replay would overwrite a
// file's data or free space.
void CheckJournalTargetsAreMetadata(Context& ctx, const std::vector<Owned>& owned) {
  std::set<uint64_t> unexplained;
  for (const auto& [target, image] : ctx.overlay) {
    if (target >= ctx.sb.data_start && target < ctx.sb.total_blocks) unexplained.insert(target);
  }
  for (const Owned& range : owned) {
    if (unexplained.empty()) break;
    const InodeInfo* owner = ctx.Find(range.ino);
    if (!range.extent_block && !(owner != nullptr && owner->is_directory())) continue;
    auto it = unexplained.lower_bound(range.first);
    while (it != unexplained.end() && *it < range.end()) it = unexplained.erase(it);
  }
  const std::string caveat =
      ctx.AnyInodeUnreadable() ? " (some inodes could not be read; one of them may own it)" : "";
  for (uint64_t target : unexplained) {
    ctx.Problem("journal-image-not-metadata", "block " + std::to_string(target),
                "the journal's committed transaction writes this block, which is neither a "
                "directory block nor an extent block: replay would overwrite data or free space" +
                    caveat);
  }
}

}  // namespace

void CheckOwnership(Context& ctx) {
  const std::vector<Owned> owned = CollectOwned(ctx);
  ReportDoubleOwned(ctx, owned);
  ReportUsedButFree(ctx, owned);
  const uint64_t owned_blocks = ReportLeaked(ctx, owned);
  CheckJournalTargetsAreMetadata(ctx, owned);
  // The fixed regions before data_start are in use by definition.
  ctx.report.blocks_in_use = std::min(ctx.sb.data_start, ctx.sb.total_blocks) + owned_blocks;
}

}  // namespace mdfs::fsck
