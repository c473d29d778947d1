// rename(2) with RENAME_NOREPLACE and RENAME_EXCHANGE, as one transaction.
#include "engine/engine.h"

namespace mdfs {

Status FileSystemImpl::RenameAttempt(InodeNumber parent, std::string_view name, InodeNumber new_parent,
                              std::string_view new_name, uint32_t flags) {
  std::unique_lock lock(mu_);
  MDFS_RETURN_IF_ERROR(CheckWritable());
  if (flags & ~(kRenameNoReplace | kRenameExchange)) return InvalidArgument("unknown rename flags");
  if ((flags & kRenameNoReplace) && (flags & kRenameExchange)) {
    return InvalidArgument("RENAME_NOREPLACE and RENAME_EXCHANGE together");
  }
  MDFS_ASSIGN_OR_RETURN(Inode * from_dir, GetDirectory(parent));
  MDFS_ASSIGN_OR_RETURN(Inode * to_dir, GetDirectory(new_parent));
  for (std::string_view n : {name, new_name}) {
    if (n == "." || n == "..") return InvalidArgument("cannot rename \".\" or \"..\"");
    MDFS_RETURN_IF_ERROR(ValidateName(n));
  }
  auto source = from_dir->directory->Find(name);
  if (!source) return NotFound("no entry " + Quoted(name) + " in directory " + std::to_string(parent));
  auto target = to_dir->directory->Find(new_name);
  bool exchange = flags & kRenameExchange;
  if (exchange && !target) return NotFound("no entry " + Quoted(new_name) + " to exchange with");
  if (target && (flags & kRenameNoReplace)) return Exists(Quoted(new_name));
  const Inode& moving = inodes_[source->ino];
  if (target && target->ino == source->ino) return Status::Ok();  // same file: POSIX no-op
  if (moving.is_directory() && IsAncestor(source->ino, new_parent)) {
    return InvalidArgument("cannot move directory " + Quoted(name) + " into itself");
  }
  if (target && !exchange) {
    const Inode& victim = inodes_[target->ino];
    if (moving.is_directory() && !victim.is_directory()) return NotDirectory(Quoted(new_name));
    if (!moving.is_directory() && victim.is_directory()) return IsDirectory(Quoted(new_name));
    if (victim.is_directory() && !victim.directory->empty()) return NotEmpty(Quoted(new_name));
  }
  if (exchange && inodes_[target->ino].is_directory() && IsAncestor(target->ino, parent)) {
    return InvalidArgument("cannot move directory " + Quoted(new_name) + " into itself");
  }
  // A directory arriving in another parent adds a link to it (its "..").
  if (parent != new_parent) {
    bool target_is_directory = target && inodes_[target->ino].is_directory();
    bool new_parent_gains = moving.is_directory() && !target_is_directory;
    bool old_parent_gains = exchange && target_is_directory && !moving.is_directory();
    if ((new_parent_gains && to_dir->record.nlink >= kMaxLinkCount) ||
        (old_parent_gains && from_dir->record.nlink >= kMaxLinkCount)) {
      return TooManyLinks("the destination directory has too many links");
    }
  }

  Transaction tx(&inodes_);
  Status status;
  int64_t now = NowNs();
  auto reparent = [&](uint64_t ino, uint64_t old_dir, uint64_t new_dir) {
    Inode& inode = tx.Modify(ino);
    inode.record.ctime_ns = now;
    if (!inode.is_directory() || old_dir == new_dir) return;
    inode.record.parent = new_dir;
    tx.Modify(old_dir).record.nlink -= 1;
    tx.Modify(new_dir).record.nlink += 1;
  };
  if (exchange) {
    uint8_t source_type = inodes_[source->ino].type_code();
    uint8_t target_type = inodes_[target->ino].type_code();
    tx.RetargetDirectoryEntry(parent, name, target->ino, target_type);
    tx.RetargetDirectoryEntry(new_parent, new_name, source->ino, source_type);
    inodes_[parent].record.mtime_ns = inodes_[parent].record.ctime_ns = now;
    inodes_[new_parent].record.mtime_ns = inodes_[new_parent].record.ctime_ns = now;
    reparent(source->ino, parent, new_parent);
    reparent(target->ino, new_parent, parent);
    return Finish(tx, status);
  }
  RemoveEntry(tx, parent, name);
  if (target) {
    RemoveEntry(tx, new_parent, new_name);
    if (inodes_[target->ino].is_directory()) tx.Modify(new_parent).record.nlink -= 1;
    status = DropLink(tx, target->ino);
  }
  if (status.ok()) status = AddEntry(tx, new_parent, new_name, source->ino, moving.type_code());
  if (status.ok()) reparent(source->ino, parent, new_parent);
  return Finish(tx, status);
}

}  // namespace mdfs
