// The in-memory free-space bitmap and the allocation policy.
//
// The bitmap mirrors the on-device bitmap blocks (format.h, "bitmap") bit
// for bit; every change marks its bitmap block dirty so the transaction
// writes exactly the blocks that changed.
//
// Policy (doc/format.md, "allocation"):
//   * small files: runs of 4 KiB blocks, next-fit from a hint, so a file
//     written sequentially lands contiguously;
//   * large files: whole 2 MiB chunks, 2 MiB-aligned on the device, so a
//     2 MiB mapping (huge page, device-dax) of them is possible.
//
// Thread-safety: none; owned by the engine under its exclusive lock.
#ifndef MDFS_SRC_ENGINE_ALLOCATOR_H_
#define MDFS_SRC_ENGINE_ALLOCATOR_H_

#include <cstdint>
#include <set>
#include <span>
#include <vector>

namespace mdfs {

inline constexpr uint64_t kBlocksPerChunk = 512;  // 2 MiB / 4 KiB

struct BlockRun {
  uint64_t start = 0;
  uint64_t count = 0;
};

class Allocator {
 public:
  Allocator(uint64_t total_blocks, uint64_t data_start);

  // Loads bitmap block `index` from its 4064 payload bytes (format order).
  void LoadBitmapBlock(uint64_t index, std::span<const std::byte> bits);
  // The 4064 payload bytes of bitmap block `index`, for encoding.
  std::vector<std::byte> BitmapBlockBytes(uint64_t index) const;

  bool IsUsed(uint64_t block) const;
  uint64_t free_blocks() const { return free_blocks_; }
  uint64_t total_blocks() const { return total_blocks_; }
  uint64_t data_start() const { return data_start_; }

  // Finds and marks used the longest free run of at most `count` blocks,
  // preferring one that starts at `hint`. Empty run: the device is full.
  BlockRun AllocateRun(uint64_t count, uint64_t hint);
  // Finds and marks used a free, 2 MiB-aligned chunk; empty run if none.
  BlockRun AllocateAlignedChunk(uint64_t hint);

  void MarkUsed(uint64_t start, uint64_t count);
  void MarkFree(uint64_t start, uint64_t count);

  // Bitmap block indexes changed since the last TakeDirty().
  std::set<uint64_t> TakeDirty();
  const std::set<uint64_t>& dirty() const { return dirty_; }

 private:
  void SetBit(uint64_t block, bool used);
  uint64_t FreeRunLength(uint64_t start, uint64_t limit) const;
  uint64_t FindFree(uint64_t from) const;  // total_blocks_ if none

  uint64_t total_blocks_;
  uint64_t data_start_;
  uint64_t free_blocks_ = 0;
  std::vector<uint64_t> words_;  // bit i of the device: words_[i/64] >> (i%64)
  std::set<uint64_t> dirty_;
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_ALLOCATOR_H_
