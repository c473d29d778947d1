// ModelFs: a simple in-memory file system with Linux semantics, the oracle
// of the randomized tests. Directories are maps, files are SparseFiles.
// Apply() performs an Op and returns the Status code Linux (ext4) would
// return for it, in the order Linux checks its conditions; where Linux and
// POSIX allow two answers the Outcome names both.
//
// Copying a ModelFs is cheap (file blocks are shared), so the crash and
// I/O-error tests keep the state before and after every step.
//
// Thread-safety: a value; not synchronized.
#ifndef MDFS_TESTS_MODEL_MODEL_FS_H_
#define MDFS_TESTS_MODEL_MODEL_FS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mdfs/status.h"
#include "model/op.h"
#include "model/sparse_file.h"

namespace mdfs::test {

using NodeId = uint64_t;

struct ModelNode {
  uint32_t type = 0;  // S_IFREG, S_IFDIR or S_IFLNK
  uint32_t permissions = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 0;                      // directories: 2 + subdirectories
  SparseFile data;                         // S_IFREG
  std::string target;                      // S_IFLNK
  std::map<std::string, NodeId> children;  // S_IFDIR
  NodeId parent = 0;                       // S_IFDIR: the directory holding it (root: itself)
  // Timestamps the model can predict exactly; unset when an operation may
  // have changed them in a way Linux leaves to the file system.
  std::optional<int64_t> atime_ns;
  std::optional<int64_t> mtime_ns;
};

// The code an operation returns. `alternative` is a second acceptable code
// (equal to `code` when only one is right).
struct Outcome {
  Code code = Code::kOk;
  Code alternative = Code::kOk;
  bool Accepts(Code actual) const { return actual == code || actual == alternative; }
  bool ok() const { return code == Code::kOk; }
};

struct ModelEntry {
  std::string path;
  NodeId id = 0;
  uint32_t type = 0;
};

class ModelFs {
 public:
  static constexpr NodeId kRoot = 1;

  ModelFs();

  // Applies `op` at time `now_ns` if it is valid and returns what mdfs must
  // return. kRead: the bytes read go to `read_out`. kReopen: nothing.
  Outcome Apply(const Op& op, int64_t now_ns, std::vector<std::byte>* read_out = nullptr);

  // What LookupPath(path) returns: the node, or kNotFound / kNotDirectory.
  Result<NodeId> Resolve(const std::string& path) const;
  const ModelNode& node(NodeId id) const { return nodes_.at(id); }
  // Every path below the root (not "/" itself), parents before children,
  // in name order.
  std::vector<ModelEntry> Walk() const;
  size_t node_count() const { return nodes_.size(); }

 private:
  Outcome CreateNode(const Op& op, uint32_t type, int64_t now_ns);
  Outcome Link(const Op& op, int64_t now_ns);
  Outcome Unlink(const Op& op, bool directory, int64_t now_ns);
  Outcome Rename(const Op& op, int64_t now_ns);
  Outcome Exchange(NodeId old_parent, const std::string& old_name, NodeId new_parent,
                   const std::string& new_name);
  // An entry of each directory changed at `now_ns`: Linux sets its mtime.
  void TouchDirectories(NodeId first, NodeId second, int64_t now_ns);
  Outcome Write(const Op& op, int64_t now_ns);
  Outcome Read(const Op& op, std::vector<std::byte>* read_out);
  Outcome Truncate(const Op& op);
  Outcome SetAttr(const Op& op);
  Outcome Fallocate(const Op& op);
  Outcome FallocateChecked(ModelNode& file, const Op& op);

  // Resolves the parent of `path` and requires it to be a directory.
  Result<NodeId> ResolveParent(const std::string& path) const;
  // Resolves `path` and requires a regular file (kIsDirectory for a directory).
  Result<NodeId> ResolveFile(const std::string& path) const;
  // The child of `ancestor` on the way down to `descendant`, or 0 when
  // `ancestor` is not a proper ancestor of `descendant`.
  NodeId ChildTowards(NodeId ancestor, NodeId descendant) const;
  // Drops one link of `id` (the caller removed the entry).
  void DropLink(NodeId id);

  NodeId next_id_ = kRoot + 1;
  std::map<NodeId, ModelNode> nodes_;
};

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_MODEL_FS_H_
