// Committing a Transaction: encode every metadata block it dirtied into a
// journal image, commit the images atomically, and apply deferred frees.
#include <cassert>
#include <map>
#include <set>

#include "engine/engine.h"

namespace mdfs {

Status FileSystemImpl::WriteExtentChain(Inode& inode, Transaction& tx) {
  uint64_t count = inode.map.extent_count();
  uint64_t needed =
      count <= format::kInlineExtents ? 0 : (count + format::kExtentsPerBlock - 1) / format::kExtentsPerBlock;
  while (inode.extent_blocks.size() > needed) {
    tx.Free(inode.extent_blocks.back(), 1);
    inode.extent_blocks.pop_back();
  }
  while (inode.extent_blocks.size() < needed) {
    uint64_t hint = inode.extent_blocks.empty() ? 0 : inode.extent_blocks.back() + 1;
    BlockRun run = allocator_.AllocateRun(1, hint);
    if (run.count == 0) {
      return NoSpace("no free block for the extent map of inode " + std::to_string(inode.ino));
    }
    tx.RecordAllocation(run);
    inode.extent_blocks.push_back(run.start);
  }
  return Status::Ok();
}

void FileSystemImpl::EncodeInodeBlock(uint64_t table_index, uint64_t sequence,
                                      format::Block& out) const {
  out.fill(std::byte{0});
  for (uint64_t slot = 0; slot < format::kInodesPerBlock; ++slot) {
    uint64_t ino = table_index * format::kInodesPerBlock + slot + 1;
    if (ino >= inodes_.size()) break;
    const Inode& inode = inodes_[ino];
    format::InodeRecord record = inode.record;
    record.extent_count = inode.map.extent_count();
    record.inline_extents.clear();
    record.extent_block = 0;
    if (!inode.in_use()) {
      record.extent_count = 0;
    } else if (record.extent_count <= format::kInlineExtents) {
      record.inline_extents = inode.map.ToRecords();
    } else {
      // WriteExtentChain ran for every inode whose map changed in this transaction.
      assert(!inode.extent_blocks.empty());
      record.extent_block = inode.extent_blocks.front();
    }
    format::EncodeInode(record, std::span<std::byte, format::kInodeSize>(
                                    out.data() + format::InodeByteOffset(ino), format::kInodeSize));
  }
  format::SealBlock(out, format::BlockKind::kInodeTable, superblock_.inode_table_start + table_index,
                    sequence);
}

namespace {

void EncodeExtentChain(const Inode& inode, uint64_t sequence,
                       std::map<uint64_t, format::Block>& images) {
  std::vector<format::ExtentRecord> records = inode.map.ToRecords();
  for (size_t i = 0; i < inode.extent_blocks.size(); ++i) {
    format::ExtentBlock eb;
    size_t first = i * format::kExtentsPerBlock;
    size_t last = std::min(records.size(), first + format::kExtentsPerBlock);
    eb.extents.assign(records.begin() + first, records.begin() + last);
    eb.next_block = i + 1 < inode.extent_blocks.size() ? inode.extent_blocks[i + 1] : 0;
    format::EncodeExtentBlock(eb, inode.extent_blocks[i], sequence,
                              images[inode.extent_blocks[i]]);
  }
}

}  // namespace

// Sizes every changed extent chain and checks the journal can hold the
// transaction. On failure the transaction is aborted; nothing was written.
Status FileSystemImpl::PrepareCommit(Transaction& tx) {
  for (uint64_t ino : tx.extents_changed()) {
    Inode& inode = tx.Modify(ino);
    if (!inode.in_use()) continue;
    MDFS_RETURN_IF_ERROR(WriteExtentChain(inode, tx));
  }
  uint64_t images = CountImages(tx);
  if (images > journal_.max_images()) {
    return NoSpace("the operation changes " + std::to_string(images) +
                   " metadata blocks; the journal holds at most " +
                   std::to_string(journal_.max_images()));
  }
  return Status::Ok();
}

// An upper bound of the images Commit will write (freed blocks are not
// subtracted): inode table blocks, extent chains, directory blocks, and
// the bitmap blocks of every allocation and free.
uint64_t FileSystemImpl::CountImages(const Transaction& tx) const {
  std::set<uint64_t> blocks;
  for (const auto& [ino, saved] : tx.saved()) {
    blocks.insert(superblock_.inode_table_start + format::InodeTableBlockIndex(ino));
    if (tx.extents_changed().count(ino)) {
      blocks.insert(inodes_[ino].extent_blocks.begin(), inodes_[ino].extent_blocks.end());
    }
  }
  std::set<uint64_t> bitmap(allocator_.dirty().begin(), allocator_.dirty().end());
  for (const BlockRun& run : tx.pending_frees()) {
    for (uint64_t b = run.start; b < run.start + run.count; b += format::kBitsPerBitmapBlock) {
      bitmap.insert(b / format::kBitsPerBitmapBlock);
    }
    bitmap.insert((run.start + run.count - 1) / format::kBitsPerBitmapBlock);
  }
  return blocks.size() + tx.dirty_directory_blocks().size() + bitmap.size();
}

Status FileSystemImpl::Commit(Transaction& tx) {
  if (tx.empty()) return Status::Ok();
  Status prepared = PrepareCommit(tx);
  if (!prepared.ok()) {
    Abort(tx);
    return prepared;
  }
  // Data first (ordered mode): the journal's first flush makes it durable
  // before the metadata that exposes it. An I/O error here aborts; bytes
  // overwritten in place before the error stay (doc/durability.md).
  for (const Transaction::DataWrite& write : tx.data_writes()) {
    Status status = device_->Write(write.offset, write.bytes);
    if (!status.ok()) {
      Abort(tx);
      return status;
    }
  }
  uint64_t sequence = next_sequence_;
  std::map<uint64_t, format::Block> images;
  std::set<uint64_t> table_blocks;  // 15 inodes share one: encode each block once
  for (const auto& [ino, saved] : tx.saved()) {
    const Inode& inode = inodes_[ino];
    table_blocks.insert(format::InodeTableBlockIndex(ino));
    if (inode.in_use() && tx.extents_changed().count(ino)) EncodeExtentChain(inode, sequence, images);
  }
  for (uint64_t table_index : table_blocks) {
    EncodeInodeBlock(table_index, sequence, images[superblock_.inode_table_start + table_index]);
  }
  for (const auto& [ino, block_index] : tx.dirty_directory_blocks()) {
    const Inode& inode = inodes_[ino];
    if (!inode.in_use() || block_index >= inode.directory->blocks().size()) continue;
    uint64_t block_number = inode.directory->blocks()[block_index].device_block;
    format::EncodeDirectoryBlock(inode.directory->BlockContents(block_index), block_number,
                                 sequence, images[block_number]);
  }
  for (const BlockRun& run : tx.pending_frees()) {
    allocator_.MarkFree(run.start, run.count);
    // A block freed here must not be replayed over its next owner (journal J4).
    for (uint64_t b = run.start; b < run.start + run.count; ++b) images.erase(b);
  }
  for (uint64_t index : allocator_.TakeDirty()) {
    uint64_t block_number = superblock_.bitmap_start + index;
    format::EncodeBitmapBlock(allocator_.BitmapBlockBytes(index), block_number, sequence,
                              images[block_number]);
  }
  std::vector<BlockImage> list;
  list.reserve(images.size());
  for (auto& [block_number, data] : images) list.push_back(BlockImage{block_number, data});
  Status status = journal_.Commit(sequence, list);
  if (!status.ok()) {
    // The device state is now either the old or the new one; only a
    // remount (recovery) can tell which. Refuse everything until then.
    shutdown_ = true;
    shutdown_reason_ = "shut down after a failed metadata commit (" + status.ToString() +
                       "); reopen the file system to recover";
    return status;
  }
  ++next_sequence_;
  for (const auto& [ino, saved] : tx.saved()) inode_time_dirty_[ino] = false;
  return Status::Ok();
}

void FileSystemImpl::Abort(Transaction& tx) {
  tx.UndoDirectoryEdits();  // before the inodes: the edits hold their directories
  for (auto& [ino, saved] : tx.mutable_saved()) inodes_[ino] = std::move(saved);
  for (const BlockRun& run : tx.allocated()) allocator_.MarkFree(run.start, run.count);
}

Status FileSystemImpl::Finish(Transaction& tx, Status status) {
  if (!status.ok()) {
    Abort(tx);
    return status;
  }
  return Commit(tx);
}

}  // namespace mdfs
