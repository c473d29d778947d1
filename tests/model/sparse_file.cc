#include "model/sparse_file.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace mdfs::test {
namespace {

bool AllZero(const std::array<std::byte, SparseFile::kBlockBytes>& block) {
  return std::all_of(block.begin(), block.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

std::vector<std::byte> SparseFile::Read(uint64_t offset, uint64_t length) const {
  if (offset >= size_) return {};
  const uint64_t end = std::min(size_, offset + std::min(length, size_ - offset));
  if (end == offset) return {};
  std::vector<std::byte> out(end - offset, std::byte{0});
  auto it = blocks_.lower_bound(offset / kBlockBytes);
  for (; it != blocks_.end() && it->first * kBlockBytes < end; ++it) {
    const uint64_t block_begin = it->first * kBlockBytes;
    const uint64_t begin = std::max(offset, block_begin);
    const uint64_t stop = std::min(end, block_begin + kBlockBytes);
    std::memcpy(out.data() + (begin - offset), it->second->data() + (begin - block_begin),
                stop - begin);
  }
  return out;
}

std::byte SparseFile::ByteAt(uint64_t offset) const {
  if (offset >= size_) return std::byte{0};
  auto it = blocks_.find(offset / kBlockBytes);
  return it == blocks_.end() ? std::byte{0} : (*it->second)[offset % kBlockBytes];
}

SparseFile::Block& SparseFile::MutableBlock(uint64_t index) {
  auto& slot = blocks_[index];
  auto copy = slot ? std::make_shared<Block>(*slot) : std::make_shared<Block>();
  if (!slot) copy->fill(std::byte{0});
  Block& block = *copy;
  slot = std::move(copy);
  return block;
}

void SparseFile::Write(uint64_t offset, std::span<const std::byte> data) {
  uint64_t done = 0;
  while (done < data.size()) {
    const uint64_t position = offset + done;
    const uint64_t in_block = position % kBlockBytes;
    const uint64_t chunk = std::min<uint64_t>(kBlockBytes - in_block, data.size() - done);
    Block& block = MutableBlock(position / kBlockBytes);
    std::memcpy(block.data() + in_block, data.data() + done, chunk);
    if (AllZero(block)) blocks_.erase(position / kBlockBytes);
    done += chunk;
  }
  size_ = std::max(size_, offset + data.size());
}

void SparseFile::ZeroInBlock(uint64_t index, uint64_t begin, uint64_t end) {
  auto it = blocks_.find(index);
  if (it == blocks_.end() || begin >= end) return;
  if (begin == 0 && end == kBlockBytes) {
    blocks_.erase(it);
    return;
  }
  Block& block = MutableBlock(index);
  std::memset(block.data() + begin, 0, end - begin);
  if (AllZero(block)) blocks_.erase(index);
}

void SparseFile::Zero(uint64_t offset, uint64_t length) {
  const uint64_t end = std::min(offset + length, std::max(size_, offset));
  if (offset >= end) return;
  const uint64_t first = offset / kBlockBytes;
  const uint64_t last = (end - 1) / kBlockBytes;
  auto it = blocks_.lower_bound(first);
  std::vector<uint64_t> touched;
  for (; it != blocks_.end() && it->first <= last; ++it) touched.push_back(it->first);
  for (uint64_t index : touched) {
    const uint64_t block_begin = index * kBlockBytes;
    const uint64_t begin = std::max(offset, block_begin) - block_begin;
    const uint64_t stop = std::min(end, block_begin + kBlockBytes) - block_begin;
    ZeroInBlock(index, begin, stop);
  }
}

void SparseFile::Truncate(uint64_t new_size) {
  if (new_size < size_) Zero(new_size, size_ - new_size);
  size_ = new_size;
}

void SparseFile::Collapse(uint64_t offset, uint64_t length) {
  assert(offset % kBlockBytes == 0 && length % kBlockBytes == 0 && offset + length < size_);
  const uint64_t first = offset / kBlockBytes;
  const uint64_t shift = length / kBlockBytes;
  std::map<uint64_t, std::shared_ptr<const Block>> moved;
  for (auto& [index, block] : blocks_) {
    if (index < first) {
      moved.emplace(index, block);
    } else if (index >= first + shift) {
      moved.emplace(index - shift, block);
    }
  }
  blocks_ = std::move(moved);
  size_ -= length;
}

void SparseFile::Insert(uint64_t offset, uint64_t length) {
  assert(offset % kBlockBytes == 0 && length % kBlockBytes == 0 && offset < size_);
  const uint64_t first = offset / kBlockBytes;
  const uint64_t shift = length / kBlockBytes;
  std::map<uint64_t, std::shared_ptr<const Block>> moved;
  for (auto& [index, block] : blocks_) {
    moved.emplace(index < first ? index : index + shift, block);
  }
  blocks_ = std::move(moved);
  size_ += length;
}

std::vector<uint64_t> SparseFile::NonZeroBlocks() const {
  std::vector<uint64_t> out;
  for (const auto& [index, block] : blocks_) out.push_back(index);
  return out;
}

}  // namespace mdfs::test
