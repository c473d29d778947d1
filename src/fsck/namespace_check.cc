// Passes 9-11: the namespace as a whole — the root, link counts, directory
// parents, reachability from the root, directory cycles — and the inode
// statistics of the report.
#include <algorithm>
#include <string>
#include <vector>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

std::string InodeWhere(uint64_t ino) { return "inode " + std::to_string(ino); }

// Appended to conclusions drawn from directory entries when some of them or
// some inodes could not be read (already reported).
std::string Caveat(const Context& ctx) {
  if (ctx.entries_incomplete) return " (a directory block could not be read; it may hold more)";
  if (ctx.AnyInodeUnreadable()) return " (some inodes could not be read)";
  return "";
}

void CheckRoot(Context& ctx) {
  const InodeInfo* root = ctx.Find(kRootInode);
  std::string why;
  if (root == nullptr) {
    why = ctx.StateOf(kRootInode) == InodeState::kFree ? "the root inode is free"
                                                       : "the root inode could not be read";
  } else if (!root->is_directory()) {
    why = "the root inode is a " + TypeName(root->type()) + ", not a directory";
  } else if (root->record.parent != kRootInode) {
    why = "the root's parent is " + std::to_string(root->record.parent) + ", not itself";
  }
  if (!why.empty()) ctx.Problem("root-bad", InodeWhere(kRootInode), why);
}

uint32_t SubdirectoryCount(Context& ctx, const InodeInfo& dir) {
  uint32_t count = 0;
  for (uint64_t child : dir.children) {
    const InodeInfo* info = ctx.Find(child);
    if (info != nullptr && info->is_directory()) ++count;
  }
  return count;
}

// A directory other than the root is named by exactly one entry, and its
// parent field names the directory holding that entry.
void CheckDirectoryLinks(Context& ctx, uint64_t ino, const InodeInfo& dir) {
  if (ino == kRootInode) return;  // CheckRoot; an entry naming it is reported
  if (dir.entries > 1) {
    ctx.Problem("directory-hard-link", InodeWhere(ino),
                "the directory is named by " + std::to_string(dir.entries) +
                    " entries; directories cannot have hard links");
  }
  if (dir.entries >= 1 && dir.record.parent != dir.holder) {
    ctx.Problem("directory-parent-wrong", InodeWhere(ino),
                "parent is " + std::to_string(dir.record.parent) + " but directory " +
                    std::to_string(dir.holder) + " holds its entry");
  }
}

bool IsUnlinked(const InodeInfo& info) { return info.record.flags & kInodeFlagUnlinked; }

// An inode unlinked while open (kInodeFlagUnlinked) is a regular file or
// symlink that no entry names, with nlink 0: the next writable open frees
// it. It is counted, not reported.
void CheckUnlinked(Context& ctx, uint64_t ino, const InodeInfo& info) {
  ++ctx.report.unlinked_inodes;
  if (info.is_directory()) {
    ctx.Problem("unlinked-directory", InodeWhere(ino),
                "a directory carries the UNLINKED flag; only files are kept open past their "
                "last name");
  }
  if (info.entries > 0) {
    ctx.Problem("unlinked-inode-named", InodeWhere(ino),
                "the inode is marked UNLINKED but " + std::to_string(info.entries) +
                    " directory entries name it");
  }
}

void CheckLinkCounts(Context& ctx) {
  for (const auto& [ino, info] : ctx.inodes) {
    uint64_t expected = info.entries;
    std::string basis = std::to_string(info.entries) + " entries name it";
    if (IsUnlinked(info)) {
      CheckUnlinked(ctx, ino, info);
      basis = "unlinked while open";
    } else if (info.is_directory()) {
      CheckDirectoryLinks(ctx, ino, info);
      const uint32_t subdirectories = SubdirectoryCount(ctx, info);
      expected = 2 + uint64_t{subdirectories};
      basis = "2 + " + std::to_string(subdirectories) + " subdirectories";
    }
    if (info.record.nlink != expected) {
      ctx.Problem("nlink-wrong", InodeWhere(ino),
                  "nlink is " + std::to_string(info.record.nlink) + ", expected " +
                      std::to_string(expected) + " (" + basis + ")" + Caveat(ctx));
    }
  }
}

// Marks every inode reachable from the root through directory entries.
// Each directory's children are expanded once: bounded by the entries.
std::vector<bool> Reachable(Context& ctx) {
  std::vector<bool> reached(ctx.inode_states.size(), false);
  const InodeInfo* root = ctx.Find(kRootInode);
  if (root == nullptr || !root->is_directory()) return reached;
  std::vector<uint64_t> pending{kRootInode};
  reached[kRootInode] = true;
  while (!pending.empty()) {
    const InodeInfo* dir = ctx.Find(pending.back());
    pending.pop_back();
    for (uint64_t child : dir->children) {
      if (reached[child]) continue;
      reached[child] = true;
      if (ctx.Find(child)->is_directory()) pending.push_back(child);
    }
  }
  return reached;
}

// Directories not reachable from the root may form cycles (a names b, b
// names a). Follows each one's holder — the directory whose entry names it
// — with the usual three colours, so each directory is walked once.
// Returns the directories found on a cycle.
std::vector<bool> FindCycles(Context& ctx, const std::vector<bool>& reached) {
  enum Colour : uint8_t { kUnvisited, kOnPath, kDone };
  std::vector<Colour> colour(ctx.inode_states.size(), kUnvisited);
  std::vector<bool> on_cycle(ctx.inode_states.size(), false);
  for (const auto& [start, info] : ctx.inodes) {
    if (!info.is_directory() || reached[start] || colour[start] != kUnvisited) continue;
    std::vector<uint64_t> path;
    uint64_t ino = start;
    while (ino != 0 && !reached[ino] && colour[ino] == kUnvisited) {
      colour[ino] = kOnPath;
      path.push_back(ino);
      ino = ctx.Find(ino)->holder;  // holders are always in-use directories
    }
    if (ino != 0 && colour[ino] == kOnPath) {
      std::string members;
      auto first = std::find(path.begin(), path.end(), ino);
      for (auto it = first; it != path.end(); ++it) {
        on_cycle[*it] = true;
        members += (members.empty() ? "" : " -> ") + std::to_string(*it);
      }
      ctx.Problem("directory-cycle", "directory " + std::to_string(ino),
                  "directories " + members + " -> " + std::to_string(ino) +
                      " contain one another and are not reachable from the root");
    }
    for (uint64_t walked : path) colour[walked] = kDone;
  }
  return on_cycle;
}

void CheckConnectivity(Context& ctx) {
  const std::vector<bool> reached = Reachable(ctx);
  const std::vector<bool> on_cycle = FindCycles(ctx, reached);
  for (const auto& [ino, info] : ctx.inodes) {
    // The root is the start of the walk; when it is not a directory that
    // is "root-bad".
    if (ino == kRootInode || reached[ino] || on_cycle[ino] || IsUnlinked(info)) continue;
    ctx.Problem("orphan-inode", InodeWhere(ino),
                "an in-use " + TypeName(info.type()) + " (nlink " +
                    std::to_string(info.record.nlink) + ") is not reachable from the root" +
                    Caveat(ctx));
  }
}

void CountInodes(Context& ctx) {
  FsckReport& report = ctx.report;
  report.inodes_in_use = ctx.inodes.size();
  for (const auto& [ino, info] : ctx.inodes) {
    switch (info.type()) {
      case S_IFDIR:
        ++report.directories;
        break;
      case S_IFREG:
        ++report.regular_files;
        break;
      case S_IFLNK:
        ++report.symlinks;
        break;
    }
  }
}

}  // namespace

void CheckNamespace(Context& ctx) {
  CheckRoot(ctx);
  CheckLinkCounts(ctx);
  CheckConnectivity(ctx);
  CountInodes(ctx);
}

}  // namespace mdfs::fsck
