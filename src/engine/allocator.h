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
// The allocator also keeps, in memory only, the record of speculative
// preallocation: device blocks the engine's chunk policy mapped beyond what
// an operation asked for (the unwritten rest of a chunk past EOF). The
// engine trims them when the writer is done with the file (Fsync) and
// reclaims them when the device runs short (doc/format.md, "allocation").
// Invariant S1: every recorded block is in use. MarkFree forgets what it
// frees, so a block's record never outlives its owner's claim on it.
// Invariant S2: the record errs on the side of keeping: a block it does not
// list (an explicit fallocate, a block written, a block mapped in an earlier
// session) is never trimmed; only truncate, punch and unlink free it.
//
// Thread-safety: none; owned by the engine under its exclusive lock.
#ifndef MDFS_SRC_ENGINE_ALLOCATOR_H_
#define MDFS_SRC_ENGINE_ALLOCATOR_H_

#include <cstdint>
#include <map>
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
  // Also forgets the speculative record of the blocks it frees (S1).
  void MarkFree(uint64_t start, uint64_t count);

  // ---- speculative preallocation (in memory only)
  // Records device blocks [start, start + count), just mapped by inode
  // `owner` beyond what the operation asked for. REQUIRES: in use, not
  // recorded already.
  void RecordSpeculative(uint64_t start, uint64_t count, uint64_t owner);
  // Forgets any record of device blocks [start, start + count): they were
  // written or claimed by an explicit preallocation.
  void ForgetSpeculative(uint64_t start, uint64_t count);
  // The recorded runs inside device blocks [start, start + count), clipped,
  // in device order.
  std::vector<BlockRun> SpeculativeRuns(uint64_t start, uint64_t count) const;
  // The inodes that own recorded blocks, ascending, each once.
  std::vector<uint64_t> SpeculativeOwners() const;
  uint64_t speculative_blocks() const { return speculative_blocks_; }

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
  struct SpeculativeRun {
    uint64_t count = 0;
    uint64_t owner = 0;
  };
  std::map<uint64_t, SpeculativeRun> speculative_;  // by first device block; disjoint
  uint64_t speculative_blocks_ = 0;
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_ALLOCATOR_H_
