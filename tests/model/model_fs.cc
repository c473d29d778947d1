// The namespace half of ModelFs: path resolution, create, link, unlink,
// rmdir, rename. The data half is in model_fs_data.cc.
#include "model/model_fs.h"

#include <sys/stat.h>

#include <functional>
#include <tuple>

namespace mdfs::test {
namespace {

Outcome Fail(Code code) { return {code, code}; }
Outcome Fail(Code code, Code alternative) { return {code, alternative}; }
Outcome Ok() { return {}; }

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin < path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string::npos) end = path.size();
    if (end > begin) parts.push_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

}  // namespace

ModelFs::ModelFs() {
  ModelNode root;
  root.type = S_IFDIR;
  root.permissions = 0755;
  root.nlink = 2;
  root.parent = kRoot;
  nodes_.emplace(kRoot, std::move(root));
}

Outcome ModelFs::Apply(const Op& op, int64_t now_ns, std::vector<std::byte>* read_out) {
  switch (op.kind) {
    case OpKind::kCreate:
      return CreateNode(op, S_IFREG, now_ns);
    case OpKind::kMkdir:
      return CreateNode(op, S_IFDIR, now_ns);
    case OpKind::kSymlink:
      return CreateNode(op, S_IFLNK, now_ns);
    case OpKind::kLink:
      return Link(op, now_ns);
    case OpKind::kUnlink:
      return Unlink(op, /*directory=*/false, now_ns);
    case OpKind::kRmdir:
      return Unlink(op, /*directory=*/true, now_ns);
    case OpKind::kRename:
      return Rename(op, now_ns);
    case OpKind::kWrite:
      return Write(op, now_ns);
    case OpKind::kRead:
      return Read(op, read_out);
    case OpKind::kTruncate:
      return Truncate(op);
    case OpKind::kSetAttr:
      return SetAttr(op);
    case OpKind::kFallocate:
      return Fallocate(op);
    case OpKind::kFsync: {
      auto id = Resolve(op.path);
      return id.ok() ? Ok() : Fail(id.status().code());
    }
    case OpKind::kReopen:
      return Ok();
  }
  return Fail(Code::kInvalidArgument);
}

Result<NodeId> ModelFs::Resolve(const std::string& path) const {
  NodeId current = kRoot;
  for (const std::string& part : SplitPath(path)) {
    const ModelNode& dir = nodes_.at(current);
    if (dir.type != S_IFDIR) return Status(Code::kNotDirectory, path);
    if (part.size() > kMaxNameLength) return Status(Code::kNameTooLong, path);
    auto it = dir.children.find(part);
    if (it == dir.children.end()) return Status(Code::kNotFound, path);
    current = it->second;
  }
  return current;
}

Result<NodeId> ModelFs::ResolveParent(const std::string& path) const {
  auto parent = Resolve(ParentPath(path));
  if (!parent.ok()) return parent;
  if (nodes_.at(*parent).type != S_IFDIR) return Status(Code::kNotDirectory, path);
  return parent;
}

std::vector<ModelEntry> ModelFs::Walk() const {
  std::vector<ModelEntry> out;
  std::function<void(NodeId, const std::string&)> visit = [&](NodeId dir, const std::string& path) {
    for (const auto& [name, child] : nodes_.at(dir).children) {
      const std::string child_path = JoinPath(path, name);
      out.push_back({child_path, child, nodes_.at(child).type});
      if (nodes_.at(child).type == S_IFDIR) visit(child, child_path);
    }
  };
  visit(kRoot, "/");
  return out;
}

Outcome ModelFs::CreateNode(const Op& op, uint32_t type, int64_t now_ns) {
  auto parent = ResolveParent(op.path);
  if (!parent.ok()) return Fail(parent.status().code());
  const std::string name = BaseName(op.path);
  if (name.size() > kMaxNameLength) return Fail(Code::kNameTooLong);
  if (type == S_IFLNK && op.target.size() > kMaxSymlinkLength) return Fail(Code::kNameTooLong);
  ModelNode& dir = nodes_.at(*parent);
  if (dir.children.count(name)) return Fail(Code::kExists);
  ModelNode node;
  node.type = type;
  node.permissions = type == S_IFLNK ? 0777 : (op.mode & 07777);
  node.nlink = type == S_IFDIR ? 2 : 1;
  node.parent = *parent;
  node.target = op.target;
  node.atime_ns = now_ns;
  node.mtime_ns = now_ns;
  const NodeId id = next_id_++;
  nodes_.emplace(id, std::move(node));
  dir.children.emplace(name, id);
  if (type == S_IFDIR) ++dir.nlink;
  dir.mtime_ns = now_ns;
  return Ok();
}

void ModelFs::TouchDirectories(NodeId first, NodeId second, int64_t now_ns) {
  nodes_.at(first).mtime_ns = now_ns;
  nodes_.at(second).mtime_ns = now_ns;
}

// Linux checks the new name (its parent, its length, EEXIST) before it
// refuses to link a directory (EPERM).
Outcome ModelFs::Link(const Op& op, int64_t now_ns) {
  auto source = Resolve(op.path);
  if (!source.ok()) return Fail(source.status().code());
  auto parent = ResolveParent(op.path2);
  if (!parent.ok()) return Fail(parent.status().code());
  const std::string name = BaseName(op.path2);
  if (name.size() > kMaxNameLength) return Fail(Code::kNameTooLong);
  ModelNode& dir = nodes_.at(*parent);
  if (dir.children.count(name)) return Fail(Code::kExists);
  ModelNode& node = nodes_.at(*source);
  if (node.type == S_IFDIR) return Fail(Code::kPermissionDenied);
  dir.children.emplace(name, *source);
  ++node.nlink;
  dir.mtime_ns = now_ns;
  return Ok();
}

void ModelFs::DropLink(NodeId id) {
  ModelNode& node = nodes_.at(id);
  if (node.type == S_IFDIR) {
    --nodes_.at(node.parent).nlink;
    nodes_.erase(id);
    return;
  }
  if (--node.nlink == 0) nodes_.erase(id);
}

Outcome ModelFs::Unlink(const Op& op, bool directory, int64_t now_ns) {
  auto parent = ResolveParent(op.path);
  if (!parent.ok()) return Fail(parent.status().code());
  ModelNode& dir = nodes_.at(*parent);
  auto it = dir.children.find(BaseName(op.path));
  if (it == dir.children.end()) return Fail(Code::kNotFound);
  const ModelNode& node = nodes_.at(it->second);
  if (!directory && node.type == S_IFDIR) return Fail(Code::kIsDirectory);
  if (directory && node.type != S_IFDIR) return Fail(Code::kNotDirectory);
  if (directory && !node.children.empty()) return Fail(Code::kNotEmpty);
  const NodeId id = it->second;
  dir.children.erase(it);
  dir.mtime_ns = now_ns;
  DropLink(id);
  return Ok();
}

NodeId ModelFs::ChildTowards(NodeId ancestor, NodeId descendant) const {
  NodeId current = descendant;
  while (current != kRoot) {
    const NodeId up = nodes_.at(current).parent;
    if (up == ancestor) return current;
    current = up;
  }
  return 0;
}

// Linux renameat2 order: flags, both parents, the source, the new name,
// RENAME_NOREPLACE / RENAME_EXCHANGE, the lock_rename() "trap" (a directory
// moved below itself: EINVAL; over its own ancestor: ENOTEMPTY), the same
// inode (a no-op), then the type and emptiness of what is replaced.
Outcome ModelFs::Rename(const Op& op, int64_t now_ns) {
  const uint32_t flags = op.flags;
  if ((flags & ~(kRenameNoReplace | kRenameExchange)) != 0 ||
      flags == (kRenameNoReplace | kRenameExchange)) {
    // Linux checks the flags first; a front end that resolves the parents
    // before it calls mdfs reports a failed lookup first.
    for (const std::string& path : {ParentPath(op.path), ParentPath(op.path2)}) {
      auto resolved = Resolve(path);
      if (!resolved.ok()) return Fail(Code::kInvalidArgument, resolved.status().code());
    }
    return Fail(Code::kInvalidArgument);
  }
  auto old_parent = ResolveParent(op.path);
  if (!old_parent.ok()) return Fail(old_parent.status().code());
  const std::string old_name = BaseName(op.path), new_name = BaseName(op.path2);
  const auto& old_children = nodes_.at(*old_parent).children;
  auto old_it = old_children.find(old_name);
  auto new_parent = ResolveParent(op.path2);
  if (!new_parent.ok()) {
    // Linux walks both parents before it looks the source up; a file system
    // handed the parents' inodes may look the source up first.
    const Code code = new_parent.status().code();
    const bool engine_sees_it = Resolve(ParentPath(op.path2)).ok();
    const bool missing = old_it == old_children.end();
    return Fail(code, engine_sees_it && missing ? Code::kNotFound : code);
  }
  const bool name_too_long = new_name.size() > kMaxNameLength;
  if (old_it == old_children.end()) {
    // Linux looks the source up first; checking the name's length first is
    // as good.
    return Fail(Code::kNotFound, name_too_long ? Code::kNameTooLong : Code::kNotFound);
  }
  if (name_too_long) return Fail(Code::kNameTooLong);
  const auto& new_children = nodes_.at(*new_parent).children;
  auto new_it = new_children.find(new_name);
  const bool exists = new_it != new_children.end();
  if ((flags & kRenameNoReplace) && exists) return Fail(Code::kExists);
  if ((flags & kRenameExchange) && !exists) return Fail(Code::kNotFound);
  const NodeId source = old_it->second, victim = exists ? new_it->second : 0;
  NodeId trap = 0;
  if (*old_parent != *new_parent) {
    trap = ChildTowards(*new_parent, *old_parent);
    if (trap == 0) trap = ChildTowards(*old_parent, *new_parent);
  }
  const bool source_is_dir = nodes_.at(source).type == S_IFDIR;
  if (source == trap) return Fail(Code::kInvalidArgument);
  if (exists && victim == trap) {
    if (flags & kRenameExchange) return Fail(Code::kInvalidArgument);
    return Fail(Code::kNotEmpty, source_is_dir ? Code::kNotEmpty : Code::kIsDirectory);
  }
  if (source == victim) return Ok();
  if (flags & kRenameExchange) {
    TouchDirectories(*old_parent, *new_parent, now_ns);
    return Exchange(*old_parent, old_name, *new_parent, new_name);
  }
  if (exists) {
    const ModelNode& target = nodes_.at(victim);
    const bool target_is_dir = target.type == S_IFDIR;
    if (source_is_dir && !target_is_dir) return Fail(Code::kNotDirectory);
    if (!source_is_dir && target_is_dir) return Fail(Code::kIsDirectory);
    if (target_is_dir && !target.children.empty()) return Fail(Code::kNotEmpty);
    nodes_.at(*new_parent).children.erase(new_name);
    DropLink(victim);
  }
  TouchDirectories(*old_parent, *new_parent, now_ns);
  nodes_.at(*old_parent).children.erase(old_name);
  nodes_.at(*new_parent).children.emplace(new_name, source);
  if (source_is_dir) {
    nodes_.at(source).parent = *new_parent;
    nodes_.at(source).mtime_ns.reset();  // ".." changed: the file system's choice
    --nodes_.at(*old_parent).nlink;
    ++nodes_.at(*new_parent).nlink;
  }
  return Ok();
}

Outcome ModelFs::Exchange(NodeId old_parent, const std::string& old_name, NodeId new_parent,
                          const std::string& new_name) {
  NodeId& first = nodes_.at(old_parent).children.at(old_name);
  NodeId& second = nodes_.at(new_parent).children.at(new_name);
  std::swap(first, second);
  // `first` now names what came from new_parent, and the other way round.
  for (auto [id, from, to] :
       {std::tuple{first, new_parent, old_parent}, std::tuple{second, old_parent, new_parent}}) {
    ModelNode& node = nodes_.at(id);
    if (node.type != S_IFDIR) continue;
    node.parent = to;
    node.mtime_ns.reset();
    --nodes_.at(from).nlink;
    ++nodes_.at(to).nlink;
  }
  return Ok();
}

}  // namespace mdfs::test
