// Format, Open (superblock, then Load in load.cc), StatFs and the small
// helpers every operation uses.
#include <algorithm>
#include <cassert>

#include "engine/break_gate.h"
#include "engine/engine.h"

namespace mdfs {

Status FileSystem::Format(Device* device, const FormatOptions& options) {
  return format::WriteNewFileSystem(device, options);
}

namespace {

// The superblock in use and what is wrong with each copy.
struct SuperblockCopies {
  format::Superblock in_use;
  Status primary;  // how the primary decoded
  Status backup;   // how the backup decoded (or matched the primary)
};

// Reads both copies: the primary is used when it decodes, else the backup.
Result<SuperblockCopies> ReadSuperblocks(Device* device) {
  SuperblockCopies copies;
  format::Block block;
  MDFS_RETURN_IF_ERROR(format::ReadBlock(device, format::kSuperblockPrimary, block));
  Result<format::Superblock> primary = format::DecodeSuperblock(block, format::kSuperblockPrimary);
  if (primary.status().code() == Code::kNotSupported) return primary.status();
  Status read_backup = format::ReadBlock(device, format::kSuperblockBackup, block);
  Result<format::Superblock> backup =
      read_backup.ok() ? format::DecodeSuperblock(block, format::kSuperblockBackup)
                       : Result<format::Superblock>(read_backup);
  if (!primary.ok() && !backup.ok()) {
    return Status(
        primary.status().code(),
        "not an mdfs file system, or both superblocks are damaged: " + primary.status().message());
  }
  copies.primary = primary.status();
  copies.backup = backup.status();
  copies.in_use = primary.ok() ? *primary : *backup;
  if (primary.ok() && backup.ok()) {
    format::Block a, b;
    format::EncodeSuperblock(*primary, 0, 0, a);
    format::EncodeSuperblock(*backup, 0, 0, b);
    if (a != b) copies.backup = Corruption("it differs from the primary");
  }
  return copies;
}

// Rewrites each damaged copy from the one in use; returns the notice.
Result<std::string> RestoreSuperblocks(Device* device, const SuperblockCopies& copies,
                                       bool read_only) {
  std::string notice;
  for (uint64_t slot : {format::kSuperblockPrimary, format::kSuperblockBackup}) {
    const Status& how = slot == format::kSuperblockPrimary ? copies.primary : copies.backup;
    if (how.ok()) continue;
    if (!notice.empty()) notice += "; ";
    notice += std::string(slot == format::kSuperblockPrimary ? "primary" : "backup") +
              " superblock (block " + std::to_string(slot) + ") damaged (" + how.message() + ")";
    if (slot == format::kSuperblockPrimary) notice += ": opened from the backup";
    if (read_only) {
      notice += "; not restored (read-only)";
      continue;
    }
    format::Block block;
    format::EncodeSuperblock(copies.in_use, slot, 0, block);
    MDFS_RETURN_IF_ERROR(format::WriteBlock(device, slot, block));
    MDFS_RETURN_IF_ERROR(device->Flush());
    notice += "; restored from the " +
              std::string(slot == format::kSuperblockPrimary ? "backup" : "primary");
  }
  return notice;
}

}  // namespace

Result<std::unique_ptr<FileSystem>> FileSystem::Open(Device* device, const OpenOptions& options) {
  MDFS_ASSIGN_OR_RETURN(SuperblockCopies copies, ReadSuperblocks(device));
  const format::Superblock& superblock = copies.in_use;
  if (device->size_bytes() < superblock.total_blocks * kBlockSize) {
    return Corruption("the device (" + std::to_string(device->size_bytes()) +
                      " bytes) is smaller than the file system (" +
                      std::to_string(superblock.total_blocks * kBlockSize) + " bytes)");
  }
  auto fs = std::make_unique<FileSystemImpl>(device, superblock, options);
  MDFS_RETURN_IF_ERROR(fs->Load());
  MDFS_RETURN_IF_ERROR(fs->RefuseWritableIfDamaged());
  MDFS_ASSIGN_OR_RETURN(fs->superblock_notice_,
                        RestoreSuperblocks(device, copies, fs->read_only()));
  if (!fs->read_only()) {
    MDFS_RETURN_IF_ERROR(fs->UpgradeFeatures());
    MDFS_RETURN_IF_ERROR(fs->FreeUnlinkedInodes().status());
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
  read_only_ =
      options.read_only || (superblock.features_ro_compat & ~format::kKnownRoCompatFeatures) != 0;
}

Status FileSystemImpl::UpgradeFeatures() {
  if (superblock_.features_ro_compat & format::kFeatureRoCompatUnlinkedInodes) return Status::Ok();
  superblock_.features_ro_compat |= format::kFeatureRoCompatUnlinkedInodes;
  // Backup first: until the primary is written, an open reads the primary.
  for (uint64_t slot : {format::kSuperblockBackup, format::kSuperblockPrimary}) {
    format::Block block;
    format::EncodeSuperblock(superblock_, slot, 0, block);
    MDFS_RETURN_IF_ERROR(format::WriteBlock(device_, slot, block));
    MDFS_RETURN_IF_ERROR(device_->Flush());
  }
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
  if (ino == 0 || ino >= inodes_.size()) return NotFound("no inode " + std::to_string(ino));
  if (!inodes_[ino].damage.empty()) return Corruption(inodes_[ino].damage);
  if (!inodes_[ino].in_use()) return NotFound("no inode " + std::to_string(ino));
  return &inodes_[ino];
}

Result<Inode*> FileSystemImpl::GetEntryTarget(const Inode& dir, std::string_view name,
                                              uint64_t ino) {
  const std::string entry =
      "directory inode " + std::to_string(dir.ino) + ": entry " + Quoted(name) + " names ";
  if (ino == 0 || ino >= inodes_.size()) {
    return Corruption(entry + "inode " + std::to_string(ino) + ", outside 1.." +
                      std::to_string(inodes_.size() - 1));
  }
  if (!inodes_[ino].damage.empty()) return Corruption(inodes_[ino].damage);
  if (!inodes_[ino].in_use()) return Corruption(entry + "free inode " + std::to_string(ino));
  return &inodes_[ino];
}

Result<Inode*> FileSystemImpl::GetParent(const Inode& dir) {
  const uint64_t parent = dir.record.parent;
  if (parent == 0 || parent >= inodes_.size() || !inodes_[parent].is_directory()) {
    if (parent < inodes_.size() && !inodes_[parent].damage.empty()) {
      return Corruption(inodes_[parent].damage);
    }
    return Corruption("directory inode " + std::to_string(dir.ino) + ": parent " +
                      std::to_string(parent) + " is not a directory");
  }
  return &inodes_[parent];
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
  change.length = end == kToEndOfFile
                      ? kToEndOfFile - change.offset
                      : std::min(kToEndOfFile, BlocksCeil(end) * kB) - change.offset;
  return operation->Begin(listener_, change);
}

void FileSystemImpl::SetBlockMapListener(BlockMapListener* listener) {
  std::unique_lock lock(mu_);
  listener_ = listener;
}

BlockMapListener* FileSystemImpl::block_map_listener() {
  std::unique_lock lock(mu_);
  return listener_;
}

Result<FileSystemStats> FileSystemImpl::StatFs() {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  FileSystemStats stats;
  stats.total_blocks = superblock_.total_blocks;
  stats.free_blocks = allocator_.free_blocks();
  stats.data_blocks = superblock_.total_blocks - superblock_.data_start;
  stats.total_inodes = superblock_.inode_count;
  stats.free_inodes = static_cast<uint64_t>(std::count_if(
      inodes_.begin() + 1, inodes_.end(), [](const Inode& i) { return i.free_slot(); }));
  stats.uuid = superblock_.uuid;
  stats.persistence_mode = device_->persistence_mode();
  stats.read_only = read_only_;
  stats.journal_sequence = next_sequence_ - 1;
  stats.lease_break_time_ms =
      options_.lease_break_time_ms.value_or(superblock_.lease_break_time_ms);
  stats.superblock_notice = superblock_notice_;
  stats.damaged_objects = damage_.size();
  return stats;
}

}  // namespace mdfs
