#include "engine/transaction.h"

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

void Transaction::MarkDirectoryBlockDirty(uint64_t ino, size_t block_index) {
  dirty_directory_blocks_.insert({ino, block_index});
}

}  // namespace mdfs
