// CheckPath, CheckTree, CheckBlockMapAfter, ToleranceFor.
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "model/checker_internal.h"

namespace mdfs::test {
namespace {

using internal::CheckNode;
using internal::ExtentOwner;
using testing::AssertionFailure;
using testing::AssertionResult;
using testing::AssertionSuccess;

constexpr uint64_t kBlock = kBlockSize;

// The entries of directory `ino` against the children of model node `id`:
// names, entry types, and Lookup of each name. Fills `entries` by name.
AssertionResult CheckEntries(FileSystem& fs, const ModelFs& model, NodeId id, InodeNumber ino,
                             const std::string& path,
                             std::map<std::string, DirectoryEntry>* entries) {
  auto listed = fs.ReadDirectory(ino);
  if (!listed.ok())
    return AssertionFailure() << path << ": ReadDirectory: " << listed.status().ToString();
  for (DirectoryEntry& entry : *listed) {
    const std::string name = entry.name;
    if (!entries->emplace(name, std::move(entry)).second) {
      return AssertionFailure() << path << ": entry \"" << name << "\" listed twice";
    }
  }
  const auto& children = model.node(id).children;
  for (const auto& [name, child] : children) {
    if (!entries->count(name))
      return AssertionFailure() << path << ": entry \"" << name << "\" is missing";
  }
  for (const auto& [name, entry] : *entries) {
    auto child = children.find(name);
    if (child == children.end())
      return AssertionFailure() << path << ": unexpected entry \"" << name.substr(0, 40) << "\"";
    if (entry.type != model.node(child->second).type) {
      return AssertionFailure() << path << ": entry \"" << name << "\" has type 0" << std::oct
                                << entry.type;
    }
    auto looked_up = fs.Lookup(ino, name);
    if (!looked_up.ok() || looked_up->ino != entry.ino) {
      return AssertionFailure() << path << ": Lookup(\"" << name
                                << "\") disagrees with ReadDirectory";
    }
  }
  return AssertionSuccess();
}

// The state of one CheckTree walk.
struct TreeWalk {
  FileSystem& fs;
  const ModelFs& model;
  const CheckOptions& options;
  std::map<NodeId, InodeNumber> ino_of;
  std::map<InodeNumber, NodeId> node_of;
  std::vector<ExtentOwner> owners;

  // Records that model node `id` is inode `ino`; hard links must agree.
  AssertionResult Bind(NodeId id, InodeNumber ino, const std::string& path, bool* first) {
    auto [by_node, new_node] = ino_of.emplace(id, ino);
    auto [by_ino, new_ino] = node_of.emplace(ino, id);
    if (by_node->second != ino || by_ino->second != id) {
      return AssertionFailure() << path << ": inode " << ino
                                << " does not match the model's hard links";
    }
    *first = new_node;
    return AssertionSuccess();
  }

  AssertionResult Visit(NodeId id, InodeNumber ino, const std::string& path) {
    bool first = false;
    AssertionResult result = Bind(id, ino, path, &first);
    if (!result || !first) return result;
    auto attributes = fs.GetAttributes(ino);
    if (!attributes.ok())
      return AssertionFailure() << path << ": GetAttributes: " << attributes.status().ToString();
    if (attributes->ino != ino)
      return AssertionFailure() << path << ": GetAttributes returned another ino";
    result = CheckNode(fs, model, id, path, *attributes, options, &owners);
    if (!result || model.node(id).type != S_IFDIR) return result;
    std::map<std::string, DirectoryEntry> entries;
    result = CheckEntries(fs, model, id, ino, path, &entries);
    if (!result) return result;
    for (const auto& [name, entry] : entries) {
      const std::string child_path = path == "/" ? "/" + name : path + "/" + name;
      auto by_path = fs.LookupPath(PrefixedPath(options.prefix, child_path));
      if (!by_path.ok() || by_path->ino != entry.ino) {
        return AssertionFailure() << child_path << ": LookupPath disagrees with ReadDirectory";
      }
      result = Visit(model.node(id).children.at(name), entry.ino, child_path);
      if (!result) return result;
    }
    return AssertionSuccess();
  }
};

}  // namespace

std::string PrefixedPath(const std::string& prefix, const std::string& model_path) {
  if (prefix.empty()) return model_path;
  return model_path == "/" ? prefix : prefix + model_path;
}

AssertionResult CheckTree(FileSystem& fs, const ModelFs& model, const CheckOptions& options) {
  InodeNumber root = kRootInode;
  if (!options.prefix.empty()) {
    auto attributes = fs.LookupPath(options.prefix);
    if (!attributes.ok())
      return AssertionFailure() << options.prefix << ": " << attributes.status().ToString();
    root = attributes->ino;
  }
  TreeWalk walk{fs, model, options, {}, {}, {}};
  AssertionResult result = walk.Visit(ModelFs::kRoot, root, "/");
  if (!result) return result;
  return internal::CheckNoSharedBlocks(std::move(walk.owners));
}

AssertionResult CheckPath(FileSystem& fs, const ModelFs& model, const std::string& path,
                          const CheckOptions& options) {
  auto expected = model.Resolve(path);
  auto actual = fs.LookupPath(PrefixedPath(options.prefix, path));
  if (!expected.ok() || !actual.ok()) {
    const Code want = expected.ok() ? Code::kOk : expected.status().code();
    const Code got = actual.ok() ? Code::kOk : actual.status().code();
    if (want == got) return AssertionSuccess();
    return AssertionFailure() << "LookupPath(" << path << "): " << CodeName(got) << ", model "
                              << CodeName(want);
  }
  auto attributes = fs.GetAttributes(actual->ino);
  if (!attributes.ok())
    return AssertionFailure() << path << ": GetAttributes: " << attributes.status().ToString();
  AssertionResult result = CheckNode(fs, model, *expected, path, *attributes, options, nullptr);
  if (!result || model.node(*expected).type != S_IFDIR) return result;
  std::map<std::string, DirectoryEntry> entries;
  return CheckEntries(fs, model, *expected, actual->ino, path, &entries);
}

AssertionResult CheckBlockMapAfter(FileSystem& fs, const ModelFs& before, const Op& op) {
  const bool truncate =
      op.kind == OpKind::kTruncate || (op.kind == OpKind::kSetAttr && (op.attr.mask & kSetSize));
  if (op.kind != OpKind::kFallocate && !truncate) return AssertionSuccess();
  auto attributes = fs.LookupPath(op.path);
  if (!attributes.ok() || (attributes->mode & S_IFMT) != S_IFREG) return AssertionSuccess();
  auto extents = fs.GetExtents(attributes->ino);
  if (!extents.ok()) return AssertionFailure() << "GetExtents: " << extents.status().ToString();
  auto mapped = [&](uint64_t block) {
    return std::any_of(extents->begin(), extents->end(), [&](const ExtentInfo& e) {
      return e.file_offset <= block * kBlock && block * kBlock < e.file_offset + e.length;
    });
  };
  const uint64_t size_blocks = (attributes->size + kBlock - 1) / kBlock;
  const uint64_t first = op.offset / kBlock;
  const uint64_t end = op.offset + op.length;
  if (op.kind == OpKind::kFallocate && op.flags == (kFallocatePunchHole | kFallocateKeepSize)) {
    for (uint64_t b = (op.offset + kBlock - 1) / kBlock; b < end / kBlock && b < size_blocks; ++b) {
      if (mapped(b))
        return AssertionFailure() << op.path << ": block " << b << " still mapped after PUNCH_HOLE";
    }
  } else if (op.kind == OpKind::kFallocate && (op.flags & ~kFallocateKeepSize) == 0) {
    for (uint64_t b = first; b * kBlock < end && b < size_blocks; ++b) {
      if (!mapped(b))
        return AssertionFailure() << op.path << ": block " << b << " unmapped after fallocate";
    }
  } else if (truncate) {
    auto old = before.Resolve(op.path);
    const uint64_t new_size = op.kind == OpKind::kTruncate ? op.offset : op.attr.size;
    if (!old.ok() || new_size >= before.node(*old).data.size()) return AssertionSuccess();
    for (const ExtentInfo& e : *extents) {
      if (e.file_offset + e.length > size_blocks * kBlock) {
        return AssertionFailure() << op.path << ": extent at " << e.file_offset
                                  << " survives truncate to " << new_size;
      }
    }
  }
  return AssertionSuccess();
}

std::optional<ByteTolerance> ToleranceFor(const Op& op, const ModelFs& before,
                                          const ModelFs& after) {
  if (op.kind != OpKind::kWrite || op.length == 0) return std::nullopt;
  ByteTolerance tolerance{op.path, op.offset, op.length, {}, {}};
  auto old = before.Resolve(op.path);
  if (old.ok() && before.node(*old).type == S_IFREG) tolerance.before = before.node(*old).data;
  auto now = after.Resolve(op.path);
  if (now.ok() && after.node(*now).type == S_IFREG) tolerance.after = after.node(*now).data;
  return tolerance;
}

}  // namespace mdfs::test
