// Format, Open (journal recovery, then loading all metadata), StatFs and
// the small helpers every operation uses.
#include <cassert>
#include <algorithm>
#include <map>

#include "engine/engine.h"
#include "engine/break_gate.h"

namespace mdfs {

Status FileSystem::Format(Device* device, const FormatOptions& options) {
  return format::WriteNewFileSystem(device, options);
}

namespace {

// Reads the primary superblock, falling back to the backup copy.
Result<format::Superblock> ReadSuperblock(Device* device, bool* used_backup) {
  format::Block block;
  MDFS_RETURN_IF_ERROR(format::ReadBlock(device, format::kSuperblockPrimary, block));
  Result<format::Superblock> primary = format::DecodeSuperblock(block, format::kSuperblockPrimary);
  *used_backup = false;
  if (primary.ok() || primary.status().code() == Code::kNotSupported) return primary;
  MDFS_RETURN_IF_ERROR(format::ReadBlock(device, format::kSuperblockBackup, block));
  Result<format::Superblock> backup = format::DecodeSuperblock(block, format::kSuperblockBackup);
  if (!backup.ok()) {
    return Status(primary.status().code(),
                  "not an mdfs file system, or both superblocks are damaged: " +
                      primary.status().message());
  }
  *used_backup = true;
  return backup;
}

}  // namespace

Result<std::unique_ptr<FileSystem>> FileSystem::Open(Device* device, const OpenOptions& options) {
  bool used_backup = false;
  MDFS_ASSIGN_OR_RETURN(format::Superblock superblock, ReadSuperblock(device, &used_backup));
  if (device->size_bytes() < superblock.total_blocks * kBlockSize) {
    return Corruption("the device (" + std::to_string(device->size_bytes()) +
                      " bytes) is smaller than the file system (" +
                      std::to_string(superblock.total_blocks * kBlockSize) + " bytes)");
  }
  auto fs = std::make_unique<FileSystemImpl>(device, superblock, options);
  MDFS_RETURN_IF_ERROR(fs->Load());
  if (used_backup && !options.read_only) {
    // Restore the damaged primary from the backup we mounted with.
    format::Block block;
    format::EncodeSuperblock(superblock, format::kSuperblockPrimary, 0, block);
    MDFS_RETURN_IF_ERROR(format::WriteBlock(device, format::kSuperblockPrimary, block));
    MDFS_RETURN_IF_ERROR(device->Flush());
  }
  return std::unique_ptr<FileSystem>(std::move(fs));
}

FileSystemImpl::FileSystemImpl(Device* device, const format::Superblock& superblock,
                               const OpenOptions& options)
    : device_(device),
      superblock_(superblock),
      options_(options),
      clock_(options.clock ? options.clock : SystemClock()),
      journal_(device, superblock.journal_start, superblock.journal_blocks),
      allocator_(superblock.total_blocks, superblock.data_start),
      inodes_(superblock.inode_count + 1),
      inode_time_dirty_(superblock.inode_count + 1, false) {
  read_only_ = options.read_only ||
               (superblock.features_ro_compat & ~format::kKnownRoCompatFeatures) != 0;
}

namespace {

// Reads metadata blocks as recovery would leave them: journal images win.
class MetadataReader {
 public:
  MetadataReader(Device* device, const JournalTransaction& tx) : device_(device) {
    for (const BlockImage& image : tx.images) overlay_[image.block_number] = &image.data;
  }
  Status Read(uint64_t block_number, format::Block& out) {
    auto it = overlay_.find(block_number);
    if (it != overlay_.end()) {
      out = *it->second;
      return Status::Ok();
    }
    return format::ReadBlock(device_, block_number, out);
  }

 private:
  Device* device_;
  std::map<uint64_t, const format::Block*> overlay_;
};

Status LoadExtents(MetadataReader& reader, Inode& inode) {
  std::vector<format::ExtentRecord> records = inode.record.inline_extents;
  uint64_t next = inode.record.extent_block;
  // Each chain block holds at least one extent: a longer chain is a cycle.
  uint64_t limit = inode.record.extent_count;
  while (next != 0) {
    if (inode.extent_blocks.size() >= limit) {
      return Corruption("inode " + std::to_string(inode.ino) + ": extent block chain too long");
    }
    format::Block block;
    MDFS_RETURN_IF_ERROR(reader.Read(next, block));
    MDFS_ASSIGN_OR_RETURN(format::ExtentBlock eb, format::DecodeExtentBlock(block, next));
    inode.extent_blocks.push_back(next);
    records.insert(records.end(), eb.extents.begin(), eb.extents.end());
    next = eb.next_block;
  }
  if (records.size() != inode.record.extent_count) {
    return Corruption("inode " + std::to_string(inode.ino) + ": " +
                      std::to_string(records.size()) + " extents found, " +
                      std::to_string(inode.record.extent_count) + " recorded");
  }
  MDFS_ASSIGN_OR_RETURN(inode.map, ExtentMap::FromRecords(records));
  return Status::Ok();
}

Status LoadDirectory(MetadataReader& reader, Inode& inode) {
  inode.directory = std::make_shared<Directory>();
  for (const auto& [key, extent] : inode.map.extents()) {
    for (uint64_t i = 0; i < extent.count; ++i) {
      format::Block block;
      uint64_t device_block = extent.device_block + i;
      MDFS_RETURN_IF_ERROR(reader.Read(device_block, block));
      MDFS_ASSIGN_OR_RETURN(format::DirectoryBlock db,
                            format::DecodeDirectoryBlock(block, device_block));
      inode.directory->LoadBlock(device_block, db);
    }
  }
  return Status::Ok();
}

}  // namespace

Status FileSystemImpl::Load() {
  MDFS_ASSIGN_OR_RETURN(JournalTransaction tx, journal_.Read());
  if (tx.state == JournalTransaction::State::kValid) {
    next_sequence_ = tx.sequence + 1;
    if (!read_only_) MDFS_RETURN_IF_ERROR(journal_.Replay(tx));
  }
  MetadataReader reader(device_, tx);
  uint64_t max_sequence = 0;
  for (uint64_t i = 0; i < superblock_.bitmap_blocks; ++i) {
    format::Block block;
    uint64_t block_number = superblock_.bitmap_start + i;
    MDFS_RETURN_IF_ERROR(reader.Read(block_number, block));
    MDFS_ASSIGN_OR_RETURN(std::vector<std::byte> bits,
                          format::DecodeBitmapBlock(block, block_number));
    allocator_.LoadBitmapBlock(i, bits);
    max_sequence = std::max(max_sequence, format::DecodeHeader(block).sequence);
  }
  allocator_.TakeDirty();
  for (uint64_t i = 0; i < superblock_.inode_table_blocks; ++i) {
    format::Block block;
    uint64_t block_number = superblock_.inode_table_start + i;
    MDFS_RETURN_IF_ERROR(reader.Read(block_number, block));
    MDFS_ASSIGN_OR_RETURN(format::BlockHeader header,
                          format::CheckBlock(block, format::BlockKind::kInodeTable, block_number));
    max_sequence = std::max(max_sequence, header.sequence);
    for (uint64_t slot = 0; slot < format::kInodesPerBlock; ++slot) {
      uint64_t ino = i * format::kInodesPerBlock + slot + 1;
      std::span<const std::byte, format::kInodeSize> bytes(
          block.data() + format::InodeByteOffset(ino), format::kInodeSize);
      Result<format::InodeRecord> record = format::DecodeInode(bytes);
      if (!record.ok()) return record.status().WithContext("inode " + std::to_string(ino));
      Inode& inode = inodes_[ino];
      inode.ino = ino;
      inode.record = *record;
      if (!inode.in_use()) continue;
      MDFS_RETURN_IF_ERROR(LoadExtents(reader, inode));
      if (inode.is_directory()) MDFS_RETURN_IF_ERROR(LoadDirectory(reader, inode));
    }
  }
  next_sequence_ = std::max(next_sequence_, max_sequence + 1);
  if (!inodes_[kRootInode].is_directory()) return Corruption("inode 1 is not the root directory");
  return Status::Ok();
}

// ------------------------------------------------------------------ helpers

Status FileSystemImpl::CheckReadable() const {
  if (shutdown_) return Shutdown(shutdown_reason_);
  return Status::Ok();
}

Status FileSystemImpl::CheckWritable() const {
  MDFS_RETURN_IF_ERROR(CheckReadable());
  if (read_only_) return ReadOnly("the file system is open read-only");
  return Status::Ok();
}

Result<Inode*> FileSystemImpl::GetInode(InodeNumber ino) {
  if (ino == 0 || ino >= inodes_.size() || !inodes_[ino].in_use()) {
    return NotFound("no inode " + std::to_string(ino));
  }
  return &inodes_[ino];
}

Result<Inode*> FileSystemImpl::GetDirectory(InodeNumber ino) {
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (!inode->is_directory()) return NotDirectory("inode " + std::to_string(ino));
  return inode;
}

Attributes FileSystemImpl::ToAttributes(const Inode& inode) const {
  const format::InodeRecord& r = inode.record;
  Attributes a;
  a.ino = inode.ino;
  a.mode = r.mode;
  a.uid = r.uid;
  a.gid = r.gid;
  a.size = r.size;
  a.nlink = r.nlink;
  a.generation = r.generation;
  a.allocated_blocks = inode.map.mapped_blocks();
  a.flags = r.flags;
  a.atime.ns = r.atime_ns;
  a.mtime.ns = r.mtime_ns;
  a.ctime.ns = r.ctime_ns;
  a.btime.ns = r.btime_ns;
  return a;
}

Status FileSystemImpl::PrepareBlockMapChange(const Inode& inode, BlockMapChangeKind kind,
                                             uint64_t offset, uint64_t length) {
  if ((inode.record.flags & kInodeFlagSealed) && kind != BlockMapChangeKind::kUnseal) {
    return TextFileBusy("inode " + std::to_string(inode.ino) + " has a sealed block map");
  }
  if (listener_ == nullptr || length == 0) return Status::Ok();
  OperationBreak* operation = OperationBreak::Current();
  assert(operation != nullptr && "block-map change outside RunAsBreaker");
  if (operation == nullptr) {
    return NotSupported("internal error: a block-map change outside RunAsBreaker");
  }
  // Whole blocks change (a partial-block punch remaps its block).
  BlockMapChange change{inode.ino, kind, offset, length};
  uint64_t end = change.end();
  change.offset = offset - offset % kB;
  change.length = end == kToEndOfFile ? kToEndOfFile - change.offset
                                      : std::min(kToEndOfFile, BlocksCeil(end) * kB) - change.offset;
  return operation->Begin(listener_, change);
}

void FileSystemImpl::SetBlockMapListener(BlockMapListener* listener) {
  std::unique_lock lock(mu_);
  listener_ = listener;
}

Result<FileSystemStats> FileSystemImpl::StatFs() {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  FileSystemStats stats;
  stats.total_blocks = superblock_.total_blocks;
  stats.free_blocks = allocator_.free_blocks();
  stats.data_blocks = superblock_.total_blocks - superblock_.data_start;
  stats.total_inodes = superblock_.inode_count;
  stats.free_inodes = static_cast<uint64_t>(
      std::count_if(inodes_.begin() + 1, inodes_.end(), [](const Inode& i) { return !i.in_use(); }));
  stats.uuid = superblock_.uuid;
  stats.persistence_mode = device_->persistence_mode();
  stats.read_only = read_only_;
  stats.journal_sequence = next_sequence_ - 1;
  stats.lease_break_time_ms = options_.lease_break_time_ms.value_or(superblock_.lease_break_time_ms);
  return stats;
}

}  // namespace mdfs
