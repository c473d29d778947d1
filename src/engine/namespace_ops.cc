// Namespace operations: lookup, create, mkdir, symlink, link, unlink,
// rmdir, readdir, readlink, and the helpers they share with rename.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "engine/break_gate.h"
#include "engine/engine.h"

namespace mdfs {

namespace {

bool IsDotOrDotDot(std::string_view name) { return name == "." || name == ".."; }


}  // namespace

Status ValidateName(std::string_view name) {
  if (name.empty()) return InvalidArgument("empty file name");
  if (name.size() > kMaxNameLength) {
    return NameTooLong("name of " + std::to_string(name.size()) + " bytes (at most 255)");
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return InvalidArgument("file name contains '/' or NUL");
  }
  return Status::Ok();
}

Result<Attributes> FileSystemImpl::Lookup(InodeNumber parent, std::string_view name) {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * dir, GetDirectory(parent));
  if (name == ".") return ToAttributes(*dir);
  if (name == "..") {
    MDFS_ASSIGN_OR_RETURN(Inode * up, GetParent(*dir));
    return ToAttributes(*up);
  }
  MDFS_RETURN_IF_ERROR(ValidateName(name));
  auto found = dir->directory->Find(name);
  if (!found) return NotFound("no entry " + Quoted(name) + " in directory " + std::to_string(parent));
  MDFS_ASSIGN_OR_RETURN(Inode * target, GetEntryTarget(*dir, name, found->ino));
  return ToAttributes(*target);
}

Result<Attributes> FileSystemImpl::LookupPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return InvalidArgument("path must be absolute: " + std::string(path));
  InodeNumber current = kRootInode;
  size_t position = 0;
  while (position < path.size()) {
    size_t slash = path.find('/', position);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view component = path.substr(position, slash - position);
    position = slash + 1;
    if (component.empty()) continue;
    Result<Attributes> next = Lookup(current, component);
    if (!next.ok()) return next.status().WithContext(std::string(path));
    current = next->ino;
  }
  return GetAttributes(current);
}

Result<std::vector<DirectoryEntry>> FileSystemImpl::ReadDirectory(InodeNumber ino) {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * dir, GetDirectory(ino));
  std::vector<DirectoryEntry> entries;
  entries.reserve(dir->directory->entry_count());
  dir->directory->ForEach([&](const format::DirectoryRecord& r) {
    entries.push_back(DirectoryEntry{r.name, r.ino, static_cast<uint32_t>(r.type) << 12});
  });
  return entries;
}

Result<std::string> FileSystemImpl::ReadLink(InodeNumber ino) {
  std::shared_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckReadable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  if (!inode->is_symlink()) return InvalidArgument("inode " + std::to_string(ino) + " is not a symlink");
  std::string target(inode->record.size, '\0');
  MDFS_RETURN_IF_ERROR(ReadLocked(*inode, 0, std::as_writable_bytes(std::span(target))));
  return target;
}

// ------------------------------------------------------------ shared helpers

Status FileSystemImpl::CheckNewName(Inode* dir, std::string_view name) {
  if (IsDotOrDotDot(name)) return Exists(Quoted(name));
  MDFS_RETURN_IF_ERROR(ValidateName(name));
  if (dir->directory->Find(name)) {
    return Exists(Quoted(name) + " in directory " + std::to_string(dir->ino));
  }
  return Status::Ok();
}

Result<uint64_t> FileSystemImpl::AllocateInode(Transaction& tx) {
  uint64_t count = inodes_.size() - 1;
  for (uint64_t n = 0; n < count; ++n) {
    uint64_t ino = 1 + (inode_hint_ - 1 + n) % count;
    if (inodes_[ino].in_use()) continue;
    inode_hint_ = ino + 1 > count ? 1 : ino + 1;
    tx.Modify(ino);
    return ino;
  }
  return NoSpace("no free inode (all " + std::to_string(count) + " in use)");
}

Result<Inode*> FileSystemImpl::NewInode(Transaction& tx, uint32_t mode, uint32_t uid, uint32_t gid) {
  MDFS_ASSIGN_OR_RETURN(uint64_t ino, AllocateInode(tx));
  Inode& inode = inodes_[ino];
  uint32_t generation = inode.record.generation + 1;
  int64_t now = NowNs();
  inode = Inode{};
  inode.ino = ino;
  inode.record.mode = mode;
  inode.record.uid = uid;
  inode.record.gid = gid;
  inode.record.nlink = 1;
  inode.record.generation = generation;
  inode.record.atime_ns = inode.record.mtime_ns = inode.record.ctime_ns = inode.record.btime_ns = now;
  return &inode;
}

Status FileSystemImpl::AddEntry(Transaction& tx, uint64_t dir_ino, std::string_view name,
                                uint64_t ino, uint8_t type) {
  if (!tx.AddDirectoryEntry(dir_ino, name, ino, type)) {
    // Every block is full: the directory grows by one block.
    Inode& dir = inodes_[dir_ino];
    uint64_t hint = dir.map.empty() ? 0 : std::prev(dir.map.extents().end())->second.device_block + 1;
    BlockRun run = allocator_.AllocateRun(1, hint);
    if (run.count == 0) return NoSpace("no free block to grow directory " + std::to_string(dir_ino));
    tx.RecordAllocation(run);
    uint64_t file_block = dir.directory->blocks().size();
    tx.AddDirectoryBlock(dir_ino, run.start);
    dir.map.Insert(MappedExtent{file_block, run.start, 1, false});
    dir.record.size = (file_block + 1) * kBlockSize;
    tx.MarkExtentsChanged(dir_ino);
    tx.AddDirectoryEntry(dir_ino, name, ino, type);
  }
  Inode& dir = inodes_[dir_ino];
  dir.record.mtime_ns = dir.record.ctime_ns = NowNs();
  return Status::Ok();
}

void FileSystemImpl::RemoveEntry(Transaction& tx, uint64_t dir_ino, std::string_view name) {
  tx.RemoveDirectoryEntry(dir_ino, name);
  Inode& dir = inodes_[dir_ino];
  dir.record.mtime_ns = dir.record.ctime_ns = NowNs();
}

Status FileSystemImpl::FreeInode(Transaction& tx, uint64_t ino) {
  Inode& inode = tx.Modify(ino);
  MDFS_RETURN_IF_ERROR(
      PrepareBlockMapChange(inode, BlockMapChangeKind::kFreeInode, 0, UINT64_MAX));
  for (const auto& [key, extent] : inode.map.extents()) tx.Free(extent.device_block, extent.count);
  for (uint64_t block : inode.extent_blocks) tx.Free(block, 1);
  uint32_t generation = inode.record.generation;
  inode = Inode{};
  inode.ino = ino;
  inode.record.generation = generation;
  return Status::Ok();
}

Status FileSystemImpl::DropLink(Transaction& tx, uint64_t ino) {
  Inode& inode = tx.Modify(ino);
  uint32_t remaining_links = inode.is_directory() ? 0 : inode.record.nlink - 1;
  if (remaining_links == 0 && !inode.is_directory() && OpenReferences(ino) > 0) {
    return MarkUnlinked(tx, ino);  // freed by the last close (open_files.cc)
  }
  if (remaining_links == 0) return FreeInode(tx, ino);
  inode.record.nlink = remaining_links;
  inode.record.ctime_ns = NowNs();
  return Status::Ok();
}

bool FileSystemImpl::IsAncestor(uint64_t ancestor, uint64_t ino) const {
  // Walk up from `ino` through parent links; the tree is acyclic, so the
  // walk ends at the root within inode_count steps.
  for (uint64_t current = ino, steps = 0; steps < inodes_.size(); ++steps) {
    if (current == ancestor) return true;
    if (current == kRootInode) return false;
    current = inodes_[current].record.parent;
  }
  return false;
}

// ------------------------------------------------------------- create family

Result<Attributes> FileSystemImpl::MakeNode(InodeNumber parent, std::string_view name,
                                            uint32_t mode, uint32_t uid, uint32_t gid,
                                            std::string_view symlink_target) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * dir, GetDirectory(parent));
  MDFS_RETURN_IF_ERROR(CheckNewName(dir, name));
  bool is_directory = S_ISDIR(mode);
  if (is_directory && dir->record.nlink >= kMaxLinkCount) {
    return TooManyLinks("directory " + std::to_string(parent) + " has too many links");
  }
  Transaction tx(&inodes_);
  Result<Inode*> created = NewInode(tx, mode, uid, gid);
  if (!created.ok()) return Finish(tx, created.status());
  Inode& inode = **created;
  uint64_t ino = inode.ino;
  Status status;
  if (is_directory) {
    inode.record.nlink = 2;
    inode.record.parent = parent;
    inode.directory = std::make_shared<Directory>();
    Inode& parent_inode = tx.Modify(parent);
    parent_inode.record.nlink += 1;
  } else if (S_ISLNK(mode)) {
    status = WritePieces(tx, inode, 0, std::as_bytes(std::span(symlink_target)));
    inode.record.size = symlink_target.size();
  }
  if (status.ok()) status = AddEntry(tx, parent, name, ino, inodes_[ino].type_code());
  MDFS_RETURN_IF_ERROR(Finish(tx, status));
  return ToAttributes(inodes_[ino]);
}

Result<Attributes> FileSystemImpl::Create(InodeNumber parent, std::string_view name, uint32_t mode,
                                          uint32_t uid, uint32_t gid) {
  return MakeNode(parent, name, S_IFREG | (mode & 07777), uid, gid, {});
}

Result<Attributes> FileSystemImpl::Mkdir(InodeNumber parent, std::string_view name, uint32_t mode,
                                         uint32_t uid, uint32_t gid) {
  return MakeNode(parent, name, S_IFDIR | (mode & 07777), uid, gid, {});
}

Result<Attributes> FileSystemImpl::Symlink(InodeNumber parent, std::string_view name,
                                           std::string_view target, uint32_t uid, uint32_t gid) {
  if (target.empty()) return NotFound("empty symlink target");
  if (target.size() > kMaxSymlinkLength) {
    return NameTooLong("symlink target of " + std::to_string(target.size()) + " bytes (at most 4095)");
  }
  // The target is file data: its block passes the gate (a new inode has no
  // layouts, so it never waits).
  return RunAsBreaker([&] { return MakeNode(parent, name, S_IFLNK | 0777, uid, gid, target); });
}

Result<Attributes> FileSystemImpl::Link(InodeNumber ino, InodeNumber new_parent,
                                        std::string_view new_name) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * inode, GetInode(ino));
  // Linux's order: the new name is looked up (EEXIST) before the source is
  // judged (EPERM for a directory, EMLINK).
  MDFS_ASSIGN_OR_RETURN(Inode * dir, GetDirectory(new_parent));
  MDFS_RETURN_IF_ERROR(CheckNewName(dir, new_name));
  if (inode->is_directory()) return PermissionDenied("hard link to a directory");
  if (inode->record.flags & kInodeFlagUnlinked) {
    return NotFound("inode " + std::to_string(ino) + " was unlinked (its last name is gone)");
  }
  if (inode->record.nlink >= kMaxLinkCount) {
    return TooManyLinks("inode " + std::to_string(ino) + " has too many links");
  }
  Transaction tx(&inodes_);
  Inode& target = tx.Modify(ino);
  target.record.nlink += 1;
  target.record.ctime_ns = NowNs();
  MDFS_RETURN_IF_ERROR(Finish(tx, AddEntry(tx, new_parent, new_name, ino, target.type_code())));
  return ToAttributes(inodes_[ino]);
}

Status FileSystemImpl::UnlinkAttempt(InodeNumber parent, std::string_view name) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * dir, GetDirectory(parent));
  if (IsDotOrDotDot(name)) return IsDirectory(Quoted(name));
  MDFS_RETURN_IF_ERROR(ValidateName(name));
  auto found = dir->directory->Find(name);
  if (!found) return NotFound("no entry " + Quoted(name) + " in directory " + std::to_string(parent));
  if (inodes_[found->ino].is_directory()) return IsDirectory(Quoted(name) + " is a directory");
  Transaction tx(&inodes_);
  RemoveEntry(tx, parent, name);
  return Finish(tx, DropLink(tx, found->ino));
}

Status FileSystemImpl::RmdirAttempt(InodeNumber parent, std::string_view name) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  MDFS_ASSIGN_OR_RETURN(Inode * dir, GetDirectory(parent));
  if (name == ".") return InvalidArgument("cannot remove \".\"");
  if (name == "..") return NotEmpty("cannot remove \"..\"");
  MDFS_RETURN_IF_ERROR(ValidateName(name));
  auto found = dir->directory->Find(name);
  if (!found) return NotFound("no entry " + Quoted(name) + " in directory " + std::to_string(parent));
  Inode& victim = inodes_[found->ino];
  if (!victim.is_directory()) return NotDirectory(Quoted(name) + " is not a directory");
  if (!victim.directory->empty()) return NotEmpty(Quoted(name));
  Transaction tx(&inodes_);
  RemoveEntry(tx, parent, name);
  tx.Modify(parent).record.nlink -= 1;
  return Finish(tx, FreeInode(tx, found->ino));
}

}  // namespace mdfs
