// Workload: a seeded generator of Ops that fit the current model state —
// mostly valid operations on existing names, plus every invalid variant the
// model predicts (missing names, wrong types, names too long, bad fallocate
// ranges, directories moved below themselves). The same seed and the same
// model history give the same sequence on every machine (std::mt19937_64
// and our own range mapping, no std::uniform_*_distribution).
#ifndef MDFS_TESTS_MODEL_WORKLOAD_H_
#define MDFS_TESTS_MODEL_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/model_fs.h"
#include "model/op.h"

namespace mdfs::test {

struct WorkloadProfile {
  // Relative weight of each OpKind, indexed by static_cast<int>(OpKind).
  std::vector<uint32_t> weights;
  bool fsync_after_write = false;  // crash tests: write+fsync is one durable step
  // Of those, the percentage made durable by a metadata transaction (a
  // commit marker, Op::commit_marker) instead of Fsync.
  uint32_t commit_marker_percent = 0;
  bool invalid_operations = true;  // also generate calls that must fail
  uint64_t max_write_bytes = 128 * 1024;
  uint64_t far_offset_bytes = 4 * 1024 * 1024;  // how far past EOF a write may land
  uint64_t soft_max_file_bytes = 6 * 1024 * 1024;
  size_t soft_max_nodes = 80;

  // Every operation, reads and reopen included (the model test).
  static WorkloadProfile Everything();
  // Operations that change the file system and reopen, small files, every
  // write made durable in its step (crash, I/O errors).
  static WorkloadProfile Mutating();
};

class Workload {
 public:
  Workload(uint64_t seed, WorkloadProfile profile);

  // The next operation for a file system whose state is `model`.
  Op Next(const ModelFs& model);

 private:
  uint64_t Below(uint64_t bound);  // uniform in [0, bound); bound > 0
  bool Chance(uint32_t percent);
  OpKind PickKind(const ModelFs& model);
  std::string PickName();
  // `length` random characters, slashes and dots included (a symlink target).
  std::string PatternName(uint64_t length);
  // An existing path of a type in `types` (S_IF* bits, 0 = any), or "" if none.
  std::string PickExisting(uint32_t types);
  std::string PickDirectory();
  // A path for a new entry: usually in an existing directory, sometimes below
  // a missing directory or a regular file when invalid operations are on.
  std::string PickNewPath(bool allow_bad_parent);
  std::string PickFileOrBad();
  uint64_t PickOffset(uint64_t size);
  uint64_t PickLength(uint64_t limit);

  Op MakeCreate(OpKind kind);
  Op MakeLink();
  Op MakeRemove(OpKind kind);
  Op MakeRename();
  std::string PickRenameTarget(const std::string& source);
  Op MakeWrite();
  Op MakeRead();
  Op MakeTruncate();
  Op MakeSetAttr();
  Op MakeFallocate();
  void PickFallocateRange(Op& op, uint64_t size);

  std::mt19937_64 random_;
  WorkloadProfile profile_;
  const ModelFs* model_ = nullptr;   // valid during Next()
  std::vector<ModelEntry> entries_;  // model_->Walk(), during Next()
  uint64_t total_file_bytes_ = 0;    // during Next()
};

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_WORKLOAD_H_
