// Passes 6-7: each in-use inode's extent map, on its own and against the
// inode's type and size. (Which device blocks the extents name is pass 5,
// ownership.cc.)
#include <algorithm>
#include <string>
#include <vector>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

constexpr uint64_t kMaxFileBlocks = kMaxFileSize / kBlockSize;

std::string ExtentWhere(uint64_t ino, size_t index) {
  return "inode " + std::to_string(ino) + " extent " + std::to_string(index);
}

uint64_t CeilBlocks(uint64_t bytes) { return bytes / kBlockSize + (bytes % kBlockSize != 0); }

// End (exclusive file block) of an extent, saturated so that a corrupt
// extent cannot wrap around.
uint64_t FileEnd(const format::ExtentRecord& extent) {
  const uint64_t end = extent.file_block + extent.block_count;
  return end < extent.file_block ? UINT64_MAX : end;
}

// Each extent alone: a length, known flags, inside the largest file.
// Returns false when any extent is bad.
bool CheckEachExtent(Context& ctx, uint64_t ino, const InodeInfo& info) {
  bool good = true;
  for (size_t i = 0; i < info.extents.size(); ++i) {
    const format::ExtentRecord& extent = info.extents[i];
    if (extent.block_count == 0 || (extent.flags & ~format::kKnownExtentFlags) != 0) {
      ctx.Problem("extent-bad", ExtentWhere(ino, i),
                  "block_count " + std::to_string(extent.block_count) + ", flags " +
                      std::to_string(extent.flags) + " (need block_count >= 1, known flags)");
      good = false;
    } else if (FileEnd(extent) > kMaxFileBlocks) {
      ctx.Problem("extent-beyond-max-size", ExtentWhere(ino, i),
                  "file blocks " + std::to_string(extent.file_block) + "+" +
                      std::to_string(extent.block_count) + " pass the largest file (" +
                      std::to_string(kMaxFileBlocks) + " blocks)");
      good = false;
    }
  }
  return good;
}

// Sorted by file_block, without overlap. Overlap is judged on the extents
// put in order, so that one misplaced extent is one "extent-unsorted" and
// not an overlap with every extent after it. Returns false on any problem.
bool CheckOrder(Context& ctx, uint64_t ino, const InodeInfo& info) {
  bool good = true;
  std::vector<size_t> order(info.extents.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
    if (i > 0 && info.extents[i].file_block < info.extents[i - 1].file_block) {
      ctx.Problem("extent-unsorted", ExtentWhere(ino, i),
                  "starts at file block " + std::to_string(info.extents[i].file_block) +
                      ", before extent " + std::to_string(i - 1) + " (file block " +
                      std::to_string(info.extents[i - 1].file_block) + ")");
      good = false;
    }
  }
  std::stable_sort(order.begin(), order.end(), [&info](size_t a, size_t b) {
    return info.extents[a].file_block < info.extents[b].file_block;
  });
  size_t furthest = 0;  // of the extents so far in file order, the one reaching furthest
  for (size_t k = 1; k < order.size(); ++k) {
    const format::ExtentRecord& extent = info.extents[order[k]];
    const format::ExtentRecord& reach = info.extents[order[furthest]];
    if (extent.file_block < FileEnd(reach)) {
      const size_t first = std::min(order[k], order[furthest]);
      const size_t second = std::max(order[k], order[furthest]);
      ctx.Problem("extent-overlap", ExtentWhere(ino, second),
                  "file block " + std::to_string(extent.file_block) + " is also mapped by extent " +
                      std::to_string(first));
      good = false;
    }
    if (FileEnd(extent) > FileEnd(reach)) furthest = k;
  }
  return good;
}

void CheckRegularFile(Context& ctx, uint64_t ino, const InodeInfo& info) {
  const uint64_t size = info.record.size;
  if (size > kMaxFileSize) {
    ctx.Problem("file-too-large", "inode " + std::to_string(ino),
                "size " + std::to_string(size) + " exceeds the largest file");
  }
  // Unwritten extents past EOF are fallocate(KEEP_SIZE) preallocation;
  // written ones there would expose stale data if the file grew.
  const uint64_t eof_blocks = CeilBlocks(size);
  for (size_t i = 0; i < info.extents.size(); ++i) {
    const format::ExtentRecord& extent = info.extents[i];
    if (!extent.unwritten() && extent.file_block >= eof_blocks) {
      ctx.Problem("written-extent-beyond-eof", ExtentWhere(ino, i),
                  "a written extent at file block " + std::to_string(extent.file_block) +
                      " lies wholly past the end of the file (size " + std::to_string(size) +
                      " bytes ends before file block " + std::to_string(eof_blocks) + ")");
    }
  }
}

// The extents, known sorted, map file blocks 0..n-1 with no hole and are all
// written. Returns n, or nullopt after naming the first extent that breaks it.
std::optional<uint64_t> DenseWrittenBlocks(const InodeInfo& info, std::string* why) {
  uint64_t next = 0;
  for (size_t i = 0; i < info.extents.size(); ++i) {
    const format::ExtentRecord& extent = info.extents[i];
    if (extent.unwritten() || extent.file_block != next) {
      *why = "extent " + std::to_string(i) +
             (extent.unwritten() ? " is unwritten" : " leaves a hole before it");
      return std::nullopt;
    }
    next = FileEnd(extent);
  }
  return next;
}

void CheckDirectoryMap(Context& ctx, uint64_t ino, const InodeInfo& info) {
  const std::string where = "inode " + std::to_string(ino);
  std::string why;
  std::optional<uint64_t> blocks = DenseWrittenBlocks(info, &why);
  if (!blocks) {
    ctx.Problem("directory-bad-map", where,
                "a directory's blocks must be written and dense: " + why);
  } else if (info.record.size != *blocks * kBlockSize) {
    ctx.Problem("directory-size-wrong", where,
                "size " + std::to_string(info.record.size) + " but " + std::to_string(*blocks) +
                    " blocks are mapped (expected size " + std::to_string(*blocks * kBlockSize) +
                    ")");
  }
}

void CheckSymlinkMap(Context& ctx, uint64_t ino, const InodeInfo& info) {
  const std::string where = "inode " + std::to_string(ino);
  const uint64_t size = info.record.size;
  if (size < 1 || size > kMaxSymlinkLength) {
    ctx.Problem("symlink-bad-size", where,
                "a symlink target of " + std::to_string(size) + " bytes (must be 1.." +
                    std::to_string(kMaxSymlinkLength) + ")");
    return;
  }
  std::string why;
  std::optional<uint64_t> blocks = DenseWrittenBlocks(info, &why);
  if (!blocks) {
    ctx.Problem("symlink-bad-map", where, "a symlink's block must be written: " + why);
  } else if (*blocks != CeilBlocks(size)) {
    ctx.Problem("symlink-bad-map", where,
                std::to_string(*blocks) + " blocks are mapped for a " + std::to_string(size) +
                    "-byte target (expected " + std::to_string(CeilBlocks(size)) + ")");
  }
}

}  // namespace

void CheckExtentMaps(Context& ctx) {
  for (const auto& [ino, info] : ctx.inodes) {
    const bool extents_good = CheckEachExtent(ctx, ino, info);
    const bool order_good = CheckOrder(ctx, ino, info);
    switch (info.type()) {
      case S_IFREG:
        CheckRegularFile(ctx, ino, info);
        break;
      case S_IFDIR:
        if (extents_good && order_good) CheckDirectoryMap(ctx, ino, info);
        break;
      case S_IFLNK:
        if (extents_good && order_good) CheckSymlinkMap(ctx, ino, info);
        break;
    }
  }
}

}  // namespace mdfs::fsck
