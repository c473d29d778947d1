#include "engine/allocator.h"

#include <algorithm>
#include <cassert>
#include <iterator>

#include "format/format.h"

namespace mdfs {

namespace {
constexpr uint64_t kBitsPerBitmapBlock = format::kBitsPerBitmapBlock;
}

Allocator::Allocator(uint64_t total_blocks, uint64_t data_start)
    : total_blocks_(total_blocks), data_start_(data_start), words_((total_blocks + 63) / 64, 0) {
  free_blocks_ = total_blocks;
}

void Allocator::LoadBitmapBlock(uint64_t index, std::span<const std::byte> bits) {
  uint64_t first = index * kBitsPerBitmapBlock;
  for (uint64_t bit = 0; bit < kBitsPerBitmapBlock && first + bit < total_blocks_; ++bit) {
    bool used = (std::to_integer<unsigned>(bits[bit / 8]) >> (bit % 8)) & 1u;
    if (used != IsUsed(first + bit)) SetBit(first + bit, used);
  }
}

std::vector<std::byte> Allocator::BitmapBlockBytes(uint64_t index) const {
  std::vector<std::byte> bytes(kBitsPerBitmapBlock / 8, std::byte{0});
  uint64_t first = index * kBitsPerBitmapBlock;
  for (uint64_t bit = 0; bit < kBitsPerBitmapBlock; ++bit) {
    // Bits past the end of the device read as used (format rule).
    bool used = first + bit >= total_blocks_ || IsUsed(first + bit);
    if (used) bytes[bit / 8] |= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
  }
  return bytes;
}

bool Allocator::IsUsed(uint64_t block) const { return (words_[block / 64] >> (block % 64)) & 1u; }

void Allocator::SetBit(uint64_t block, bool used) {
  uint64_t mask = uint64_t{1} << (block % 64);
  if (used) {
    assert(!(words_[block / 64] & mask));
    words_[block / 64] |= mask;
    --free_blocks_;
  } else {
    assert(words_[block / 64] & mask);
    words_[block / 64] &= ~mask;
    ++free_blocks_;
  }
  dirty_.insert(block / kBitsPerBitmapBlock);
}

void Allocator::MarkUsed(uint64_t start, uint64_t count) {
  for (uint64_t b = start; b < start + count; ++b) SetBit(b, true);
}

void Allocator::MarkFree(uint64_t start, uint64_t count) {
  for (uint64_t b = start; b < start + count; ++b) SetBit(b, false);
  ForgetSpeculative(start, count);
}

void Allocator::RecordSpeculative(uint64_t start, uint64_t count, uint64_t owner) {
  if (count == 0) return;
  assert(SpeculativeRuns(start, count).empty());
  assert(IsUsed(start) && IsUsed(start + count - 1));
  speculative_[start] = SpeculativeRun{count, owner};
  speculative_blocks_ += count;
}

void Allocator::ForgetSpeculative(uint64_t start, uint64_t count) {
  if (speculative_.empty() || count == 0) return;
  uint64_t end = start + count;
  auto it = speculative_.upper_bound(start);
  if (it != speculative_.begin() && std::prev(it)->first + std::prev(it)->second.count > start) {
    --it;
  }
  while (it != speculative_.end() && it->first < end) {
    uint64_t run_start = it->first;
    SpeculativeRun run = it->second;
    uint64_t run_end = run_start + run.count;
    it = speculative_.erase(it);
    speculative_blocks_ -= run.count;
    // Keep the parts outside [start, end).
    if (run_start < start) {
      speculative_[run_start] = SpeculativeRun{start - run_start, run.owner};
      speculative_blocks_ += start - run_start;
    }
    if (run_end > end) {
      it = speculative_.emplace(end, SpeculativeRun{run_end - end, run.owner}).first;
      speculative_blocks_ += run_end - end;
      break;
    }
  }
}

std::vector<BlockRun> Allocator::SpeculativeRuns(uint64_t start, uint64_t count) const {
  std::vector<BlockRun> runs;
  uint64_t end = start + count;
  auto it = speculative_.upper_bound(start);
  if (it != speculative_.begin()) --it;
  for (; it != speculative_.end() && it->first < end; ++it) {
    uint64_t low = std::max(start, it->first);
    uint64_t high = std::min(end, it->first + it->second.count);
    if (low < high) runs.push_back({low, high - low});
  }
  return runs;
}

std::vector<uint64_t> Allocator::SpeculativeOwners() const {
  std::set<uint64_t> owners;
  for (const auto& [start, run] : speculative_) owners.insert(run.owner);
  return std::vector<uint64_t>(owners.begin(), owners.end());
}

uint64_t Allocator::FreeRunLength(uint64_t start, uint64_t limit) const {
  uint64_t length = 0;
  while (start + length < total_blocks_ && length < limit && !IsUsed(start + length)) ++length;
  return length;
}

uint64_t Allocator::FindFree(uint64_t from) const {
  for (uint64_t b = from; b < total_blocks_;) {
    uint64_t word = words_[b / 64];
    if (b % 64 == 0 && word == ~uint64_t{0}) {
      b += 64;
      continue;
    }
    if (!IsUsed(b)) return b;
    ++b;
  }
  return total_blocks_;
}

BlockRun Allocator::AllocateRun(uint64_t count, uint64_t hint) {
  if (count == 0 || free_blocks_ == 0) return {};
  if (hint < data_start_ || hint >= total_blocks_) hint = data_start_;
  // Next fit: the first free block at or after the hint, wrapping once.
  uint64_t start = FindFree(hint);
  if (start == total_blocks_) start = FindFree(data_start_);
  if (start == total_blocks_) return {};
  BlockRun run{start, FreeRunLength(start, count)};
  MarkUsed(run.start, run.count);
  return run;
}

BlockRun Allocator::AllocateAlignedChunk(uint64_t hint) {
  uint64_t first_chunk = (data_start_ + kBlocksPerChunk - 1) / kBlocksPerChunk;
  uint64_t chunk_count = total_blocks_ / kBlocksPerChunk;
  if (first_chunk >= chunk_count || free_blocks_ < kBlocksPerChunk) return {};
  uint64_t hint_chunk = std::max(first_chunk, (hint + kBlocksPerChunk - 1) / kBlocksPerChunk);
  if (hint_chunk >= chunk_count) hint_chunk = first_chunk;
  for (uint64_t n = 0; n < chunk_count - first_chunk; ++n) {
    uint64_t chunk = first_chunk + (hint_chunk - first_chunk + n) % (chunk_count - first_chunk);
    uint64_t start = chunk * kBlocksPerChunk;
    bool all_free = true;
    for (uint64_t w = start / 64; w < (start + kBlocksPerChunk) / 64; ++w) {
      if (words_[w] != 0) {
        all_free = false;
        break;
      }
    }
    if (!all_free) continue;
    MarkUsed(start, kBlocksPerChunk);
    return {start, kBlocksPerChunk};
  }
  return {};
}

std::set<uint64_t> Allocator::TakeDirty() {
  std::set<uint64_t> dirty;
  dirty.swap(dirty_);
  return dirty;
}

}  // namespace mdfs
