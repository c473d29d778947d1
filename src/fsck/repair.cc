// RepairFileSystem: fsck --repair (doc/fsck.md, section 6).
//
// The repair reads the device with the same passes as the check (through
// the journal overlay, after replaying a transaction that needs it), builds
// a model of what to keep, and writes back only the blocks whose bytes
// change. The model's rules, in order:
//   1. Superblocks: a copy that does not decode (or differs) is rewritten
//      from the one in use.
//   2. Inodes: an undecodable inode-table block or record is cleared; an
//      in-use inode whose extent map is unusable (out of the data region,
//      unsorted, overlapping, past the largest file, a broken chain, a
//      directory or symlink map of the wrong shape) is cleared; an inode
//      claiming a block an earlier inode claims is cleared.
//   3. Directories: undecodable blocks lose their entries; entries with bad
//      names, duplicates, or naming free, cleared, out-of-range inodes or
//      the root are dropped; entry types follow their inodes. A walk from
//      the root keeps the first entry of each directory (no hard links, no
//      cycles) and sets every directory's parent.
//   4. Whatever in-use inode the walk did not reach goes into /lost+found
//      as "#<ino>" (a directory with its subtree); a missing or damaged
//      root is recreated empty first.
//   5. Link counts, directory sizes and written extents past EOF (the size
//      grows to cover them) are fixed; the bitmap is rebuilt from the
//      owners.
//   6. If anything was written, the journal is cleared: its transaction
//      was replayed, and replaying it again would undo the repair.
// Every change is reported as one line. Running it again changes nothing.
#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <set>

#include "fsck/checker.h"
#include "journal/journal.h"

namespace mdfs {
namespace {

using fsck::Context;
using fsck::InodeInfo;
using fsck::InodeState;

constexpr uint8_t kDirType = S_IFDIR >> 12;

struct Dir {
  std::vector<format::DirectoryRecord> entries;  // what it will hold
  std::vector<uint64_t> blocks;                  // its device blocks, in file order
  bool changed = false;
  bool repack = false;  // needs new blocks (lost+found, a recreated root)
};

class Repairer {
 public:
  Repairer(Context& ctx, RepairReport& out) : ctx_(ctx), out_(out) {}
  Status Run();

 private:
  void Change(std::string what) { out_.changes.push_back(std::move(what)); }
  void Clear(uint64_t ino, const std::string& why);
  void ChooseInodes();
  bool UsableMap(uint64_t ino, const InodeInfo& info, std::string* why) const;
  void ClaimBlocks();
  void LoadDirectories();
  // Breadth first from `start` (already reached): keeps the first entry
  // naming each directory, drops later ones (hard links, cycles).
  void WalkFrom(uint64_t start);
  Status AttachOrphans();
  Result<uint64_t> LostAndFound();
  Status EnsureRoot();
  Result<uint64_t> FreeInode();
  Result<uint64_t> AllocateBlocks(uint64_t count);
  void FixCounts();
  Status WriteAll();
  Status WriteIfChanged(uint64_t block_number, const format::Block& block);
  Status WriteSuperblocks();
  Status WriteInodeTable();
  Status WriteDirectories();
  Status WriteBitmap();
  uint64_t Sequence() const { return std::max<uint64_t>(ctx_.report.journal_sequence, 1); }

  Context& ctx_;
  RepairReport& out_;
  std::map<uint64_t, InodeInfo> kept_;  // in-use inodes that stay
  std::set<uint64_t> dirty_inodes_;     // records to re-encode
  std::set<uint64_t> cleared_;          // slots to write free
  std::map<uint64_t, Dir> dirs_;
  std::vector<bool> owned_;  // device blocks owned after the repair
  std::map<uint64_t, uint64_t> parent_;
  std::set<uint64_t> reached_;
  uint64_t lost_found_ = 0;
  uint64_t writes_ = 0;
};

void Repairer::Clear(uint64_t ino, const std::string& why) {
  Change("cleared inode " + std::to_string(ino) + ": " + why);
  kept_.erase(ino);
  dirs_.erase(ino);
  cleared_.insert(ino);
}

bool Repairer::UsableMap(uint64_t ino, const InodeInfo& info, std::string* why) const {
  if (info.extents.size() != info.record.extent_count) {
    *why = "its extent chain is broken";
    return false;
  }
  uint64_t next = 0;
  for (const format::ExtentRecord& e : info.extents) {
    if (e.block_count == 0 || e.file_block < next ||
        !ctx_.InDataRegion(e.device_block, e.block_count)) {
      *why = "extent at file block " + std::to_string(e.file_block) + " is unusable";
      return false;
    }
    if ((e.file_block + e.block_count) * kBlockSize > kMaxFileSize + kBlockSize) {
      *why = "an extent lies past the largest file";
      return false;
    }
    next = e.file_block + e.block_count;
  }
  for (uint64_t block : info.extent_blocks) {
    if (!ctx_.InDataRegion(block, 1)) {
      *why = "an extent chain block lies outside the data region";
      return false;
    }
  }
  if (info.is_directory() || info.type() == S_IFLNK) {
    uint64_t dense = 0;
    for (const format::ExtentRecord& e : info.extents) {
      if (e.unwritten() || e.file_block != dense) {
        *why = "its map is not dense and written";
        return false;
      }
      dense += e.block_count;
    }
    if (info.type() == S_IFLNK && (info.record.size < 1 || info.record.size > kMaxSymlinkLength ||
                                   dense * kBlockSize < info.record.size || dense > 1)) {
      *why = "its target length does not match its block";
      return false;
    }
  }
  if (info.record.size > kMaxFileSize) {
    *why = "its size exceeds the largest file";
    return false;
  }
  (void)ino;
  return true;
}

void Repairer::ChooseInodes() {
  for (uint64_t ino = 1; ino <= ctx_.sb.inode_count; ++ino) {
    if (ctx_.StateOf(ino) == InodeState::kUnreadable) {
      Change("cleared inode " + std::to_string(ino) +
             ": its inode-table block or record is damaged");
      cleared_.insert(ino);
    }
  }
  for (auto& [ino, info] : ctx_.inodes) {
    std::string why;
    if (UsableMap(ino, info, &why)) {
      kept_[ino] = info;
    } else {
      Clear(ino, why);
    }
  }
}

void Repairer::ClaimBlocks() {
  owned_.assign(ctx_.sb.total_blocks, false);
  for (uint64_t b = 0; b < ctx_.sb.data_start; ++b) owned_[b] = true;
  std::vector<uint64_t> doubles;
  for (auto& [ino, info] : kept_) {
    std::vector<uint64_t> blocks(info.extent_blocks);
    for (const format::ExtentRecord& e : info.extents) {
      for (uint64_t i = 0; i < e.block_count; ++i) blocks.push_back(e.device_block + i);
    }
    const bool clash =
        std::any_of(blocks.begin(), blocks.end(), [&](uint64_t b) { return owned_[b]; });
    if (clash) {
      doubles.push_back(ino);
      continue;
    }
    for (uint64_t b : blocks) owned_[b] = true;
  }
  for (uint64_t ino : doubles) Clear(ino, "it claims blocks another inode owns");
}

void Repairer::LoadDirectories() {
  for (auto& [ino, info] : kept_) {
    if (!info.is_directory()) continue;
    Dir& dir = dirs_[ino];
    std::set<std::string> names;
    for (const format::ExtentRecord& e : info.extents) {
      for (uint64_t i = 0; i < e.block_count; ++i) {
        const uint64_t number = e.device_block + i;
        dir.blocks.push_back(number);
        format::Block block;
        Result<format::DirectoryBlock> db = Status::Ok();
        Status read = ctx_.ReadBlock(number, block);
        if (read.ok()) db = format::DecodeDirectoryBlock(block, number);
        if (!read.ok() || !db.ok()) {
          Change("directory " + std::to_string(ino) + " block " + std::to_string(number) +
                 ": unreadable, its entries are dropped (" +
                 (read.ok() ? db.status() : read).message() + ")");
          dir.changed = true;
          continue;
        }
        for (const format::DirectoryRecord& r : db->entries) {
          const std::string where =
              "directory " + std::to_string(ino) + " entry \"" + r.name + "\"";
          if (r.name.empty() || r.name == "." || r.name == ".." ||
              r.name.find_first_of(std::string("/\0", 2)) != std::string::npos ||
              !names.insert(r.name).second) {
            Change(where + ": bad or duplicate name, dropped");
            dir.changed = true;
          } else if (r.ino == kRootInode || kept_.count(r.ino) == 0) {
            Change(where + ": names " +
                   (r.ino == kRootInode ? std::string("the root")
                                        : "no usable inode (" + std::to_string(r.ino) + ")") +
                   ", dropped");
            dir.changed = true;
          } else {
            dir.entries.push_back(r);
          }
        }
      }
    }
  }
}

void Repairer::WalkFrom(uint64_t start) {
  std::deque<uint64_t> queue{start};
  while (!queue.empty()) {
    const uint64_t ino = queue.front();
    queue.pop_front();
    Dir& dir = dirs_[ino];
    std::vector<format::DirectoryRecord> keep;
    for (format::DirectoryRecord r : dir.entries) {
      const std::string where = "directory " + std::to_string(ino) + " entry \"" + r.name + "\"";
      const InodeInfo& target = kept_.at(r.ino);
      const auto type = static_cast<uint8_t>(target.type() >> 12);
      if (r.type != type) {
        Change(where + ": entry type fixed to match inode " + std::to_string(r.ino));
        r.type = type;
        dir.changed = true;
      }
      if (target.is_directory() && reached_.count(r.ino)) {
        Change(where + ": a second link to directory " + std::to_string(r.ino) + ", dropped");
        dir.changed = true;
        continue;
      }
      reached_.insert(r.ino);
      if (target.is_directory()) {
        parent_[r.ino] = ino;
        queue.push_back(r.ino);
      }
      keep.push_back(r);
    }
    dir.entries = std::move(keep);
  }
}

Result<uint64_t> Repairer::FreeInode() {
  for (uint64_t ino = 2; ino <= ctx_.sb.inode_count; ++ino) {
    if (kept_.count(ino) == 0) return ino;
  }
  return NoSpace("no free inode for /lost+found");
}

Result<uint64_t> Repairer::AllocateBlocks(uint64_t count) {
  uint64_t run = 0;
  for (uint64_t b = ctx_.sb.data_start; b < ctx_.sb.total_blocks; ++b) {
    run = owned_[b] ? 0 : run + 1;
    if (run == count) {
      const uint64_t first = b + 1 - count;
      for (uint64_t i = first; i <= b; ++i) owned_[i] = true;
      return first;
    }
  }
  return NoSpace("no run of " + std::to_string(count) + " free blocks for a repaired directory");
}

// A new empty directory inode under `parent` (its blocks come at WriteAll).
static InodeInfo NewDirectory(uint64_t parent, int64_t now) {
  InodeInfo info;
  info.record.mode = S_IFDIR | 0700;
  info.record.nlink = 2;
  info.record.generation = 1;
  info.record.parent = parent;
  info.record.atime_ns = info.record.mtime_ns = info.record.ctime_ns = info.record.btime_ns = now;
  return info;
}

Status Repairer::EnsureRoot() {
  auto root = kept_.find(kRootInode);
  if (root != kept_.end() && root->second.is_directory()) return Status::Ok();
  if (root != kept_.end()) Clear(kRootInode, "the root is not a directory");
  Change("recreated the root directory (inode 1), empty; its contents go to /lost+found");
  kept_[kRootInode] = NewDirectory(kRootInode, 0);
  dirty_inodes_.insert(kRootInode);
  cleared_.erase(kRootInode);
  Dir& dir = dirs_[kRootInode];
  dir.changed = dir.repack = true;
  return Status::Ok();
}

Result<uint64_t> Repairer::LostAndFound() {
  if (lost_found_ != 0) return lost_found_;
  for (const format::DirectoryRecord& r : dirs_[kRootInode].entries) {
    if (r.name == "lost+found" && kept_.at(r.ino).is_directory()) {
      lost_found_ = r.ino;
      dirs_[lost_found_].repack = true;  // it may need more room
      return lost_found_;
    }
  }
  MDFS_ASSIGN_OR_RETURN(lost_found_, FreeInode());
  Change("created /lost+found (inode " + std::to_string(lost_found_) + ")");
  kept_[lost_found_] = NewDirectory(kRootInode, 0);
  cleared_.erase(lost_found_);
  dirty_inodes_.insert(lost_found_);
  dirs_[lost_found_].changed = dirs_[lost_found_].repack = true;
  dirs_[kRootInode].entries.push_back({lost_found_, kDirType, "lost+found"});
  dirs_[kRootInode].changed = true;
  parent_[lost_found_] = kRootInode;
  reached_.insert(lost_found_);
  return lost_found_;
}

Status Repairer::AttachOrphans() {
  std::vector<uint64_t> orphans;
  for (const auto& [ino, info] : kept_) {
    if (reached_.count(ino) == 0) orphans.push_back(ino);
  }
  for (uint64_t ino : orphans) {
    if (reached_.count(ino)) continue;  // reached through an earlier orphan directory
    MDFS_ASSIGN_OR_RETURN(uint64_t lost, LostAndFound());
    const InodeInfo& info = kept_.at(ino);
    const std::string name = "#" + std::to_string(ino);
    Change("inode " + std::to_string(ino) + " (" + fsck::TypeName(info.type()) +
           ") was unreachable: linked as /lost+found/" + name);
    dirs_[lost].entries.push_back({ino, static_cast<uint8_t>(info.type() >> 12), name});
    dirs_[lost].changed = true;
    reached_.insert(ino);
    if (info.is_directory()) {
      parent_[ino] = lost;
      WalkFrom(ino);
    }
  }
  return Status::Ok();
}

void Repairer::FixCounts() {
  std::map<uint64_t, uint32_t> links;
  for (const auto& [ino, dir] : dirs_) {
    for (const format::DirectoryRecord& r : dir.entries) {
      links[r.ino] += 1;
      if (kept_.at(r.ino).is_directory()) links[ino] += 1;  // its ".."
    }
  }
  for (auto& [ino, info] : kept_) {
    format::InodeRecord& r = info.record;
    const uint32_t expected =
        info.is_directory() ? 2 + links[ino] - (ino == kRootInode ? 0 : 1) : links[ino];
    if (r.nlink != expected) {
      Change("inode " + std::to_string(ino) + ": nlink " + std::to_string(r.nlink) + " -> " +
             std::to_string(expected));
      r.nlink = expected;
      dirty_inodes_.insert(ino);
    }
    if (info.is_directory() && r.parent != parent_[ino]) {
      Change("directory " + std::to_string(ino) + ": parent " + std::to_string(r.parent) + " -> " +
             std::to_string(parent_[ino]));
      r.parent = parent_[ino];
      dirty_inodes_.insert(ino);
    }
    if (info.is_directory() && !dirs_[ino].repack) {
      uint64_t blocks = 0;
      for (const format::ExtentRecord& e : info.extents) blocks += e.block_count;
      if (r.size != blocks * kBlockSize) {
        Change("directory " + std::to_string(ino) + ": size " + std::to_string(r.size) + " -> " +
               std::to_string(blocks * kBlockSize));
        r.size = blocks * kBlockSize;
        dirty_inodes_.insert(ino);
      }
    }
    if (info.type() == S_IFREG) {
      uint64_t written_end = 0;
      for (const format::ExtentRecord& e : info.extents) {
        if (!e.unwritten())
          written_end = std::max<uint64_t>(written_end, e.file_block + e.block_count);
      }
      const uint64_t eof_blocks = (r.size + kBlockSize - 1) / kBlockSize;
      if (written_end > 0 && eof_blocks < written_end &&
          (eof_blocks == 0 || written_end > eof_blocks)) {
        // Only an extent wholly past EOF is a problem (fsck's check).
        bool wholly_past = false;
        for (const format::ExtentRecord& e : info.extents) {
          wholly_past |= !e.unwritten() && e.file_block >= eof_blocks;
        }
        if (wholly_past) {
          Change("inode " + std::to_string(ino) + ": size " + std::to_string(r.size) + " -> " +
                 std::to_string(written_end * kBlockSize) + " (written blocks lay past its end)");
          r.size = written_end * kBlockSize;
          dirty_inodes_.insert(ino);
        }
      }
    }
  }
}

Status Repairer::WriteIfChanged(uint64_t block_number, const format::Block& block) {
  format::Block current;
  Status read = format::ReadBlock(ctx_.device, block_number, current);
  if (read.ok() && current == block) return Status::Ok();
  ++writes_;
  return format::WriteBlock(ctx_.device, block_number, block);
}

namespace {

// Packs entries in order into blocks of the directory block capacity.
std::vector<format::DirectoryBlock> Pack(const std::vector<format::DirectoryRecord>& entries) {
  std::vector<format::DirectoryBlock> blocks;
  size_t used = format::kDirectoryBlockCapacity;
  for (const format::DirectoryRecord& r : entries) {
    if (used + r.encoded_size() > format::kDirectoryBlockCapacity) {
      blocks.emplace_back();
      used = 0;
    }
    blocks.back().entries.push_back(r);
    used += r.encoded_size();
  }
  return blocks;
}

}  // namespace

Status Repairer::WriteDirectories() {
  for (auto& [ino, dir] : dirs_) {
    if (!dir.changed) continue;
    std::vector<format::DirectoryBlock> packed = Pack(dir.entries);
    InodeInfo& info = kept_.at(ino);
    if (dir.repack && packed.size() > dir.blocks.size()) {
      for (uint64_t b : dir.blocks) owned_[b] = false;
      for (uint64_t b : info.extent_blocks) owned_[b] = false;
      MDFS_ASSIGN_OR_RETURN(uint64_t first, AllocateBlocks(packed.size()));
      dir.blocks.clear();
      for (uint64_t i = 0; i < packed.size(); ++i) dir.blocks.push_back(first + i);
      format::ExtentRecord extent;
      extent.file_block = 0;
      extent.device_block = first;
      extent.block_count = static_cast<uint32_t>(packed.size());
      info.extents = {extent};
      info.extent_blocks.clear();
      info.record.inline_extents = info.extents;
      info.record.extent_count = 1;
      info.record.extent_block = 0;
      info.record.size = packed.size() * kBlockSize;
      dirty_inodes_.insert(ino);
    }
    if (packed.size() > dir.blocks.size()) {
      return Corruption("directory " + std::to_string(ino) + ": its entries no longer fit");
    }
    for (size_t i = 0; i < dir.blocks.size(); ++i) {
      format::Block block;
      format::EncodeDirectoryBlock(i < packed.size() ? packed[i] : format::DirectoryBlock{},
                                   dir.blocks[i], Sequence(), block);
      MDFS_RETURN_IF_ERROR(WriteIfChanged(dir.blocks[i], block));
    }
  }
  return Status::Ok();
}

Status Repairer::WriteInodeTable() {
  std::set<uint64_t> touched(cleared_);
  touched.insert(dirty_inodes_.begin(), dirty_inodes_.end());
  std::set<uint64_t> table_blocks;
  for (uint64_t ino : touched) table_blocks.insert(format::InodeTableBlockIndex(ino));
  for (uint64_t index : table_blocks) {
    const uint64_t number = ctx_.sb.inode_table_start + index;
    format::Block block{};
    for (uint64_t slot = 0; slot < format::kInodesPerBlock; ++slot) {
      const uint64_t ino = index * format::kInodesPerBlock + slot + 1;
      auto kept = kept_.find(ino);
      const format::InodeRecord record =
          kept != kept_.end() ? kept->second.record : format::InodeRecord{};
      std::span<std::byte, format::kInodeSize> raw(block.data() + format::InodeByteOffset(ino),
                                                   format::kInodeSize);
      format::EncodeInode(record, raw);
    }
    format::SealBlock(block, format::BlockKind::kInodeTable, number, Sequence());
    MDFS_RETURN_IF_ERROR(WriteIfChanged(number, block));
  }
  return Status::Ok();
}

Status Repairer::WriteBitmap() {
  uint64_t fixed = 0;
  for (uint64_t i = 0; i < ctx_.sb.bitmap_blocks; ++i) {
    std::vector<std::byte> bits((kBlockSize - format::kBlockHeaderSize), std::byte{0});
    for (uint64_t bit = 0; bit < format::kBitsPerBitmapBlock; ++bit) {
      const uint64_t b = i * format::kBitsPerBitmapBlock + bit;
      if (b >= ctx_.sb.total_blocks || owned_[b]) {
        bits[bit / 8] |= std::byte{static_cast<uint8_t>(1u << (bit % 8))};
      }
    }
    const uint64_t number = ctx_.sb.bitmap_start + i;
    format::Block current;
    MDFS_RETURN_IF_ERROR(ctx_.ReadBlock(number, current));
    Result<std::vector<std::byte>> now = format::DecodeBitmapBlock(current, number);
    if (now.ok() && *now == bits) continue;
    format::Block block;
    format::EncodeBitmapBlock(bits, number, Sequence(), block);
    MDFS_RETURN_IF_ERROR(WriteIfChanged(number, block));
    ++fixed;
  }
  if (fixed) Change("rebuilt " + std::to_string(fixed) + " bitmap block(s) from the block owners");
  return Status::Ok();
}

Status Repairer::WriteSuperblocks() {
  for (uint64_t slot : {format::kSuperblockPrimary, format::kSuperblockBackup}) {
    format::Block current;
    MDFS_RETURN_IF_ERROR(format::ReadBlock(ctx_.device, slot, current));
    Result<format::Superblock> decoded = format::DecodeSuperblock(current, slot);
    format::Block wanted;
    format::EncodeSuperblock(ctx_.sb, slot, 0, wanted);
    if (decoded.ok()) {
      format::Block again;
      format::EncodeSuperblock(*decoded, slot, 0, again);
      if (again == wanted) continue;
    }
    Change(std::string(slot == format::kSuperblockPrimary ? "primary" : "backup") +
           " superblock (block " + std::to_string(slot) + ") rewritten from the copy in use");
    ++writes_;
    MDFS_RETURN_IF_ERROR(format::WriteBlock(ctx_.device, slot, wanted));
  }
  return Status::Ok();
}

Status Repairer::WriteAll() {
  MDFS_RETURN_IF_ERROR(WriteDirectories());
  MDFS_RETURN_IF_ERROR(WriteInodeTable());
  MDFS_RETURN_IF_ERROR(WriteBitmap());
  MDFS_RETURN_IF_ERROR(WriteSuperblocks());
  if (writes_ > 0 && !ctx_.overlay.empty()) {
    // Replaying the old transaction again would undo the repair.
    Change("cleared the journal (its transaction is applied)");
    MDFS_RETURN_IF_ERROR(format::WriteBlock(ctx_.device, ctx_.sb.journal_start, format::Block{}));
  }
  return ctx_.device->Flush();
}

Status Repairer::Run() {
  ChooseInodes();
  ClaimBlocks();
  LoadDirectories();
  MDFS_RETURN_IF_ERROR(EnsureRoot());
  reached_ = {kRootInode};
  parent_[kRootInode] = kRootInode;
  WalkFrom(kRootInode);
  MDFS_RETURN_IF_ERROR(AttachOrphans());
  FixCounts();
  return WriteAll();
}

// Replays a transaction that needs it; discards one naming impossible blocks.
Status PrepareJournal(Context& ctx, RepairReport& out) {
  Journal journal(ctx.device, ctx.sb.journal_start, ctx.sb.journal_blocks);
  Result<JournalTransaction> tx = journal.Read();
  if (!tx.ok() && tx.status().code() == Code::kCorruption) {
    out.changes.push_back("discarded the journal: " + tx.status().message());
    return format::WriteBlock(ctx.device, ctx.sb.journal_start, format::Block{});
  }
  MDFS_RETURN_IF_ERROR(tx.status());
  if (tx->state != JournalTransaction::State::kValid) return Status::Ok();
  if (ctx.report.journal_state.find("needs replay") == std::string::npos) return Status::Ok();
  out.changes.push_back("replayed journal transaction " + std::to_string(tx->sequence));
  return journal.Replay(*tx);
}

}  // namespace

Result<RepairReport> RepairFileSystem(Device* device) {
  RepairReport out;
  for (int pass = 0; pass < 2; ++pass) {
    Context ctx;
    ctx.device = device;
    MDFS_RETURN_IF_ERROR(fsck::CheckSuperblocks(ctx));
    fsck::CheckJournal(ctx);
    if (pass == 0) {
      MDFS_RETURN_IF_ERROR(PrepareJournal(ctx, out));
      continue;  // read everything again, as the journal left it
    }
    fsck::CheckBitmap(ctx);
    fsck::ScanInodes(ctx);
    Repairer repairer(ctx, out);
    MDFS_RETURN_IF_ERROR(repairer.Run());
  }
  MDFS_ASSIGN_OR_RETURN(out.after, CheckFileSystem(device));
  return out;
}

}  // namespace mdfs
