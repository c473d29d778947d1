#include "model/workload.h"

#include <sys/stat.h>

#include <algorithm>

namespace mdfs::test {
namespace {

constexpr uint64_t kBlock = SparseFile::kBlockBytes;
constexpr int kKinds = static_cast<int>(OpKind::kReopen) + 1;
const char* const kNames[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
// Modes for create and mkdir: Linux's mkdir drops set-user-ID and
// set-group-ID from its mode argument, so they are left out here; chmod
// keeps all twelve bits.
constexpr uint32_t kCreateModes[] = {0644, 0600, 0755, 0700, 0444, 01777, 0751, 0};
constexpr uint32_t kChmodModes[] = {0644, 0600, 0755, 0700, 0444, 01777, 02755, 04711, 0};

int Depth(const std::string& path) {
  return path == "/" ? 0 : static_cast<int>(std::count(path.begin(), path.end(), '/'));
}

}  // namespace

WorkloadProfile WorkloadProfile::Everything() {
  WorkloadProfile profile;
  profile.weights.assign(kKinds, 0);
  auto set = [&](OpKind kind, uint32_t weight) {
    profile.weights[static_cast<int>(kind)] = weight;
  };
  set(OpKind::kCreate, 8);
  set(OpKind::kMkdir, 5);
  set(OpKind::kSymlink, 3);
  set(OpKind::kLink, 3);
  set(OpKind::kUnlink, 5);
  set(OpKind::kRmdir, 3);
  set(OpKind::kRename, 10);
  set(OpKind::kWrite, 20);
  set(OpKind::kRead, 8);
  set(OpKind::kTruncate, 6);
  set(OpKind::kSetAttr, 4);
  set(OpKind::kFallocate, 16);
  set(OpKind::kFsync, 2);
  set(OpKind::kReopen, 1);
  return profile;
}

WorkloadProfile WorkloadProfile::Mutating() {
  WorkloadProfile profile = Everything();
  profile.weights[static_cast<int>(OpKind::kRead)] = 0;
  profile.weights[static_cast<int>(OpKind::kFsync)] = 0;
  profile.fsync_after_write = true;
  profile.commit_marker_percent = 30;
  profile.max_write_bytes = 48 * 1024;
  profile.far_offset_bytes = 512 * 1024;
  profile.soft_max_file_bytes = 1024 * 1024;
  profile.soft_max_nodes = 40;
  return profile;
}

Workload::Workload(uint64_t seed, WorkloadProfile profile)
    : random_(seed), profile_(std::move(profile)) {}

uint64_t Workload::Below(uint64_t bound) { return bound <= 1 ? 0 : random_() % bound; }
bool Workload::Chance(uint32_t percent) { return Below(100) < percent; }

Op Workload::Next(const ModelFs& model) {
  model_ = &model;
  entries_ = model.Walk();
  total_file_bytes_ = 0;
  for (const ModelEntry& entry : entries_) {
    if (entry.type == S_IFREG) total_file_bytes_ += model.node(entry.id).data.size();
  }
  switch (PickKind(model)) {
    case OpKind::kCreate:
      return MakeCreate(OpKind::kCreate);
    case OpKind::kMkdir:
      return MakeCreate(OpKind::kMkdir);
    case OpKind::kSymlink:
      return MakeCreate(OpKind::kSymlink);
    case OpKind::kLink:
      return MakeLink();
    case OpKind::kUnlink:
      return MakeRemove(OpKind::kUnlink);
    case OpKind::kRmdir:
      return MakeRemove(OpKind::kRmdir);
    case OpKind::kRename:
      return MakeRename();
    case OpKind::kWrite:
      return MakeWrite();
    case OpKind::kRead:
      return MakeRead();
    case OpKind::kTruncate:
      return MakeTruncate();
    case OpKind::kSetAttr:
      return MakeSetAttr();
    case OpKind::kFallocate:
      return MakeFallocate();
    case OpKind::kFsync: {
      std::string path = PickExisting(S_IFREG | S_IFDIR);
      return Op{.kind = OpKind::kFsync, .path = path.empty() ? "/" : path};
    }
    case OpKind::kReopen:
      return Op{.kind = OpKind::kReopen};
  }
  return Op{.kind = OpKind::kFsync, .path = "/"};
}

// Grows the tree while it is small and shrinks it once it is big, so both
// crowded and empty directories keep occurring.
OpKind Workload::PickKind(const ModelFs& model) {
  std::vector<uint32_t> weights = profile_.weights;
  if (entries_.size() > profile_.soft_max_nodes) {
    for (OpKind kind : {OpKind::kCreate, OpKind::kMkdir, OpKind::kSymlink, OpKind::kLink}) {
      weights[static_cast<int>(kind)] /= 4;
    }
    weights[static_cast<int>(OpKind::kUnlink)] *= 3;
    weights[static_cast<int>(OpKind::kRmdir)] *= 3;
  }
  if (entries_.size() < 4) weights[static_cast<int>(OpKind::kCreate)] += 20;
  uint64_t total = 0;
  for (uint32_t weight : weights) total += weight;
  uint64_t pick = Below(total);
  for (int kind = 0; kind < kKinds; ++kind) {
    if (pick < weights[kind]) return static_cast<OpKind>(kind);
    pick -= weights[kind];
  }
  return OpKind::kCreate;
}

std::string Workload::PickName() {
  if (Chance(2)) return std::string(kMaxNameLength, 'L');
  return kNames[Below(std::size(kNames))];
}

std::string Workload::PickExisting(uint32_t types) {
  std::vector<const ModelEntry*> matches;
  for (const ModelEntry& entry : entries_) {
    if (types == 0 || (entry.type & types) == entry.type) matches.push_back(&entry);
  }
  if (matches.empty()) return "";
  return matches[Below(matches.size())]->path;
}

std::string Workload::PickDirectory() {
  std::vector<std::string> dirs = {"/"};
  for (const ModelEntry& entry : entries_) {
    if (entry.type == S_IFDIR && Depth(entry.path) < 4) dirs.push_back(entry.path);
  }
  return dirs[Below(dirs.size())];
}

std::string Workload::PickNewPath(bool allow_bad_parent) {
  if (allow_bad_parent && profile_.invalid_operations) {
    if (Chance(3)) return "/missing/" + PickName();
    if (Chance(3)) {
      const std::string file = PickExisting(S_IFREG);
      if (!file.empty()) return JoinPath(file, PickName());
    }
  }
  return JoinPath(PickDirectory(), PickName());
}

std::string Workload::PickFileOrBad() {
  if (profile_.invalid_operations) {
    if (Chance(3)) return "/missing-file";
    if (Chance(3)) return PickDirectory();
  }
  std::string file = PickExisting(S_IFREG);
  return file.empty() ? "/missing-file" : file;
}

uint64_t Workload::PickLength(uint64_t limit) {
  switch (Below(4)) {
    case 0:
      return 1 + Below(std::min<uint64_t>(limit, 512));
    case 1:
      return 1 + Below(std::min<uint64_t>(limit, 3 * kBlock));
    case 2:
      return kBlock * (1 + Below(std::max<uint64_t>(1, limit / kBlock)));
    default:
      return 1 + Below(limit);
  }
}

uint64_t Workload::PickOffset(uint64_t size) {
  switch (Below(6)) {
    case 0:
      return size;  // append
    case 1:
      return size + 1 + Below(64 * 1024);  // just past EOF
    case 2:
      return size + Below(profile_.far_offset_bytes);  // far past EOF
    case 3:
      return kBlock * Below(size / kBlock + 2);  // aligned
    default:
      return Below(size + 1);  // inside
  }
}

Op Workload::MakeCreate(OpKind kind) {
  Op op{.kind = kind, .path = PickNewPath(/*allow_bad_parent=*/true)};
  op.mode = kCreateModes[Below(std::size(kCreateModes))];
  if (kind == OpKind::kSymlink) {
    const uint64_t length = Chance(5) ? kMaxSymlinkLength - 2 + Below(3) : 1 + Below(40);
    op.target = PatternName(length);
  }
  if (profile_.invalid_operations && Chance(2)) {
    op.path = JoinPath(PickDirectory(), std::string(kMaxNameLength + 1, 'T'));
  }
  return op;
}

std::string Workload::PatternName(uint64_t length) {
  std::string name(length, 'x');
  for (uint64_t i = 0; i < length; ++i) name[i] = "abcdefgh/._-0123"[Below(16)];
  return name;
}

Op Workload::MakeLink() {
  std::string source = PickExisting(S_IFREG | S_IFLNK);
  if (source.empty() || (profile_.invalid_operations && Chance(5))) source = PickExisting(0);
  if (source.empty()) source = "/missing-file";
  return Op{.kind = OpKind::kLink, .path = source, .path2 = PickNewPath(true)};
}

Op Workload::MakeRemove(OpKind kind) {
  const uint32_t wanted = kind == OpKind::kRmdir ? S_IFDIR : (S_IFREG | S_IFLNK);
  std::string path = PickExisting(wanted);
  if (kind == OpKind::kRmdir && Chance(60)) {  // prefer empty directories
    for (const ModelEntry& entry : entries_) {
      if (entry.type == S_IFDIR && model_->node(entry.id).children.empty() && Chance(50)) {
        path = entry.path;
      }
    }
  }
  if (path.empty() || (profile_.invalid_operations && Chance(8))) path = PickExisting(0);
  if (path.empty() || (profile_.invalid_operations && Chance(5))) path = PickNewPath(true);
  return Op{.kind = kind, .path = path};
}

Op Workload::MakeRename() {
  Op op{.kind = OpKind::kRename, .path = PickExisting(0)};
  if (op.path.empty() || (profile_.invalid_operations && Chance(3))) {
    op.path = JoinPath(PickDirectory(), PickName());
  }
  op.path2 = PickRenameTarget(op.path);
  const uint64_t flag_pick = Below(100);
  if (flag_pick < 65) {
    op.flags = 0;
  } else if (flag_pick < 80) {
    op.flags = kRenameNoReplace;
  } else if (flag_pick < 97 || !profile_.invalid_operations) {
    op.flags = kRenameExchange;
  } else {
    op.flags = Chance(50) ? (kRenameNoReplace | kRenameExchange) : 8;  // 4 is RENAME_WHITEOUT
  }
  return op;
}

// Targets that exercise every rename rule: a fresh name, an existing file
// or directory, the source itself, a place inside the source (EINVAL), an
// ancestor of the source (ENOTEMPTY), a name that is too long.
std::string Workload::PickRenameTarget(const std::string& source) {
  const uint64_t pick = Below(100);
  if (pick < 35) return JoinPath(PickDirectory(), PickName());
  if (pick < 55) {
    std::string file = PickExisting(S_IFREG | S_IFLNK);
    if (!file.empty()) return file;
  }
  if (pick < 70) {
    std::string dir = PickExisting(S_IFDIR);
    if (!dir.empty()) return dir;
  }
  if (pick < 74) return source;
  if (pick < 84) {  // below the source: only a directory source makes it invalid
    std::string inside = JoinPath(source, PickName());
    for (const ModelEntry& entry : entries_) {
      if (entry.path.rfind(source + "/", 0) == 0 && entry.type == S_IFDIR && Chance(50)) {
        inside = JoinPath(entry.path, PickName());
      }
    }
    return inside;
  }
  if (pick < 92 && ParentPath(source) != "/") {
    std::string ancestor = ParentPath(source);
    while (ParentPath(ancestor) != "/" && Chance(50)) ancestor = ParentPath(ancestor);
    return ancestor;
  }
  if (pick < 95 && profile_.invalid_operations) {
    return JoinPath(PickDirectory(), std::string(kMaxNameLength + 1, 'R'));
  }
  return JoinPath(PickDirectory(), PickName());
}

Op Workload::MakeWrite() {
  Op op{.kind = OpKind::kWrite, .path = PickFileOrBad()};
  auto id = model_->Resolve(op.path);
  const bool is_file = id.ok() && model_->node(*id).type == S_IFREG;
  const uint64_t size = is_file ? model_->node(*id).data.size() : 0;
  const bool crowded =
      size > profile_.soft_max_file_bytes || total_file_bytes_ > 8 * profile_.soft_max_file_bytes;
  op.offset = crowded ? Below(std::min<uint64_t>(size, 1 << 20) + 1) : PickOffset(size);
  op.length = Chance(1) ? 0 : PickLength(profile_.max_write_bytes);
  op.data_seed = random_();
  op.fsync = profile_.fsync_after_write;
  if (op.fsync && Chance(profile_.commit_marker_percent)) {
    op.fsync = false;
    op.commit_marker = true;
  }
  return op;
}

Op Workload::MakeRead() {
  Op op{.kind = OpKind::kRead, .path = PickFileOrBad()};
  auto id = model_->Resolve(op.path);
  const uint64_t size =
      id.ok() && model_->node(*id).type == S_IFREG ? model_->node(*id).data.size() : 0;
  op.offset = Chance(10) ? size + Below(10000) : Below(size + 1);
  op.length = Chance(5) ? 0 : PickLength(256 * 1024);
  return op;
}

Op Workload::MakeTruncate() {
  Op op{.kind = OpKind::kTruncate, .path = PickFileOrBad()};
  auto id = model_->Resolve(op.path);
  const uint64_t size =
      id.ok() && model_->node(*id).type == S_IFREG ? model_->node(*id).data.size() : 0;
  switch (Below(6)) {
    case 0:
      op.offset = 0;
      break;
    case 1:
      op.offset = size;
      break;
    case 2:
      op.offset = kBlock * Below(size / kBlock + 3);
      break;
    case 3:
      op.offset = size + 1 + Below(2 * 1024 * 1024);
      break;
    default:
      op.offset = Below(size + 1);
      break;
  }
  if (size > profile_.soft_max_file_bytes) op.offset = Below(size / 2 + 1);
  return op;
}

Op Workload::MakeSetAttr() {
  Op op{.kind = OpKind::kSetAttr, .path = PickExisting(S_IFREG | S_IFDIR)};
  if (op.path.empty()) op.path = "/";
  const bool is_file =
      model_->Resolve(op.path).ok() && model_->node(*model_->Resolve(op.path)).type == S_IFREG;
  SetAttributesRequest& attr = op.attr;
  const uint32_t fields[] = {kSetMode, kSetUid, kSetGid, kSetSize, kSetAtime, kSetMtime};
  for (uint32_t field : fields) {
    if (Chance(40)) attr.mask |= field;
  }
  if (attr.mask == 0) attr.mask = kSetMode;
  if (!is_file && !(profile_.invalid_operations && Chance(10))) attr.mask &= ~kSetSize;
  attr.mode = kChmodModes[Below(std::size(kChmodModes))];
  // A set-group-ID directory passes its group and the bit to new entries in
  // Linux; neither the model nor mdfs's explicit-owner API does that.
  if (!is_file) attr.mode &= ~static_cast<uint32_t>(S_ISGID);
  attr.uid = static_cast<uint32_t>(Below(3000));
  attr.gid = static_cast<uint32_t>(Below(3000));
  const uint64_t size = is_file ? model_->node(*model_->Resolve(op.path)).data.size() : 0;
  attr.size = Chance(50) ? Below(size + 1) : size + Below(1 << 20);
  attr.atime.ns = 1'000'000'000LL * static_cast<int64_t>(Below(2'000'000'000)) +
                  static_cast<int64_t>(Below(1'000'000'000));
  attr.mtime.ns = 1'000'000'000LL * static_cast<int64_t>(Below(2'000'000'000)) +
                  static_cast<int64_t>(Below(1'000'000'000));
  return op;
}

Op Workload::MakeFallocate() {
  static constexpr uint32_t kValid[] = {0,
                                        kFallocateKeepSize,
                                        kFallocatePunchHole | kFallocateKeepSize,
                                        kFallocateZeroRange,
                                        kFallocateZeroRange | kFallocateKeepSize,
                                        kFallocateCollapseRange,
                                        kFallocateInsertRange};
  static constexpr uint32_t kInvalid[] = {
      kFallocatePunchHole,
      kFallocateNoHideStale,
      kFallocateUnshareRange,
      kFallocatePunchHole | kFallocateZeroRange | kFallocateKeepSize,
      kFallocateCollapseRange | kFallocateKeepSize,
      kFallocateInsertRange | kFallocateKeepSize,
      kFallocateCollapseRange | kFallocateInsertRange};
  Op op{.kind = OpKind::kFallocate};
  const bool invalid_mode = profile_.invalid_operations && Chance(8);
  op.flags = invalid_mode ? kInvalid[Below(std::size(kInvalid))] : kValid[Below(std::size(kValid))];
  op.path = PickExisting(S_IFREG);
  if (op.path.empty()) op.path = "/missing-file";
  auto id = model_->Resolve(op.path);
  const uint64_t size = id.ok() ? model_->node(*id).data.size() : 0;
  PickFallocateRange(op, size);
  if (profile_.invalid_operations && !invalid_mode && Chance(3)) op.length = 0;
  if (profile_.invalid_operations && !invalid_mode && op.length != 0 && Chance(3)) {
    op.path = PickDirectory();  // with valid arguments: EISDIR
  }
  return op;
}

void Workload::PickFallocateRange(Op& op, uint64_t size) {
  const bool shifting = op.flags == kFallocateCollapseRange || op.flags == kFallocateInsertRange;
  const bool crowded = size > profile_.soft_max_file_bytes;
  if (shifting && (!profile_.invalid_operations || Chance(75))) {
    // A valid collapse or insert, when the file is big enough for one.
    const uint64_t blocks = size / kBlock;
    op.offset = kBlock * Below(std::max<uint64_t>(blocks, 1));
    const uint64_t room = blocks > op.offset / kBlock + 1 ? blocks - op.offset / kBlock - 1 : 1;
    const uint64_t limit = op.flags == kFallocateInsertRange ? 16 : room;
    op.length = kBlock * (1 + Below(std::min<uint64_t>(limit, 64)));
    return;
  }
  op.offset = Chance(20) ? size + Below(256 * 1024) : Below(size + 1);
  if (shifting && Chance(50)) op.offset = kBlock * (op.offset / kBlock);
  op.length = PickLength(crowded ? 64 * 1024 : 512 * 1024);
}

}  // namespace mdfs::test
