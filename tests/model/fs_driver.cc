#include "model/fs_driver.h"

#include <algorithm>
#include <string>

namespace mdfs::test {
namespace {

Result<InodeNumber> Ino(FileSystem& fs, const std::string& path) {
  auto attributes = fs.LookupPath(path);
  if (!attributes.ok()) return attributes.status();
  return attributes->ino;
}

Status ApplyCreate(FileSystem& fs, const Op& op) {
  auto parent = Ino(fs, ParentPath(op.path));
  if (!parent.ok()) return parent.status();
  const std::string name = BaseName(op.path);
  switch (op.kind) {
    case OpKind::kCreate:
      return fs.Create(*parent, name, op.mode).status();
    case OpKind::kMkdir:
      return fs.Mkdir(*parent, name, op.mode).status();
    default:
      return fs.Symlink(*parent, name, op.target).status();
  }
}

Status ApplyNamespace(FileSystem& fs, const Op& op) {
  if (op.kind == OpKind::kLink) {
    auto source = Ino(fs, op.path);
    if (!source.ok()) return source.status();
    auto parent = Ino(fs, ParentPath(op.path2));
    if (!parent.ok()) return parent.status();
    return fs.Link(*source, *parent, BaseName(op.path2)).status();
  }
  auto parent = Ino(fs, ParentPath(op.path));
  if (!parent.ok()) return parent.status();
  if (op.kind == OpKind::kUnlink) return fs.Unlink(*parent, BaseName(op.path));
  if (op.kind == OpKind::kRmdir) return fs.Rmdir(*parent, BaseName(op.path));
  auto new_parent = Ino(fs, ParentPath(op.path2));
  if (!new_parent.ok()) return new_parent.status();
  return fs.Rename(*parent, BaseName(op.path), *new_parent, BaseName(op.path2), op.flags);
}

Status ApplyWrite(FileSystem& fs, InodeNumber ino, const Op& op) {
  const std::vector<std::byte> data = PatternBytes(op.data_seed, op.offset, op.length);
  auto written = fs.Write(ino, op.offset, data);
  if (!written.ok()) return written.status();
  if (*written != data.size()) {
    return Corruption("write returned " + std::to_string(*written) + " of " +
                      std::to_string(data.size()) + " bytes");
  }
  if (op.commit_marker) return fs.Create(kRootInode, CommitMarkerName(op), 0644).status();
  return op.fsync ? fs.Fsync(ino) : Status::Ok();
}

Status ApplyRead(FileSystem& fs, InodeNumber ino, const Op& op, std::vector<std::byte>* out) {
  std::vector<std::byte> buffer(op.length);
  auto read = fs.Read(ino, op.offset, buffer);
  if (!read.ok()) return read.status();
  if (*read > buffer.size()) return Corruption("read returned more than asked");
  buffer.resize(*read);
  if (out != nullptr) *out = std::move(buffer);
  return Status::Ok();
}

Status ApplyData(FileSystem& fs, const Op& op, std::vector<std::byte>* read_out) {
  auto ino = Ino(fs, op.path);
  if (!ino.ok()) return ino.status();
  switch (op.kind) {
    case OpKind::kWrite:
      return ApplyWrite(fs, *ino, op);
    case OpKind::kRead:
      return ApplyRead(fs, *ino, op, read_out);
    case OpKind::kTruncate:
      return fs.Truncate(*ino, op.offset);
    case OpKind::kSetAttr:
      return fs.SetAttributes(*ino, op.attr).status();
    case OpKind::kFallocate:
      return fs.Fallocate(*ino, op.flags, op.offset, op.length);
    default:
      return fs.Fsync(*ino);
  }
}

}  // namespace

Status ApplyToFileSystem(FileSystem& fs, const Op& op, std::vector<std::byte>* read_out) {
  switch (op.kind) {
    case OpKind::kCreate:
    case OpKind::kMkdir:
    case OpKind::kSymlink:
      return ApplyCreate(fs, op);
    case OpKind::kLink:
    case OpKind::kUnlink:
    case OpKind::kRmdir:
    case OpKind::kRename:
      return ApplyNamespace(fs, op);
    case OpKind::kReopen:
      return InvalidArgument("kReopen is the test's job");
    default:
      return ApplyData(fs, op, read_out);
  }
}

Result<std::vector<std::byte>> ReadWholeFile(FileSystem& fs, InodeNumber ino, uint64_t size) {
  constexpr uint64_t kChunk = 1 << 20;
  std::vector<std::byte> out(size);
  for (uint64_t offset = 0; offset < size; offset += kChunk) {
    const uint64_t want = std::min(kChunk, size - offset);
    auto read = fs.Read(ino, offset, std::span<std::byte>(out.data() + offset, want));
    if (!read.ok()) return read.status();
    if (*read != want) {
      return Corruption("short read at " + std::to_string(offset) + ": " + std::to_string(*read) +
                        " of " + std::to_string(want));
    }
  }
  std::byte past[16];
  auto read = fs.Read(ino, size, past);
  if (!read.ok()) return read.status();
  if (*read != 0) return Corruption("read at EOF returned " + std::to_string(*read) + " bytes");
  return out;
}

}  // namespace mdfs::test
