// The randomized model test (the fsx idea): seeded random sequences of every
// operation run against mdfs on a memory device and against ModelFs; after
// every step the touched names are compared (attributes, whole file bytes,
// directory entries, block-map invariants), every kTreeCheckInterval steps
// and at the end the whole tree, with close/reopen at random points. At the
// end of each seed fsck must be clean and removing everything must give back
// every block and inode.
//
// Knobs: MDFS_MODEL_SEEDS (default 20), MDFS_MODEL_STEPS (default 2000),
// MDFS_FIRST_SEED, MDFS_SEED (one seed only). See doc/testing.md.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "mdfs/fsck.h"
#include "model/checker.h"
#include "model/fs_driver.h"
#include "model/history.h"
#include "model/test_env.h"
#include "model/workload.h"

namespace mdfs::test {
namespace {

constexpr uint64_t kTreeCheckInterval = 100;

struct RunConfig {
  uint64_t device_bytes = 128ull << 20;  // big enough that kNoSpace never happens
  // A small device instead: an operation that could need space may fail
  // with kNoSpace, and must then change nothing.
  bool allow_no_space = false;
  WorkloadProfile profile = WorkloadProfile::Everything();
  const char* test_name = "ModelTest.RandomOperationsMatchTheModel";
};

class ModelRun {
 public:
  ModelRun(uint64_t seed, RunConfig config)
      : seed_(seed), config_(config), workload_(seed, config.profile) {}
  uint64_t no_space_failures() const { return no_space_failures_; }

  // Runs `steps` random steps and the end-of-seed checks; the first
  // mismatch is reported with ADD_FAILURE and ends the run.
  void Run(uint64_t steps);

 private:
  bool Start();
  bool Step(uint64_t step);
  bool CompareStep(uint64_t step, const Op& op, const std::optional<ModelFs>& before,
                   const std::vector<std::byte>& expected_read,
                   const std::vector<std::byte>& actual_read);
  bool Reopen(uint64_t step);
  bool Fsck(uint64_t step);
  bool RemoveEverything(uint64_t step);
  bool Check(uint64_t step, const testing::AssertionResult& result);
  bool Fail(uint64_t step, const std::string& what);

  // kNoSpace is acceptable for `op` (RunConfig::allow_no_space).
  bool MayRunOutOfSpace(const Op& op, const Outcome& expected) const;

  const uint64_t seed_;
  const RunConfig config_;
  uint64_t no_space_failures_ = 0;
  Workload workload_;
  ModelFs model_;
  History history_;
  ManualClock clock_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  FileSystemStats initial_stats_;
  uint64_t initial_root_blocks_ = 0;
};

bool ModelRun::Fail(uint64_t step, const std::string& what) {
  ADD_FAILURE() << "seed " << seed_ << ", step " << step << ": " << what << "\nlast operations:\n"
                << history_.Dump() << "reproduce: MDFS_SEED=" << seed_
                << " MDFS_MODEL_STEPS=" << step + 1 << " ./tests/model_test --gtest_filter='"
                << config_.test_name << "'";
  return false;
}

bool ModelRun::Check(uint64_t step, const testing::AssertionResult& result) {
  return result ? true : Fail(step, result.message());
}

bool ModelRun::Start() {
  auto device = CreateMemoryDevice(config_.device_bytes);
  if (!device.ok()) return Fail(0, "CreateMemoryDevice: " + device.status().ToString());
  device_ = std::move(*device);
  Status formatted = FileSystem::Format(device_.get(), {.clock = &clock_});
  if (!formatted.ok()) return Fail(0, "Format: " + formatted.ToString());
  auto fs = FileSystem::Open(device_.get(), {.clock = &clock_});
  if (!fs.ok()) return Fail(0, "Open: " + fs.status().ToString());
  fs_ = std::move(*fs);
  auto stats = fs_->StatFs();
  auto root = fs_->GetAttributes(kRootInode);
  if (!stats.ok() || !root.ok()) return Fail(0, "StatFs/GetAttributes of a new file system failed");
  initial_stats_ = *stats;
  initial_root_blocks_ = root->allocated_blocks;
  return Check(0, CheckTree(*fs_, model_));
}

void ModelRun::Run(uint64_t steps) {
  if (!Start()) return;
  for (uint64_t step = 1; step <= steps; ++step) {
    if (!Step(step)) return;
  }
  const uint64_t end = steps + 1;
  if (!Check(end, CheckTree(*fs_, model_)) || !Reopen(end) || !Fsck(end)) return;
  if (!RemoveEverything(end)) return;
  fs_.reset();
  Fsck(end);
}

bool ModelRun::Step(uint64_t step) {
  const Op op = workload_.Next(model_);
  history_.Add(step, op);
  clock_.AdvanceNs(1'000);
  if (op.kind == OpKind::kReopen) return Reopen(step);
  std::optional<ModelFs> before;
  if (op.kind == OpKind::kTruncate || op.kind == OpKind::kSetAttr || config_.allow_no_space) {
    before = model_;
  }
  std::vector<std::byte> expected_read, actual_read;
  const Outcome expected = model_.Apply(op, clock_.NowRealtimeNs(), &expected_read);
  const Status actual = ApplyToFileSystem(*fs_, op, &actual_read);
  if (actual.code() == Code::kNoSpace && MayRunOutOfSpace(op, expected)) {
    ++no_space_failures_;
    model_ = *before;  // all or nothing: the failed call changed nothing
    return CompareStep(step, op, std::nullopt, expected_read, actual_read);
  }
  if (!expected.Accepts(actual.code())) {
    std::string want = CodeName(expected.code);
    if (expected.alternative != expected.code)
      want += std::string(" or ") + CodeName(expected.alternative);
    return Fail(step, op.ToString() + " returned " + (actual.ok() ? "OK" : actual.ToString()) +
                          ", the model expects " + want);
  }
  if (!CompareStep(step, op, actual.ok() ? before : std::nullopt, expected_read, actual_read)) {
    return false;
  }
  if (step % kTreeCheckInterval == 0) return Check(step, CheckTree(*fs_, model_));
  return true;
}

bool ModelRun::MayRunOutOfSpace(const Op& op, const Outcome& expected) const {
  if (!config_.allow_no_space || !expected.ok()) return false;
  switch (op.kind) {
    case OpKind::kUnlink:
    case OpKind::kRmdir:
    case OpKind::kRead:
    case OpKind::kFsync:
      return false;
    default:
      return true;
  }
}

bool ModelRun::CompareStep(uint64_t step, const Op& op, const std::optional<ModelFs>& before,
                           const std::vector<std::byte>& expected_read,
                           const std::vector<std::byte>& actual_read) {
  if (op.kind == OpKind::kRead && actual_read != expected_read) {
    const auto mismatch = std::mismatch(actual_read.begin(), actual_read.end(),
                                        expected_read.begin(), expected_read.end());
    return Fail(step, op.ToString() + " read " + std::to_string(actual_read.size()) +
                          " bytes, the model " + std::to_string(expected_read.size()) +
                          "; first difference at +" +
                          std::to_string(mismatch.first - actual_read.begin()));
  }
  for (const std::string& path : {op.path, op.path2}) {
    if (path.empty()) continue;
    if (!Check(step, CheckPath(*fs_, model_, path))) return false;
    if (!Check(step, CheckPath(*fs_, model_, ParentPath(path)))) return false;
  }
  return !before || Check(step, CheckBlockMapAfter(*fs_, *before, op));
}

bool ModelRun::Reopen(uint64_t step) {
  fs_.reset();
  auto fs = FileSystem::Open(device_.get(), {.clock = &clock_});
  if (!fs.ok()) return Fail(step, "reopen: " + fs.status().ToString());
  fs_ = std::move(*fs);
  return Check(step, CheckTree(*fs_, model_));
}

bool ModelRun::Fsck(uint64_t step) {
  auto report = CheckFileSystem(device_.get());
  if (!report.ok()) return Fail(step, "CheckFileSystem: " + report.status().ToString());
  if (!report->clean()) return Fail(step, "fsck: " + DescribeProblems(*report));
  return true;
}

// Removes every name (children first) and requires StatFs to report every
// inode and every block free again, except blocks the root directory keeps.
bool ModelRun::RemoveEverything(uint64_t step) {
  std::vector<ModelEntry> entries = model_.Walk();
  std::reverse(entries.begin(), entries.end());
  for (const ModelEntry& entry : entries) {
    const Op op{.kind = entry.type == S_IFDIR ? OpKind::kRmdir : OpKind::kUnlink,
                .path = entry.path};
    history_.Add(step, op);
    model_.Apply(op, clock_.NowRealtimeNs());
    const Status status = ApplyToFileSystem(*fs_, op);
    if (!status.ok()) return Fail(step, op.ToString() + ": " + status.ToString());
  }
  if (!Check(step, CheckTree(*fs_, model_))) return false;
  auto stats = fs_->StatFs();
  auto root = fs_->GetAttributes(kRootInode);
  if (!stats.ok() || !root.ok()) return Fail(step, "StatFs/GetAttributes failed");
  const uint64_t root_growth = root->allocated_blocks - initial_root_blocks_;
  if (stats->free_blocks + root_growth != initial_stats_.free_blocks ||
      stats->free_inodes != initial_stats_.free_inodes) {
    return Fail(step, "after removing everything: free blocks " +
                          std::to_string(stats->free_blocks) + " (+" + std::to_string(root_growth) +
                          " kept by the root), free inodes " + std::to_string(stats->free_inodes) +
                          "; after mkfs " + std::to_string(initial_stats_.free_blocks) + " and " +
                          std::to_string(initial_stats_.free_inodes) + ": a leak");
  }
  return true;
}

TEST(ModelTest, RandomOperationsMatchTheModel) {
  const uint64_t steps = EnvUint("MDFS_MODEL_STEPS", 2000);
  for (uint64_t seed : SeedsToRun(EnvUint("MDFS_MODEL_SEEDS", 20))) {
    ModelRun(seed, RunConfig{}).Run(steps);
    if (HasFailure()) break;
  }
}

// The same on a device that fills up: every call that fails with kNoSpace
// must change nothing (the model is rolled back and compared), and after
// the run removing everything must free every block again.
TEST(ModelTest, FullDeviceCallsAreAllOrNothing) {
  RunConfig config;
  config.device_bytes = 8ull << 20;
  config.allow_no_space = true;
  config.profile.soft_max_file_bytes = 3ull << 20;
  config.profile.max_write_bytes = 512 * 1024;
  config.test_name = "ModelTest.FullDeviceCallsAreAllOrNothing";
  const uint64_t steps = EnvUint("MDFS_MODEL_STEPS", 2000);
  uint64_t no_space = 0;
  for (uint64_t seed : SeedsToRun(std::max<uint64_t>(1, EnvUint("MDFS_MODEL_SEEDS", 20) / 4))) {
    ModelRun run(seed, config);
    run.Run(steps);
    no_space += run.no_space_failures();
    if (HasFailure()) break;
  }
  EXPECT_GT(no_space, 0u) << "the device never filled up: the test tests nothing";
  std::cout << "calls that failed with kNoSpace: " << no_space << "\n";
}

// The checks must be able to fail: a change made behind the model's back
// is caught by CheckTree and CheckPath.
TEST(ModelTest, HarnessDetectsChangesTheModelDidNotMake) {
  auto device = CreateMemoryDevice(16 << 20);
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto fs = FileSystem::Open(device->get());
  ASSERT_TRUE(fs.ok());
  ModelFs model;
  for (const Op& op :
       {Op{.kind = OpKind::kMkdir, .path = "/d", .mode = 0755},
        Op{.kind = OpKind::kCreate, .path = "/d/f", .mode = 0644},
        Op{.kind = OpKind::kWrite, .path = "/d/f", .offset = 5, .length = 9000, .data_seed = 1}}) {
    ASSERT_TRUE(model.Apply(op, 0).ok());
    ASSERT_TRUE(ApplyToFileSystem(**fs, op).ok());
  }
  const CheckOptions options{.times = false};
  ASSERT_TRUE(CheckTree(**fs, model, options));
  auto file = (*fs)->LookupPath("/d/f");
  ASSERT_TRUE(file.ok());
  const std::byte byte{0x5a};
  ASSERT_TRUE((*fs)->Write(file->ino, 4100, std::span(&byte, 1)).ok());
  EXPECT_FALSE(CheckTree(**fs, model, options));
  EXPECT_FALSE(CheckPath(**fs, model, "/d/f", options));
  ASSERT_TRUE((*fs)->Truncate(file->ino, 9005).ok());
  ASSERT_TRUE(
      ApplyToFileSystem(
          **fs,
          {.kind = OpKind::kWrite, .path = "/d/f", .offset = 5, .length = 9000, .data_seed = 1})
          .ok());
  ASSERT_TRUE(CheckTree(**fs, model, options));
  ASSERT_TRUE((*fs)->Create(kRootInode, "extra", 0644).ok());
  EXPECT_FALSE(CheckTree(**fs, model, options));
  EXPECT_FALSE(CheckPath(**fs, model, "/", options));
}

}  // namespace
}  // namespace mdfs::test
