// A directory's entries in memory, kept in the same blocks they occupy on
// the device so that adding or removing an entry rewrites exactly one
// directory block.
//
// Thread-safety: none; guarded by the engine's lock.
#ifndef MDFS_SRC_ENGINE_DIRECTORY_H_
#define MDFS_SRC_ENGINE_DIRECTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/format.h"

namespace mdfs {

struct DirectoryBlockState {
  uint64_t device_block = 0;
  std::vector<format::DirectoryRecord> entries;
  size_t used_bytes = 0;
};

class Directory {
 public:
  struct Found {
    uint64_t ino;
    uint8_t type;
  };

  std::optional<Found> Find(std::string_view name) const;
  bool empty() const { return index_.empty(); }
  size_t entry_count() const { return index_.size(); }

  // Adds an entry to the first block with room; returns that block's index,
  // or nullopt when every block is full (AddBlock first).
  std::optional<size_t> Add(std::string_view name, uint64_t ino, uint8_t type);
  // Removes the entry; returns the index of the block it was in.
  // REQUIRES: Find(name).
  size_t Remove(std::string_view name);
  // Changes the target of an existing entry; returns its block index.
  size_t Retarget(std::string_view name, uint64_t ino, uint8_t type);
  // Appends an empty block at `device_block` (file block = index).
  size_t AddBlock(uint64_t device_block);
  // Undo helpers for an aborted transaction: put an entry back into the
  // block it was removed from; drop the (empty) last block.
  void Restore(size_t block_index, format::DirectoryRecord record);
  void RemoveLastBlock();
  // Loads a decoded block (in file-block order).
  void LoadBlock(uint64_t device_block, const format::DirectoryBlock& block);

  const std::vector<DirectoryBlockState>& blocks() const { return blocks_; }
  format::DirectoryBlock BlockContents(size_t index) const;
  template <typename Visit>
  void ForEach(Visit visit) const {
    for (const DirectoryBlockState& block : blocks_)
      for (const format::DirectoryRecord& r : block.entries) visit(r);
  }

 private:
  std::vector<DirectoryBlockState> blocks_;
  std::unordered_map<std::string, size_t> index_;  // name -> block index
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_DIRECTORY_H_
