#include "model/op.h"

#include <sstream>

namespace mdfs::test {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const char* KindName(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kMkdir:
      return "mkdir";
    case OpKind::kSymlink:
      return "symlink";
    case OpKind::kLink:
      return "link";
    case OpKind::kUnlink:
      return "unlink";
    case OpKind::kRmdir:
      return "rmdir";
    case OpKind::kRename:
      return "rename";
    case OpKind::kWrite:
      return "write";
    case OpKind::kRead:
      return "read";
    case OpKind::kTruncate:
      return "truncate";
    case OpKind::kSetAttr:
      return "setattr";
    case OpKind::kFallocate:
      return "fallocate";
    case OpKind::kFsync:
      return "fsync";
    case OpKind::kReopen:
      return "reopen";
  }
  return "?";
}

std::string ShortTarget(const std::string& target) {
  if (target.size() <= 24) return target;
  return target.substr(0, 16) + "...(" + std::to_string(target.size()) + " bytes)";
}

}  // namespace

std::string Op::ToString() const {
  std::ostringstream out;
  out << KindName(kind);
  if (!path.empty()) out << " " << ShortTarget(path);
  if (!path2.empty()) out << " -> " << ShortTarget(path2);
  switch (kind) {
    case OpKind::kCreate:
    case OpKind::kMkdir:
      out << " mode=0" << std::oct << mode << std::dec;
      break;
    case OpKind::kSymlink:
      out << " target=" << ShortTarget(target);
      break;
    case OpKind::kRename:
      out << " flags=" << flags;
      break;
    case OpKind::kWrite:
      out << " off=" << offset << " len=" << length << " seed=" << data_seed
          << (fsync ? " +fsync" : "") << (commit_marker ? " +commit" : "");
      break;
    case OpKind::kRead:
      out << " off=" << offset << " len=" << length;
      break;
    case OpKind::kTruncate:
      out << " size=" << offset;
      break;
    case OpKind::kFallocate:
      out << " mode=0x" << std::hex << flags << std::dec << " off=" << offset << " len=" << length;
      break;
    case OpKind::kSetAttr:
      out << " mask=0x" << std::hex << attr.mask << " mode=0" << std::oct << attr.mode << std::dec
          << " uid=" << attr.uid << " gid=" << attr.gid << " size=" << attr.size
          << " atime=" << attr.atime.ns << " mtime=" << attr.mtime.ns;
      break;
    default:
      break;
  }
  return out.str();
}

bool Op::Mutates() const { return kind != OpKind::kRead && kind != OpKind::kReopen; }

std::string CommitMarkerName(const Op& op) {
  std::ostringstream name;
  name << ".c" << std::hex << op.data_seed;
  return name.str();
}

Op WithPrefix(const Op& op, const std::string& prefix) {
  Op moved = op;
  for (std::string* path : {&moved.path, &moved.path2}) {
    if (path->empty() || prefix.empty()) continue;
    *path = *path == "/" ? prefix : prefix + *path;
  }
  return moved;
}

std::vector<std::byte> PatternBytes(uint64_t data_seed, uint64_t offset, uint64_t length) {
  std::vector<std::byte> out(length);
  uint64_t word = 0;
  for (uint64_t i = 0; i < length; ++i) {
    const uint64_t position = offset + i;
    if (i == 0 || position % 8 == 0) {
      word = SplitMix64(data_seed * 0x100000001B3ull ^ (position / 8));
    }
    out[i] = static_cast<std::byte>(word >> (8 * (position % 8)));
  }
  return out;
}

std::string ParentPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

}  // namespace mdfs::test
