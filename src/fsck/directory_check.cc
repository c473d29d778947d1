// Pass 8: directory contents. Decodes every directory block of every
// directory and checks each entry on its own; records who names whom in
// InodeInfo so that CheckNamespace can check link counts, parents and
// reachability.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_set>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

// The name quoted for a report, with anything unprintable escaped.
std::string Quoted(const std::string& name) {
  std::string quoted = "\"";
  for (unsigned char c : name) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      quoted += escaped;
    } else {
      quoted += static_cast<char>(c);
    }
  }
  return quoted + "\"";
}

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= kMaxNameLength && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

class DirectoryChecker {
 public:
  explicit DirectoryChecker(Context& ctx) : ctx_(ctx) {}

  void CheckDirectory(uint64_t ino, InodeInfo& dir) {
    names_.clear();
    for (const format::ExtentRecord& extent : dir.extents) {
      if (extent.unwritten() || extent.block_count == 0) continue;  // the extent pass reports it
      // Only the part inside the data region; the rest is reported by the
      // ownership pass and holds nothing to read.
      uint64_t end = extent.device_block + extent.block_count;
      if (end < extent.device_block) end = UINT64_MAX;  // a corrupt extent that wraps
      end = std::min(end, ctx_.sb.total_blocks);
      for (uint64_t block = std::max(extent.device_block, ctx_.sb.data_start); block < end;
           ++block) {
        CheckBlock(ino, dir, extent.file_block + (block - extent.device_block), block);
      }
    }
  }

 private:
  void CheckBlock(uint64_t ino, InodeInfo& dir, uint64_t file_block, uint64_t block_number) {
    // A block shared by two directories is reported by the ownership pass;
    // reading it once keeps the whole pass within total_blocks reads.
    if (!read_.insert(block_number).second) return;
    const std::string where = "directory " + std::to_string(ino) + " block " +
                              std::to_string(file_block) + " (block " +
                              std::to_string(block_number) + ")";
    format::Block block;
    if (Status status = ctx_.ReadBlock(block_number, block); !status.ok()) {
      ctx_.Problem("read-error", where, status.message());
      ctx_.entries_incomplete = true;
      return;
    }
    Result<format::DirectoryBlock> decoded = format::DecodeDirectoryBlock(block, block_number);
    if (!decoded.ok()) {
      ReportBadBlock(ctx_, block, format::BlockKind::kDirectoryBlock, block_number,
                     decoded.status(), "bad-directory-block", where);
      ctx_.entries_incomplete = true;
      return;
    }
    for (const format::DirectoryRecord& entry : decoded->entries) CheckEntry(ino, dir, entry);
  }

  void CheckEntry(uint64_t dir_ino, InodeInfo& dir, const format::DirectoryRecord& entry) {
    const std::string where =
        "directory " + std::to_string(dir_ino) + " entry " + Quoted(entry.name);
    if (!ValidName(entry.name)) {
      ctx_.Problem("bad-entry-name", where, "not a valid file name");
    }
    if (!names_.insert(entry.name).second) {
      ctx_.Problem("duplicate-entry", where, "the name appears more than once in the directory");
    }
    if (entry.ino == 0 || entry.ino > ctx_.sb.inode_count) {
      ctx_.Problem("entry-bad-inode", where,
                   "names inode " + std::to_string(entry.ino) + ", outside 1.." +
                       std::to_string(ctx_.sb.inode_count));
      return;
    }
    if (ctx_.StateOf(entry.ino) == InodeState::kFree) {
      ctx_.Problem("entry-to-free-inode", where,
                   "names inode " + std::to_string(entry.ino) + ", which is free");
      return;
    }
    InodeInfo* target = ctx_.Find(entry.ino);
    if (target == nullptr) return;  // unreadable: its table block or inode is reported
    const uint32_t entry_type = uint32_t{entry.type} << 12;
    if (entry_type != target->type()) {
      ctx_.Problem("entry-type-mismatch", where,
                   "the entry says " + TypeName(entry_type) + " but inode " +
                       std::to_string(entry.ino) + " is a " + TypeName(target->type()));
    }
    if (entry.ino == kRootInode) {
      ctx_.Problem("entry-to-root", where, "no entry may name the root directory");
    }
    ++target->entries;
    if (target->holder == 0) target->holder = dir_ino;
    dir.children.push_back(entry.ino);
  }

  Context& ctx_;
  std::unordered_set<uint64_t> read_;      // directory blocks read so far
  std::unordered_set<std::string> names_;  // names in the current directory
};

}  // namespace

void CheckDirectories(Context& ctx) {
  DirectoryChecker checker(ctx);
  for (auto& [ino, info] : ctx.inodes) {
    if (info.is_directory()) checker.CheckDirectory(ino, info);
  }
}

}  // namespace mdfs::fsck
