// SparseFile: the model of one regular file's bytes — a size and a map of
// 4 KiB blocks, absent blocks reading as zeros. Blocks are shared between
// copies (copy-on-write), so snapshotting a whole model file system before
// every step of a crash test costs map nodes, not data.
//
// Invariant: every byte at or past size() reads as zero, so growing the size
// (truncate up, a write past EOF, fallocate) exposes zeros, as POSIX requires.
//
// Thread-safety: a value; distinct objects may be used from distinct threads.
#ifndef MDFS_TESTS_MODEL_SPARSE_FILE_H_
#define MDFS_TESTS_MODEL_SPARSE_FILE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace mdfs::test {

class SparseFile {
 public:
  static constexpr uint64_t kBlockBytes = 4096;

  uint64_t size() const { return size_; }
  // The bytes of [offset, offset + length) clipped to size().
  std::vector<std::byte> Read(uint64_t offset, uint64_t length) const;
  // One byte; zero past size().
  std::byte ByteAt(uint64_t offset) const;
  // Writes `data` at `offset`, growing the size to offset + data.size().
  void Write(uint64_t offset, std::span<const std::byte> data);
  // Sets the size; bytes past the new size are forgotten (read as zeros later).
  void Truncate(uint64_t new_size);
  // Zeros [offset, offset + length) (beyond size() they are zero already).
  void Zero(uint64_t offset, uint64_t length);
  // REQUIRES: offset, length multiples of kBlockBytes; offset + length < size().
  void Collapse(uint64_t offset, uint64_t length);
  // REQUIRES: offset, length multiples of kBlockBytes; offset < size().
  void Insert(uint64_t offset, uint64_t length);
  // Indexes of blocks that hold a non-zero byte, ascending.
  std::vector<uint64_t> NonZeroBlocks() const;

 private:
  using Block = std::array<std::byte, kBlockBytes>;
  // A private copy of block `index`, created zeroed when absent.
  Block& MutableBlock(uint64_t index);
  // Zeros bytes [begin, end) of block `index` (drops it when it becomes all zero).
  void ZeroInBlock(uint64_t index, uint64_t begin, uint64_t end);

  uint64_t size_ = 0;
  std::map<uint64_t, std::shared_ptr<const Block>> blocks_;
};

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_SPARSE_FILE_H_
