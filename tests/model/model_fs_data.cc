// The data half of ModelFs: write, read, truncate, setattr and every
// fallocate mode, with Linux's argument checks (vfs_fallocate, then
// ext4_fallocate / ext4_collapse_range / ext4_insert_range).
#include <sys/stat.h>

#include "model/model_fs.h"

namespace mdfs::test {
namespace {

Outcome Fail(Code code) { return {code, code}; }
Outcome Ok() { return {}; }

constexpr uint32_t kSupportedMask = kFallocateKeepSize | kFallocatePunchHole |
                                    kFallocateCollapseRange | kFallocateZeroRange |
                                    kFallocateInsertRange | kFallocateUnshareRange;

bool Aligned(uint64_t value) { return value % SparseFile::kBlockBytes == 0; }

// vfs_fallocate's checks of the mode and range that come before the file.
// Combining COLLAPSE_RANGE, INSERT_RANGE or UNSHARE_RANGE with another mode
// bit is EINVAL up to Linux 6.12 and EOPNOTSUPP since (the modes became an
// exclusive switch); `alternative` carries the second answer.
Code CheckFallocateArguments(uint32_t mode, uint64_t length, Code* alternative) {
  *alternative = Code::kOk;
  if (length == 0) return Code::kInvalidArgument;
  if (mode & ~kSupportedMask) return Code::kNotSupported;
  const uint32_t punch_zero = kFallocatePunchHole | kFallocateZeroRange;
  if ((mode & punch_zero) == punch_zero) return Code::kNotSupported;
  if ((mode & kFallocatePunchHole) && !(mode & kFallocateKeepSize)) return Code::kNotSupported;
  const bool bad_collapse = (mode & kFallocateCollapseRange) && (mode & ~kFallocateCollapseRange);
  const bool bad_insert = (mode & kFallocateInsertRange) && (mode & ~kFallocateInsertRange);
  const bool bad_unshare =
      (mode & kFallocateUnshareRange) && (mode & ~(kFallocateUnshareRange | kFallocateKeepSize));
  if (bad_collapse || bad_insert || bad_unshare) {
    *alternative = Code::kNotSupported;
    return Code::kInvalidArgument;
  }
  return Code::kOk;
}

}  // namespace

Result<NodeId> ModelFs::ResolveFile(const std::string& path) const {
  auto id = Resolve(path);
  if (!id.ok()) return id;
  const uint32_t type = nodes_.at(*id).type;
  if (type == S_IFDIR) return Status(Code::kIsDirectory, path);
  if (type != S_IFREG) return Status(Code::kInvalidArgument, path);
  return id;
}

Outcome ModelFs::Write(const Op& op, int64_t now_ns) {
  auto id = ResolveFile(op.path);
  if (!id.ok()) return Fail(id.status().code());
  if (op.length != 0) {
    if (op.offset > kMaxFileSize || op.length > kMaxFileSize - op.offset) {
      return Fail(Code::kFileTooLarge);
    }
    ModelNode& file = nodes_.at(*id);
    file.data.Write(op.offset, PatternBytes(op.data_seed, op.offset, op.length));
    file.mtime_ns = now_ns;
  }
  if (op.commit_marker) {
    return CreateNode({.kind = OpKind::kCreate, .path = "/" + CommitMarkerName(op), .mode = 0644},
                      S_IFREG, now_ns);
  }
  return Ok();
}

Outcome ModelFs::Read(const Op& op, std::vector<std::byte>* read_out) {
  auto id = ResolveFile(op.path);
  if (!id.ok()) return Fail(id.status().code());
  ModelNode& file = nodes_.at(*id);
  if (read_out != nullptr) *read_out = file.data.Read(op.offset, op.length);
  file.atime_ns.reset();  // relatime or not: the file system's choice
  return Ok();
}

Outcome ModelFs::Truncate(const Op& op) {
  auto id = ResolveFile(op.path);
  if (!id.ok()) return Fail(id.status().code());
  if (op.offset > kMaxFileSize) return Fail(Code::kFileTooLarge);
  ModelNode& file = nodes_.at(*id);
  file.data.Truncate(op.offset);
  file.mtime_ns.reset();
  return Ok();
}

Outcome ModelFs::SetAttr(const Op& op) {
  auto id = Resolve(op.path);
  if (!id.ok()) return Fail(id.status().code());
  ModelNode& node = nodes_.at(*id);
  const SetAttributesRequest& attr = op.attr;
  if (attr.mask & kSetSize) {
    if (node.type == S_IFDIR) return Fail(Code::kIsDirectory);
    if (node.type != S_IFREG) return Fail(Code::kInvalidArgument);
    if (attr.size > kMaxFileSize) return Fail(Code::kFileTooLarge);
    node.data.Truncate(attr.size);
    node.mtime_ns.reset();
  }
  if (attr.mask & kSetMode) node.permissions = attr.mode & 07777;
  if (attr.mask & kSetUid) node.uid = attr.uid;
  if (attr.mask & kSetGid) node.gid = attr.gid;
  if (attr.mask & kSetAtime) node.atime_ns = attr.atime.ns;
  if (attr.mask & kSetMtime) node.mtime_ns = attr.mtime.ns;
  return Ok();
}

Outcome ModelFs::Fallocate(const Op& op) {
  auto id = Resolve(op.path);
  if (!id.ok()) return Fail(id.status().code());
  Code alternative = Code::kOk;
  const Code argument_check = CheckFallocateArguments(op.flags, op.length, &alternative);
  if (argument_check != Code::kOk) {
    return {argument_check, alternative == Code::kOk ? argument_check : alternative};
  }
  ModelNode& node = nodes_.at(*id);
  if (node.type == S_IFDIR) return Fail(Code::kIsDirectory);
  if (node.type != S_IFREG) return Fail(Code::kNoDevice);
  if (op.offset > kMaxFileSize || op.length > kMaxFileSize - op.offset) {
    return Fail(Code::kFileTooLarge);
  }
  if (op.flags == kFallocateUnshareRange ||
      op.flags == (kFallocateUnshareRange | kFallocateKeepSize)) {
    return Fail(Code::kNotSupported);
  }
  return FallocateChecked(node, op);
}

Outcome ModelFs::FallocateChecked(ModelNode& file, const Op& op) {
  SparseFile& data = file.data;
  const uint64_t end = op.offset + op.length;
  const bool keep_size = op.flags & kFallocateKeepSize;
  if (op.flags == kFallocateCollapseRange) {
    if (!Aligned(op.offset) || !Aligned(op.length)) return Fail(Code::kInvalidArgument);
    if (end >= data.size()) return Fail(Code::kInvalidArgument);
    data.Collapse(op.offset, op.length);
  } else if (op.flags == kFallocateInsertRange) {
    if (!Aligned(op.offset) || !Aligned(op.length)) return Fail(Code::kInvalidArgument);
    if (op.length > kMaxFileSize - data.size()) return Fail(Code::kFileTooLarge);
    if (op.offset >= data.size()) return Fail(Code::kInvalidArgument);
    data.Insert(op.offset, op.length);
  } else if (op.flags & kFallocatePunchHole) {
    data.Zero(op.offset, op.length);
  } else if (op.flags & kFallocateZeroRange) {
    data.Zero(op.offset, op.length);
    if (!keep_size && end > data.size()) data.Truncate(end);
  } else if (!keep_size && end > data.size()) {
    data.Truncate(end);
  }
  file.mtime_ns.reset();
  return Ok();
}

}  // namespace mdfs::test
