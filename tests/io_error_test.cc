// The I/O-error sweep (SQLite's do_ioerr_test): a fixed workload — format,
// open, directories, files, allocating writes and overwrites (each with
// fsync), truncate up and down, every fallocate mode, links, renames
// (plain, over a file, exchange, no-replace), setattr, reopen, unlink,
// rmdir — runs on a FaultDevice that fails device operation N (every read,
// write or flush counts). For N = 1, 2, ... until the workload finishes
// without reaching operation N: the failing call must return kIoError or
// kShutdown (never crash, never OK with wrong data); then, on the base
// device without faults, fsck must be clean, Open must recover, and the tree
// must equal the model before or after the failed operation. Run once with
// transient faults and once with sticky ones (a dead device).
//
// Knobs: MDFS_IOERR_STRIDE (sweep every k-th N; default 1), MDFS_IOERR_N=<n>
// (run only N = n, to reproduce). See doc/testing.md.
#include <gtest/gtest.h>

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

constexpr uint64_t kDeviceBytes = 16ull << 20;
constexpr uint64_t kRandomSteps = 40;
constexpr uint64_t kRandomSeed = 7;
constexpr uint64_t kB = 4096;

Op Write(const std::string& path, uint64_t offset, uint64_t length, uint64_t seed) {
  return {.kind = OpKind::kWrite,
          .path = path,
          .offset = offset,
          .length = length,
          .data_seed = seed,
          .fsync = true};
}
Op Read(const std::string& path) {
  return {.kind = OpKind::kRead, .path = path, .offset = 0, .length = 8 << 20};
}
Op Fallocate(const std::string& path, uint32_t mode, uint64_t offset, uint64_t length) {
  return {
      .kind = OpKind::kFallocate, .path = path, .offset = offset, .length = length, .flags = mode};
}
Op Named(OpKind kind, const std::string& path, const std::string& path2 = "", uint32_t flags = 0) {
  return {.kind = kind, .path = path, .path2 = path2, .mode = 0755, .flags = flags};
}

// The scripted part: every kind of operation at least once.
std::vector<Op> ScriptedOps() {
  SetAttributesRequest attr{.mask = kSetMode | kSetUid | kSetGid | kSetAtime | kSetMtime,
                            .mode = 0640,
                            .uid = 7,
                            .gid = 8,
                            .atime = {1'600'000'000'000'000'000},
                            .mtime = {1'600'000'001'000'000'000}};
  return {
      Named(OpKind::kMkdir, "/d"),
      Named(OpKind::kMkdir, "/d/e"),
      Named(OpKind::kCreate, "/d/f"),
      Named(OpKind::kCreate, "/d/e/g"),
      Write("/d/f", 0, 20000, 1),
      Read("/d/f"),
      Write("/d/f", 100, 3000, 2),  // overwrite
      Write("/d/e/g", (1 << 20) + 5, 5000, 3),
      Read("/d/e/g"),
      {.kind = OpKind::kTruncate, .path = "/d/f", .offset = 12345},
      {.kind = OpKind::kTruncate, .path = "/d/e/g", .offset = (2 << 20) + 3},
      Fallocate("/d/f", 0, 20000, 10000),
      Fallocate("/d/f", kFallocateKeepSize, 40000, 2 * kB),
      Fallocate("/d/f", kFallocatePunchHole | kFallocateKeepSize, 1000, 9000),
      Fallocate("/d/f", kFallocateZeroRange, 3000, 2000),
      Fallocate("/d/f", kFallocateZeroRange | kFallocateKeepSize, 25000, 10000),
      Write("/d/f", 0, 30000, 4),
      Fallocate("/d/f", kFallocateCollapseRange, kB, kB),
      Fallocate("/d/f", kFallocateInsertRange, 2 * kB, 2 * kB),
      Read("/d/f"),
      {.kind = OpKind::kSymlink, .path = "/d/s", .target = "e/g"},
      Named(OpKind::kLink, "/d/f", "/d/e/f2"),
      Named(OpKind::kRename, "/d/f", "/d/e/h"),
      Named(OpKind::kRename, "/d/e/h", "/d/s", kRenameExchange),
      Named(OpKind::kRename, "/d/e/g", "/d/e/f2"),
      {.kind = OpKind::kSetAttr, .path = "/d/e/f2", .attr = attr},
      {.kind = OpKind::kReopen},
      Read("/d/e/f2"),
      Read("/d/s"),
      Named(OpKind::kUnlink, "/d/e/h"),
      Named(OpKind::kMkdir, "/d/x"),
      Named(OpKind::kRename, "/d/x", "/d/e/y", kRenameNoReplace),
      Named(OpKind::kRmdir, "/d/e/y"),
      Named(OpKind::kFsync, "/d"),
  };
}

// The scripted part, then kRandomSteps valid random mutations, a reopen and
// a read of every file. The same list every time (the model decides it).
std::vector<Op> BuildWorkload() {
  std::vector<Op> ops = ScriptedOps();
  ModelFs model;
  for (const Op& op : ops) model.Apply(op, 0);
  WorkloadProfile profile = WorkloadProfile::Mutating();
  profile.invalid_operations = false;
  Workload workload(kRandomSeed, profile);
  for (uint64_t i = 0; i < kRandomSteps; ++i) {
    Op op = workload.Next(model);
    if (!model.Apply(op, 0).ok()) continue;  // keep only calls that succeed
    ops.push_back(op);
  }
  ops.push_back({.kind = OpKind::kReopen});
  for (const ModelEntry& entry : model.Walk()) {
    if (entry.type == S_IFREG) ops.push_back(Read(entry.path));
  }
  return ops;
}

struct SweepResult {
  uint64_t swept = 0;        // values of N run
  uint64_t open_failed = 0;  // N that failed Open itself
  uint64_t op_failed = 0;    // N that failed a workload call
  uint64_t swallowed = 0;    // N whose fault fired but every call succeeded
};

// A device that reports failed writes and flushes as successful: the kind
// of lost write the sweep must catch. Only the harness self-test uses it.
class SwallowingDevice : public Device {
 public:
  explicit SwallowingDevice(Device* base) : base_(base) {}
  uint64_t size_bytes() const override { return base_->size_bytes(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return base_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    (void)base_->Write(offset, data);
    return Status::Ok();
  }
  Status Flush() override {
    (void)base_->Flush();
    return Status::Ok();
  }
  PersistenceMode persistence_mode() const override { return base_->persistence_mode(); }
  std::string Describe() const override { return "swallowing(" + base_->Describe() + ")"; }

 private:
  Device* base_;
};

class IoErrorSweep {
 public:
  // `failures`: when not null, failures are collected there instead of
  // failing the test (the harness self-test), and the file system runs over
  // a SwallowingDevice.
  IoErrorSweep(bool sticky, SweepResult* result, std::vector<std::string>* failures = nullptr)
      : sticky_(sticky), result_(result), failures_(failures), ops_(BuildWorkload()) {}
  // Runs the workload with operation `n` failing; false when it never got there.
  bool RunOne(uint64_t n);

 private:
  bool Fail(const std::string& what);
  bool RunWorkload();
  Status RunStep(const Op& op, std::vector<std::byte>* read);
  bool CheckAfterwards();

  Device* top() { return swallower_ ? swallower_.get() : static_cast<Device*>(fault_.get()); }

  const bool sticky_;
  SweepResult* result_;
  std::vector<std::string>* failures_;
  std::unique_ptr<Device> swallower_;
  const std::vector<Op> ops_;
  uint64_t n_ = 0;
  ManualClock clock_;
  std::unique_ptr<Device> base_;
  std::unique_ptr<FaultDevice> fault_;
  std::unique_ptr<FileSystem> fs_;
  ModelFs model_, before_;
  std::optional<Op> failed_op_;
  History history_{20};
};

bool IoErrorSweep::Fail(const std::string& what) {
  if (failures_ != nullptr) {
    failures_->push_back("N=" + std::to_string(n_) + ": " + what);
    return false;
  }
  ADD_FAILURE() << (sticky_ ? "sticky" : "transient") << " fault at device operation " << n_ << ": "
                << what << "\nfailed call: " << (failed_op_ ? failed_op_->ToString() : "none")
                << "\nlast operations:\n"
                << history_.Dump() << "reproduce: MDFS_IOERR_N=" << n_
                << " ./tests/io_error_test --gtest_filter='*" << (sticky_ ? "Sticky" : "Transient")
                << "*'";
  return false;
}

Status IoErrorSweep::RunStep(const Op& op, std::vector<std::byte>* read) {
  if (op.kind != OpKind::kReopen) return ApplyToFileSystem(*fs_, op, read);
  fs_.reset();
  auto fs = FileSystem::Open(top(), {.clock = &clock_});
  if (!fs.ok()) return fs.status();
  fs_ = std::move(*fs);
  return Status::Ok();
}

// Runs ops_ until one fails; false on a failure of the test.
bool IoErrorSweep::RunWorkload() {
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    history_.Add(i + 1, op);
    clock_.AdvanceNs(1'000);
    before_ = model_;
    std::vector<std::byte> expected_read, actual_read;
    const Outcome expected = model_.Apply(op, clock_.NowRealtimeNs(), &expected_read);
    const Status status = RunStep(op, &actual_read);
    if (!status.ok()) {
      failed_op_ = op;
      if (!fault_->fault_fired())
        return Fail("failed with no fault injected: " + status.ToString());
      if (status.code() != Code::kIoError && status.code() != Code::kShutdown) {
        return Fail("failed with " + status.ToString() + " instead of an I/O error");
      }
      ++result_->op_failed;
      return true;
    }
    if (!expected.ok()) return Fail(op.ToString() + " succeeded, the model expects an error");
    if (op.kind == OpKind::kRead && actual_read != expected_read) {
      failed_op_ = op;
      return Fail("read returned OK with wrong data");
    }
  }
  before_ = model_;
  if (fault_->fault_fired()) ++result_->swallowed;
  return true;
}

bool IoErrorSweep::CheckAfterwards() {
  fs_.reset();
  auto report = CheckFileSystem(base_.get());
  if (!report.ok()) return Fail("fsck: " + report.status().ToString());
  if (!report->clean()) return Fail("fsck before recovery: " + DescribeProblems(*report));
  auto fs = FileSystem::Open(base_.get(), {.clock = &clock_});
  if (!fs.ok()) return Fail("Open without faults: " + fs.status().ToString());
  fs_ = std::move(*fs);
  std::optional<ByteTolerance> tolerance;
  if (failed_op_) tolerance = ToleranceFor(*failed_op_, before_, model_);
  const CheckOptions options{.times = false, .tolerance = tolerance ? &*tolerance : nullptr};
  testing::AssertionResult after = CheckTree(*fs_, model_, options);
  testing::AssertionResult old = after ? after : CheckTree(*fs_, before_, options);
  testing::AssertionResult middle = testing::AssertionFailure() << "no middle state";
  if (!after && !old && failed_op_ && failed_op_->commit_marker) {
    // Two transactions: the write may be durable without its marker.
    ModelFs written = before_;
    Op write_only = *failed_op_;
    write_only.commit_marker = false;
    written.Apply(write_only, 0);
    middle = CheckTree(*fs_, written, options);
  }
  if (!after && !old && !middle) {
    return Fail(std::string("state is neither before nor after the failed call.\n  vs. after: ") +
                after.message() + "\n  vs. before: " + old.message() +
                "\n  vs. after the write, before its marker: " + middle.message());
  }
  fs_.reset();
  report = CheckFileSystem(base_.get());
  if (!report.ok() || !report->clean()) {
    return Fail("fsck after recovery: " +
                (report.ok() ? DescribeProblems(*report) : report.status().ToString()));
  }
  return true;
}

bool IoErrorSweep::RunOne(uint64_t n) {
  fs_.reset();  // a failed run may leave one open; it uses the old devices
  n_ = n;
  model_ = before_ = ModelFs();
  failed_op_.reset();
  history_ = History(20);
  auto base = CreateMemoryDevice(kDeviceBytes);
  if (!base.ok()) return Fail("CreateMemoryDevice: " + base.status().ToString());
  base_ = std::move(*base);
  Status formatted = FileSystem::Format(base_.get(), {.clock = &clock_});
  if (!formatted.ok()) return Fail("Format: " + formatted.ToString());
  fault_ = std::make_unique<FaultDevice>(base_.get());
  fault_->FailNth(n, FaultDevice::kAll, sticky_);
  if (failures_ != nullptr) swallower_ = std::make_unique<SwallowingDevice>(fault_.get());
  ++result_->swept;
  auto fs = FileSystem::Open(top(), {.clock = &clock_});
  if (!fs.ok()) {
    if (!fault_->fault_fired() ||
        (fs.status().code() != Code::kIoError && fs.status().code() != Code::kShutdown)) {
      return Fail("Open: " + fs.status().ToString());
    }
    ++result_->open_failed;
  } else {
    fs_ = std::move(*fs);
    if (!RunWorkload()) return false;
  }
  const bool reached = fault_->fault_fired();
  if (!CheckAfterwards()) return false;
  return reached;
}

void Sweep(bool sticky) {
  SweepResult result;
  IoErrorSweep sweep(sticky, &result);
  if (std::getenv("MDFS_IOERR_N") != nullptr) {
    sweep.RunOne(EnvUint("MDFS_IOERR_N", 1));
  } else {
    const uint64_t stride = std::max<uint64_t>(1, EnvUint("MDFS_IOERR_STRIDE", 1));
    for (uint64_t n = 1; n < 1'000'000; n += stride) {
      if (!sweep.RunOne(n) || testing::Test::HasFailure()) break;
    }
  }
  std::cout << (sticky ? "sticky" : "transient") << " faults: swept " << result.swept
            << " values of N (Open failed " << result.open_failed << ", a call failed "
            << result.op_failed << ", fault absorbed with every call OK " << result.swallowed
            << ")\n";
}

TEST(IoErrorTest, TransientFaultAtEveryDeviceOperation) { Sweep(/*sticky=*/false); }

// The sweep must be able to fail: when the device hides its write errors,
// acknowledged calls are lost and the sweep has to notice.
TEST(IoErrorTest, HarnessDetectsSwallowedWriteErrors) {
  SweepResult result;
  std::vector<std::string> failures;
  IoErrorSweep sweep(/*sticky=*/true, &result, &failures);
  for (uint64_t n = 80; n < 400; n += 7) sweep.RunOne(n);
  EXPECT_GE(failures.size(), 5u) << "the sweep missed lost writes";
  if (!failures.empty())
    std::cout << "example of a detected loss: " << failures[0].substr(0, 300) << "\n";
}
TEST(IoErrorTest, StickyFaultAtEveryDeviceOperation) { Sweep(/*sticky=*/true); }

}  // namespace
}  // namespace mdfs::test
