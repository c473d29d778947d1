#include "engine/directory.h"

#include <algorithm>
#include <cassert>

namespace mdfs {

std::optional<Directory::Found> Directory::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  for (const format::DirectoryRecord& r : blocks_[it->second].entries) {
    if (r.name == name) return Found{r.ino, r.type};
  }
  assert(false && "directory index out of sync");
  return std::nullopt;
}

std::optional<size_t> Directory::Add(std::string_view name, uint64_t ino, uint8_t type) {
  format::DirectoryRecord record{ino, type, std::string(name)};
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (blocks_[i].used_bytes + record.encoded_size() > format::kDirectoryBlockCapacity) continue;
    blocks_[i].used_bytes += record.encoded_size();
    blocks_[i].entries.push_back(std::move(record));
    index_[std::string(name)] = i;
    return i;
  }
  return std::nullopt;
}

size_t Directory::Remove(std::string_view name) {
  auto it = index_.find(std::string(name));
  assert(it != index_.end());
  size_t block_index = it->second;
  auto& entries = blocks_[block_index].entries;
  auto entry = std::find_if(entries.begin(), entries.end(),
                            [&](const format::DirectoryRecord& r) { return r.name == name; });
  blocks_[block_index].used_bytes -= entry->encoded_size();
  entries.erase(entry);
  index_.erase(it);
  return block_index;
}

size_t Directory::Retarget(std::string_view name, uint64_t ino, uint8_t type) {
  size_t block_index = index_.at(std::string(name));
  for (format::DirectoryRecord& r : blocks_[block_index].entries) {
    if (r.name == name) {
      r.ino = ino;
      r.type = type;
    }
  }
  return block_index;
}

size_t Directory::AddBlock(uint64_t device_block) {
  blocks_.push_back(DirectoryBlockState{device_block, {}, 0});
  return blocks_.size() - 1;
}

void Directory::Restore(size_t block_index, format::DirectoryRecord record) {
  blocks_[block_index].used_bytes += record.encoded_size();
  index_[record.name] = block_index;
  blocks_[block_index].entries.push_back(std::move(record));
}

void Directory::RemoveLastBlock() {
  assert(!blocks_.empty() && blocks_.back().entries.empty());
  blocks_.pop_back();
}

void Directory::LoadBlock(uint64_t device_block, const format::DirectoryBlock& block) {
  size_t index = AddBlock(device_block);
  for (const format::DirectoryRecord& r : block.entries) {
    blocks_[index].used_bytes += r.encoded_size();
    blocks_[index].entries.push_back(r);
    index_[r.name] = index;
  }
}

format::DirectoryBlock Directory::BlockContents(size_t index) const {
  return format::DirectoryBlock{blocks_[index].entries};
}

}  // namespace mdfs
