#include "engine/transaction.h"

#include <algorithm>

namespace mdfs {

Inode& Transaction::Modify(uint64_t ino) {
  Inode& inode = (*inodes_)[ino];
  if (!saved_.count(ino)) saved_.emplace(ino, inode);
  return inode;
}

Directory& Transaction::ModifyDirectory(uint64_t ino) {
  Inode& inode = Modify(ino);
  if (!copied_directories_.count(ino)) {
    inode.directory = std::make_shared<Directory>(*inode.directory);
    copied_directories_.insert(ino);
  }
  return *inode.directory;
}

void Transaction::OverlayDataWrites(uint64_t offset, std::span<std::byte> out) const {
  uint64_t end = offset + out.size();
  for (const DataWrite& write : data_writes_) {
    uint64_t write_end = write.offset + write.bytes.size();
    uint64_t from = std::max(offset, write.offset);
    uint64_t to = std::min(end, write_end);
    if (from >= to) continue;
    std::copy(write.bytes.begin() + (from - write.offset), write.bytes.begin() + (to - write.offset),
              out.begin() + (from - offset));
  }
}

void Transaction::MarkDirectoryBlockDirty(uint64_t ino, size_t block_index) {
  dirty_directory_blocks_.insert({ino, block_index});
}

}  // namespace mdfs
