// One atomic metadata change, built in memory and committed through the
// journal (engine/commit.cc).
//
// Lifecycle:
//   Begin (constructor) -> Modify/Allocate/Free ... -> Engine::Commit  (durable, applied)
//                                                   -> Engine::Abort   (in-memory state restored)
// Before an inode is first changed, Modify() saves a copy of it; Abort puts
// the copies back and returns the blocks the transaction allocated. Blocks
// the transaction frees stay in use until it commits, so nothing it frees
// can be handed out (and written) before the free is durable.
//
// Data the operation writes (file contents, zeroed tails, copied blocks) is
// queued with AddDataWrite and issued by Commit only after every step that
// can still fail for a reason other than I/O (extent-chain allocation,
// journal capacity), so a refused operation never changes a byte.
//
// Thread-safety: none; lives under the engine's exclusive lock.
#ifndef MDFS_SRC_ENGINE_TRANSACTION_H_
#define MDFS_SRC_ENGINE_TRANSACTION_H_

#include <cstdint>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <span>
#include <set>
#include <utility>
#include <vector>

#include "engine/allocator.h"
#include "engine/inode.h"

namespace mdfs {

class Transaction {
 public:
  explicit Transaction(std::vector<Inode>* inodes) : inodes_(inodes) {}

  // The inode, saved for rollback on first use and marked for encoding.
  Inode& Modify(uint64_t ino);
  // Directory edits: each marks its block dirty and is logged so Abort can
  // undo it, in reverse order, without ever copying a directory.
  // AddDirectoryEntry returns nullopt when every block is full.
  std::optional<size_t> AddDirectoryEntry(uint64_t dir_ino, std::string_view name, uint64_t ino,
                                          uint8_t type);
  void RemoveDirectoryEntry(uint64_t dir_ino, std::string_view name);
  void RetargetDirectoryEntry(uint64_t dir_ino, std::string_view name, uint64_t ino, uint8_t type);
  void AddDirectoryBlock(uint64_t dir_ino, uint64_t device_block);
  // Reverts every logged directory edit (Abort calls it first).
  void UndoDirectoryEdits();
  // The extent map changed: re-encode its chain at commit.
  void MarkExtentsChanged(uint64_t ino) { extents_changed_.insert(ino); }

  void RecordAllocation(BlockRun run) { allocated_.push_back(run); }
  void Free(uint64_t start, uint64_t count) { pending_frees_.push_back({start, count}); }

  // Queues `bytes` for device offset `offset` (issued in order by Commit).
  void AddDataWrite(uint64_t offset, std::vector<std::byte> bytes) {
    data_writes_.push_back({offset, std::move(bytes)});
  }
  // Applies the queued writes that overlap [offset, offset + out.size()) to
  // `out`, which holds the device's bytes there: what the device will hold.
  void OverlayDataWrites(uint64_t offset, std::span<std::byte> out) const;

  bool empty() const {
    return saved_.empty() && allocated_.empty() && pending_frees_.empty() && data_writes_.empty();
  }

  const std::map<uint64_t, Inode>& saved() const { return saved_; }
  const std::set<std::pair<uint64_t, size_t>>& dirty_directory_blocks() const {
    return dirty_directory_blocks_;
  }
  const std::set<uint64_t>& extents_changed() const { return extents_changed_; }
  const std::vector<BlockRun>& allocated() const { return allocated_; }
  const std::vector<BlockRun>& pending_frees() const { return pending_frees_; }
  std::map<uint64_t, Inode>& mutable_saved() { return saved_; }
  struct DataWrite {
    uint64_t offset;
    std::vector<std::byte> bytes;
  };
  const std::vector<DataWrite>& data_writes() const { return data_writes_; }

 private:
  struct DirectoryEdit {
    enum Kind { kAdded, kRemoved, kRetargeted, kBlockAdded } kind;
    std::shared_ptr<Directory> directory;  // kept alive even if the inode is freed
    size_t block_index;
    format::DirectoryRecord record;  // kRemoved / kRetargeted: the entry as it was
  };
  Directory& DirectoryOf(uint64_t dir_ino);
  void MarkDirectoryBlockDirty(uint64_t ino, size_t block_index);

  std::vector<Inode>* inodes_;
  std::map<uint64_t, Inode> saved_;  // ino -> the inode as it was before this transaction
  std::vector<DirectoryEdit> directory_edits_;
  std::set<std::pair<uint64_t, size_t>> dirty_directory_blocks_;
  std::set<uint64_t> extents_changed_;
  std::vector<BlockRun> allocated_;
  std::vector<BlockRun> pending_frees_;
  std::vector<DataWrite> data_writes_;
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_TRANSACTION_H_
