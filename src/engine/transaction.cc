#include "engine/transaction.h"

#include <algorithm>

namespace mdfs {

Inode& Transaction::Modify(uint64_t ino) {
  Inode& inode = (*inodes_)[ino];
  if (!saved_.count(ino)) saved_.emplace(ino, inode);
  return inode;
}

Directory& Transaction::DirectoryOf(uint64_t dir_ino) {
  Modify(dir_ino);  // its times (and maybe size and map) change too
  return *(*inodes_)[dir_ino].directory;
}

std::optional<size_t> Transaction::AddDirectoryEntry(uint64_t dir_ino, std::string_view name,
                                                     uint64_t ino, uint8_t type) {
  Directory& directory = DirectoryOf(dir_ino);
  std::optional<size_t> block_index = directory.Add(name, ino, type);
  if (!block_index) return std::nullopt;
  directory_edits_.push_back({DirectoryEdit::kAdded, (*inodes_)[dir_ino].directory, *block_index,
                              {ino, type, std::string(name)}});
  MarkDirectoryBlockDirty(dir_ino, *block_index);
  return block_index;
}

void Transaction::RemoveDirectoryEntry(uint64_t dir_ino, std::string_view name) {
  Directory& directory = DirectoryOf(dir_ino);
  Directory::Found old = *directory.Find(name);
  size_t block_index = directory.Remove(name);
  directory_edits_.push_back({DirectoryEdit::kRemoved, (*inodes_)[dir_ino].directory, block_index,
                              {old.ino, old.type, std::string(name)}});
  MarkDirectoryBlockDirty(dir_ino, block_index);
}

void Transaction::RetargetDirectoryEntry(uint64_t dir_ino, std::string_view name, uint64_t ino,
                                         uint8_t type) {
  Directory& directory = DirectoryOf(dir_ino);
  Directory::Found old = *directory.Find(name);
  size_t block_index = directory.Retarget(name, ino, type);
  directory_edits_.push_back({DirectoryEdit::kRetargeted, (*inodes_)[dir_ino].directory,
                              block_index, {old.ino, old.type, std::string(name)}});
  MarkDirectoryBlockDirty(dir_ino, block_index);
}

void Transaction::AddDirectoryBlock(uint64_t dir_ino, uint64_t device_block) {
  Directory& directory = DirectoryOf(dir_ino);
  size_t block_index = directory.AddBlock(device_block);
  directory_edits_.push_back(
      {DirectoryEdit::kBlockAdded, (*inodes_)[dir_ino].directory, block_index, {}});
}

void Transaction::UndoDirectoryEdits() {
  for (auto edit = directory_edits_.rbegin(); edit != directory_edits_.rend(); ++edit) {
    Directory& directory = *edit->directory;
    switch (edit->kind) {
      case DirectoryEdit::kAdded:
        directory.Remove(edit->record.name);
        break;
      case DirectoryEdit::kRemoved:
        directory.Restore(edit->block_index, edit->record);
        break;
      case DirectoryEdit::kRetargeted:
        directory.Retarget(edit->record.name, edit->record.ino, edit->record.type);
        break;
      case DirectoryEdit::kBlockAdded:
        directory.RemoveLastBlock();
        break;
    }
  }
  directory_edits_.clear();
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
