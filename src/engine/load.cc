// Mount-time load: the journal's last transaction as an overlay (replayed
// first on a writable open), then the bitmap, the inode table, every extent
// chain and directory block — each value the engine will later index with
// range-checked here, against the superblock's geometry.
//
// Damage is contained, not fatal: a block that fails its checks, or a value
// out of range, marks what depends on it damaged (Inode::damage) and is
// listed in damage_. Every access to a damaged inode gets that message as
// kCorruption; everything else lists and reads. Only a read-only open keeps
// a damaged file system (Open refuses a writable one: changing a block map
// over a damaged bitmap or a doubly claimed block would lose data).
#include <algorithm>
#include <map>

#include "engine/engine.h"

namespace mdfs {

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

namespace {

std::string InodeRange(uint64_t index) {
  const uint64_t first = index * format::kInodesPerBlock + 1;
  return "inodes " + std::to_string(first) + "-" +
         std::to_string(first + format::kInodesPerBlock - 1);
}

// "block N (what): problem" — the form every damage message takes.
std::string BlockDamage(uint64_t block, const std::string& what, const Status& status) {
  return "block " + std::to_string(block) + " (" + what + "): " + status.message();
}

}  // namespace

void FileSystemImpl::AddDamage(Inode& inode, std::string message) {
  if (!inode.damage.empty()) return;  // the first cause is the one reported
  damage_.push_back(message);
  inode.damage = std::move(message);
  inode.directory.reset();
  inode.map = ExtentMap();
  inode.extent_blocks.clear();
}

Status FileSystemImpl::LoadBitmap(MetadataReader& reader, uint64_t* max_sequence) {
  for (uint64_t i = 0; i < superblock_.bitmap_blocks; ++i) {
    format::Block block;
    const uint64_t block_number = superblock_.bitmap_start + i;
    MDFS_RETURN_IF_ERROR(reader.Read(block_number, block));
    Result<std::vector<std::byte>> bits = format::DecodeBitmapBlock(block, block_number);
    if (!bits.ok()) {
      // No inode depends on it for reading; a writable open is refused.
      damage_.push_back(BlockDamage(block_number, "free-space bitmap", bits.status()));
      continue;
    }
    allocator_.LoadBitmapBlock(i, *bits);
    *max_sequence = std::max(*max_sequence, format::DecodeHeader(block).sequence);
  }
  allocator_.TakeDirty();
  return Status::Ok();
}

namespace {

// The extent records of `inode`: inline ones, then its chain's. The chain's
// block numbers are range-checked before they are read.
Status ReadExtentRecords(MetadataReader& reader, const format::Superblock& sb, Inode& inode,
                         std::vector<format::ExtentRecord>& records) {
  records = inode.record.inline_extents;
  uint64_t next = inode.record.extent_block;
  // Each chain block holds at least one extent: a longer chain is a cycle.
  const uint64_t limit = inode.record.extent_count;
  while (next != 0) {
    if (inode.extent_blocks.size() >= limit) {
      return Corruption("inode " + std::to_string(inode.ino) + ": extent block chain too long");
    }
    if (next < sb.data_start || next >= sb.total_blocks) {
      return Corruption("inode " + std::to_string(inode.ino) + ": extent chain block " +
                        std::to_string(next) + " outside the data area [" +
                        std::to_string(sb.data_start) + ", " + std::to_string(sb.total_blocks) +
                        ")");
    }
    format::Block block;
    MDFS_RETURN_IF_ERROR(reader.Read(next, block));
    Result<format::ExtentBlock> eb = format::DecodeExtentBlock(block, next);
    if (!eb.ok()) {
      return Corruption(
          BlockDamage(next, "extent chain of inode " + std::to_string(inode.ino), eb.status()));
    }
    inode.extent_blocks.push_back(next);
    records.insert(records.end(), eb->extents.begin(), eb->extents.end());
    next = eb->next_block;
  }
  if (records.size() != inode.record.extent_count) {
    return Corruption("inode " + std::to_string(inode.ino) + ": " + std::to_string(records.size()) +
                      " extents found, " + std::to_string(inode.record.extent_count) + " recorded");
  }
  return Status::Ok();
}

}  // namespace

std::string FileSystemImpl::CheckExtentRanges(const Inode& inode) const {
  const uint64_t first = superblock_.data_start;
  const uint64_t end = superblock_.total_blocks;
  for (const auto& [key, extent] : inode.map.extents()) {
    if (extent.device_block < first || extent.device_block >= end ||
        extent.count > end - extent.device_block) {
      return "inode " + std::to_string(inode.ino) + ": extent at file block " +
             std::to_string(extent.file_block) + " maps device blocks [" +
             std::to_string(extent.device_block) + ", +" + std::to_string(extent.count) +
             "), outside the data area [" + std::to_string(first) + ", " + std::to_string(end) +
             ")";
    }
  }
  return "";
}

namespace {

// Loads a directory's blocks; the error names the block.
Status ReadDirectoryBlocks(MetadataReader& reader, Inode& inode) {
  inode.directory = std::make_shared<Directory>();
  for (const auto& [key, extent] : inode.map.extents()) {
    for (uint64_t i = 0; i < extent.count; ++i) {
      format::Block block;
      const uint64_t device_block = extent.device_block + i;
      MDFS_RETURN_IF_ERROR(reader.Read(device_block, block));
      Result<format::DirectoryBlock> db = format::DecodeDirectoryBlock(block, device_block);
      if (!db.ok()) {
        return Corruption(
            BlockDamage(device_block, "directory inode " + std::to_string(inode.ino), db.status()));
      }
      inode.directory->LoadBlock(device_block, *db);
    }
  }
  return Status::Ok();
}

}  // namespace

Status FileSystemImpl::LoadInodeTableBlock(MetadataReader& reader, uint64_t index,
                                           const format::Block& block) {
  const uint64_t block_number = superblock_.inode_table_start + index;
  for (uint64_t slot = 0; slot < format::kInodesPerBlock; ++slot) {
    const uint64_t ino = index * format::kInodesPerBlock + slot + 1;
    Inode& inode = inodes_[ino];
    inode.ino = ino;
    std::span<const std::byte, format::kInodeSize> bytes(
        block.data() + format::InodeByteOffset(ino), format::kInodeSize);
    Result<format::InodeRecord> record = format::DecodeInode(bytes);
    if (!record.ok()) {
      AddDamage(inode, BlockDamage(block_number, "inode table, inode " + std::to_string(ino),
                                   record.status()));
      continue;
    }
    inode.record = *record;
    if (!inode.in_use()) continue;
    std::vector<format::ExtentRecord> records;
    Status loaded = ReadExtentRecords(reader, superblock_, inode, records);
    if (loaded.ok()) {
      Result<ExtentMap> map = ExtentMap::FromRecords(records);
      if (map.ok()) inode.map = std::move(map).value();
      loaded = map.status().WithContext("inode " + std::to_string(ino));
    }
    if (loaded.ok()) {
      std::string out_of_range = CheckExtentRanges(inode);
      if (!out_of_range.empty()) loaded = Corruption(out_of_range);
    }
    if (loaded.ok() && inode.is_directory()) loaded = ReadDirectoryBlocks(reader, inode);
    // A device error fails the open (nothing is known to be damaged);
    // bad bytes damage this inode only.
    if (!loaded.ok() && loaded.code() != Code::kCorruption) return loaded;
    if (!loaded.ok()) AddDamage(inode, loaded.message());
  }
  return Status::Ok();
}

Status FileSystemImpl::LoadInodeTable(MetadataReader& reader, uint64_t* max_sequence) {
  for (uint64_t i = 0; i < superblock_.inode_table_blocks; ++i) {
    format::Block block;
    const uint64_t block_number = superblock_.inode_table_start + i;
    MDFS_RETURN_IF_ERROR(reader.Read(block_number, block));
    Result<format::BlockHeader> header =
        format::CheckBlock(block, format::BlockKind::kInodeTable, block_number);
    if (!header.ok()) {
      const std::string message =
          BlockDamage(block_number, "inode table, " + InodeRange(i), header.status());
      damage_.push_back(message);
      for (uint64_t slot = 0; slot < format::kInodesPerBlock; ++slot) {
        Inode& inode = inodes_[i * format::kInodesPerBlock + slot + 1];
        inode.ino = i * format::kInodesPerBlock + slot + 1;
        inode.damage = message;
      }
      continue;
    }
    *max_sequence = std::max(*max_sequence, header->sequence);
    MDFS_RETURN_IF_ERROR(LoadInodeTableBlock(reader, i, block));
  }
  return Status::Ok();
}

void FileSystemImpl::CheckReferences() {
  for (Inode& dir : inodes_) {
    if (!dir.damage.empty() || !dir.is_directory() || !dir.directory) continue;
    if (!GetParent(dir).ok()) damage_.push_back(GetParent(dir).status().message());
    dir.directory->ForEach([&](const format::DirectoryRecord& r) {
      // A damaged target is listed already, under its own block.
      if (r.ino < inodes_.size() && !inodes_[r.ino].damage.empty()) return;
      Result<Inode*> target = GetEntryTarget(dir, r.name, r.ino);
      if (!target.ok()) damage_.push_back(target.status().message());
    });
  }
}

// Every mapped block (extents and chain blocks) must be used in the bitmap
// and claimed once; a writable open would otherwise hand it out again.
void FileSystemImpl::CheckBlockClaims() {
  std::vector<bool> claimed(superblock_.total_blocks, false);
  auto claim = [&](const Inode& inode, uint64_t block) {
    if (claimed[block]) {
      damage_.push_back("block " + std::to_string(block) + " is claimed twice (again by inode " +
                        std::to_string(inode.ino) + ")");
    } else if (!allocator_.IsUsed(block)) {
      damage_.push_back("block " + std::to_string(block) + " of inode " +
                        std::to_string(inode.ino) + " is free in the bitmap");
    }
    claimed[block] = true;
  };
  for (const Inode& inode : inodes_) {
    if (!inode.damage.empty() || !inode.in_use()) continue;
    for (uint64_t block : inode.extent_blocks) claim(inode, block);
    for (const auto& [key, extent] : inode.map.extents()) {
      for (uint64_t i = 0; i < extent.count && damage_.size() < 1000; ++i) {
        claim(inode, extent.device_block + i);
      }
    }
  }
}

Status FileSystemImpl::Load() {
  MDFS_ASSIGN_OR_RETURN(JournalTransaction tx, journal_.Read());
  if (tx.state == JournalTransaction::State::kValid) {
    next_sequence_ = tx.sequence + 1;
    if (!read_only_) MDFS_RETURN_IF_ERROR(journal_.Replay(tx));
  }
  MetadataReader reader(device_, tx);
  uint64_t max_sequence = 0;
  MDFS_RETURN_IF_ERROR(LoadBitmap(reader, &max_sequence));
  MDFS_RETURN_IF_ERROR(LoadInodeTable(reader, &max_sequence));
  next_sequence_ = std::max(next_sequence_, max_sequence + 1);
  const Inode& root = inodes_[kRootInode];
  if (root.damage.empty() && !root.is_directory()) {
    return Corruption("inode 1 is not the root directory");
  }
  CheckReferences();
  if (!read_only_ && damage_.empty()) CheckBlockClaims();
  return Status::Ok();
}

Status FileSystemImpl::RefuseWritableIfDamaged() const {
  if (read_only_ || damage_.empty()) return Status::Ok();
  return Corruption(damage_.front() +
                    (damage_.size() > 1 ? " (and " + std::to_string(damage_.size() - 1) +
                                              " more damaged object(s))"
                                        : std::string()) +
                    "; the file system can be opened read-only to copy out what is intact");
}

}  // namespace mdfs
