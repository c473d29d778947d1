// The crash loop (DESIGN.md semantics 9): a seeded mutating workload runs
// on mdfs over a CrashDevice; power fails at a random device write
// (CrashAtWrite), during a random flush (CrashAtFlush: the point where a
// journal commit can tear) or after a random step (Crash); the unflushed writes are
// kept, dropped or torn per sector. Then fsck must be clean (before and
// after recovery), Open must recover, and the tree must equal the model
// after the last acknowledged step — or, when a step was in flight, the
// model before or after it (an interrupted write+fsync may leave each byte
// of its range old or new). The recovered file system must then keep
// working.
//
// Knobs: MDFS_CRASH_ITERATIONS (default 300), MDFS_CRASH_ITERATION=<i> (run
// only iteration i, to reproduce), MDFS_FIRST_SEED. See doc/testing.md.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "mdfs/fsck.h"
#include "model/checker.h"
#include "model/fs_driver.h"
#include "model/history.h"
#include "model/test_env.h"
#include "model/workload.h"

namespace mdfs::test {
namespace {

constexpr uint64_t kDeviceBytes = 64ull << 20;
constexpr uint64_t kSteps = 60;  // workload steps before the crash point
constexpr uint64_t kStepsAfterRecovery = 15;
constexpr uint64_t kIterationsPerWorkload = 10;  // crash points per workload seed

// Odd workload seeds use small files (4 KiB-block allocation); even ones
// grow files past 2 MiB, where the allocator hands out whole 2 MiB chunks.
WorkloadProfile ProfileFor(uint64_t workload_seed) {
  WorkloadProfile profile = WorkloadProfile::Mutating();
  if (workload_seed % 2 == 0) {
    profile.max_write_bytes = 256 * 1024;
    profile.far_offset_bytes = 6ull << 20;
    profile.soft_max_file_bytes = 8ull << 20;
  }
  return profile;
}

// Where and how one iteration crashes; a pure function of the iteration number.
struct CrashPlan {
  uint64_t iteration = 0;
  uint64_t workload_seed = 0;
  bool at_write = true;   // CrashAtWrite(crash_write)
  bool at_flush = false;  // CrashAtFlush(crash_flush); neither: Crash() after crash_step
  uint64_t crash_write = 0;
  uint64_t crash_flush = 0;
  uint64_t flushes_total = 0;  // device flushes the whole workload makes
  uint64_t crash_step = 0;
  uint64_t writes_total = 0;  // device writes the whole workload makes
  // When not 0, recovery itself crashes at this device write of Open (or
  // right after Open if it writes less), before the recovery that is checked.
  uint64_t recovery_crash_write = 0;
  CrashDevice::CrashOptions options;

  std::string ToString() const {
    std::ostringstream out;
    out << "iteration " << iteration << " (workload seed " << workload_seed << "): ";
    if (at_write) {
      out << "crash at device write " << crash_write << " of " << writes_total;
    } else if (at_flush) {
      out << "crash during device flush " << crash_flush << " of " << flushes_total;
    } else {
      out << "crash after step " << crash_step;
    }
    out << ", keep " << options.keep_probability << " drop " << options.drop_probability
        << " crash seed " << options.seed;
    if (recovery_crash_write != 0) out << "; recovery crashes at write " << recovery_crash_write;
    return out.str();
  }
};

struct Stats {
  uint64_t iterations = 0, in_flight = 0, acknowledged_in_flight = 0, matched_before = 0;
  uint64_t matched_after = 0, matched_middle = 0, needed_byte_tolerance = 0;
  // What the journal region held at the crash (fsck before recovery).
  uint64_t journal_torn = 0, journal_needs_replay = 0;
};

// One file system on a CrashDevice over a memory device, with the model.
// Declared in the order of dependence: the file system goes first.
struct Rig {
  ManualClock clock;
  std::unique_ptr<Device> base;
  std::unique_ptr<CrashDevice> crash;
  std::unique_ptr<Device> liar;  // over `crash`, for the harness self-test
  std::unique_ptr<FileSystem> fs;

  // The device the file system runs on before the crash.
  Device* top() { return liar ? liar.get() : static_cast<Device*>(crash.get()); }
  // Applies `op`; kReopen closes the file system and opens it on `device`.
  Status Apply(const Op& op, Device* device) {
    if (op.kind != OpKind::kReopen) return ApplyToFileSystem(*fs, op);
    fs.reset();
    auto reopened = FileSystem::Open(device, {.clock = &clock});
    if (!reopened.ok()) return reopened.status();
    fs = std::move(*reopened);
    return Status::Ok();
  }
};

// A device whose Flush does nothing: a broken device (or engine) that the
// crash loop must catch. Only the harness self-test uses it.
class LyingFlushDevice : public Device {
 public:
  explicit LyingFlushDevice(Device* base) : base_(base) {}
  uint64_t size_bytes() const override { return base_->size_bytes(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return base_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    return base_->Write(offset, data);
  }
  Status Flush() override { return Status::Ok(); }
  PersistenceMode persistence_mode() const override { return base_->persistence_mode(); }
  std::string Describe() const override { return "lying-flush(" + base_->Describe() + ")"; }

 private:
  Device* base_;
};

class CrashLoop {
 public:
  // `failures`: when not null, failures are collected there instead of
  // failing the test (the harness self-test). `lying_flush`: run the file
  // system over a LyingFlushDevice.
  explicit CrashLoop(Stats* stats, std::vector<std::string>* failures = nullptr,
                     bool lying_flush = false)
      : stats_(stats), failures_(failures), lying_flush_(lying_flush) {}
  void RunIteration(uint64_t iteration);

 private:
  bool Setup(Rig& rig);
  // Runs the workload until the device crashes; returns false on a failure.
  bool RunUntilCrash(const CrashPlan& plan, Rig& rig);
  bool CrashDuringRecovery(const CrashPlan& plan, Rig& rig);
  bool CheckRecovered(const CrashPlan& plan, Rig& rig);
  bool KeepWorking(Rig& rig, const ModelFs& state);
  bool Fsck(Device* device, const char* when);
  bool Fail(const std::string& what);

  Stats* stats_;
  std::vector<std::string>* failures_;
  const bool lying_flush_;
  struct Totals {
    uint64_t writes = 0;
    uint64_t flushes = 0;
  };
  std::map<uint64_t, Totals> totals_;  // by workload seed
  Totals WorkloadTotals(uint64_t workload_seed);
  // The current iteration.
  CrashPlan plan_;
  History history_;
  std::optional<Workload> workload_;
  ModelFs model_, before_;
  // A write with a commit marker is two transactions: the state after the
  // write and before the marker is durable too.
  std::optional<ModelFs> middle_;
  std::optional<Op> in_flight_;
  bool in_flight_acknowledged_ = false;
};

bool CrashLoop::Fail(const std::string& what) {
  if (failures_ != nullptr) {
    failures_->push_back(plan_.ToString() + ": " + what);
    return false;
  }
  ADD_FAILURE() << plan_.ToString() << ": " << what
                << "\nin flight: " << (in_flight_ ? in_flight_->ToString() : "nothing")
                << (in_flight_acknowledged_ ? " (returned OK)" : "") << "\nlast operations:\n"
                << history_.Dump() << "reproduce: MDFS_CRASH_ITERATION=" << plan_.iteration
                << " ./tests/crash_test";
  return false;
}

bool CrashLoop::Fsck(Device* device, const char* when) {
  auto report = CheckFileSystem(device);
  if (!report.ok()) return Fail(std::string("fsck ") + when + ": " + report.status().ToString());
  if (std::string_view(when) == "after the crash, before recovery") {
    if (report->journal_state.find("torn") != std::string::npos) ++stats_->journal_torn;
    if (report->journal_state.find("needs replay") != std::string::npos) {
      ++stats_->journal_needs_replay;
    }
  }
  if (!report->clean()) return Fail(std::string("fsck ") + when + ": " + DescribeProblems(*report));
  return true;
}

bool CrashLoop::Setup(Rig& rig) {
  auto base = CreateMemoryDevice(kDeviceBytes);
  if (!base.ok()) return Fail("CreateMemoryDevice: " + base.status().ToString());
  rig.base = std::move(*base);
  rig.crash = std::make_unique<CrashDevice>(rig.base.get());
  Status formatted = FileSystem::Format(rig.crash.get(), {.clock = &rig.clock});
  if (!formatted.ok()) return Fail("Format: " + formatted.ToString());
  if (lying_flush_) rig.liar = std::make_unique<LyingFlushDevice>(rig.crash.get());
  auto fs = FileSystem::Open(rig.top(), {.clock = &rig.clock});
  if (!fs.ok()) return Fail("Open: " + fs.status().ToString());
  rig.fs = std::move(*fs);
  return true;
}

// Device writes and flushes of the whole workload of `workload_seed`
// without a crash (the ranges CrashAtWrite and CrashAtFlush draw from).
// Cached per seed.
CrashLoop::Totals CrashLoop::WorkloadTotals(uint64_t workload_seed) {
  auto cached = totals_.find(workload_seed);
  if (cached != totals_.end()) return cached->second;
  Rig rig;
  if (!Setup(rig)) return {};
  const uint64_t start = rig.crash->writes_seen();
  const uint64_t start_flushes = rig.crash->flushes_seen();
  Workload workload(workload_seed, ProfileFor(workload_seed));
  ModelFs model;
  for (uint64_t step = 1; step <= kSteps; ++step) {
    const Op op = workload.Next(model);
    history_.Add(step, op);
    rig.clock.AdvanceNs(1'000);
    const Outcome expected = model.Apply(op, rig.clock.NowRealtimeNs());
    const Status status = rig.Apply(op, rig.top());
    if (!expected.Accepts(status.code())) {
      Fail("calibration step " + std::to_string(step) + ": " + op.ToString() + " returned " +
           status.ToString() + ", the model expects " + CodeName(expected.code));
      return {};
    }
  }
  return totals_[workload_seed] = {rig.crash->writes_seen() - start,
                                   rig.crash->flushes_seen() - start_flushes};
}

CrashPlan MakePlan(uint64_t iteration, uint64_t first_seed) {
  std::mt19937_64 random(iteration * 0x9E3779B97F4A7C15ull + 17);
  CrashPlan plan;
  plan.iteration = iteration;
  plan.workload_seed = first_seed + iteration / kIterationsPerWorkload;
  const uint64_t mode = random() % 10;  // 2 in 10 after a step, 4 at a write, 4 in a flush
  plan.at_write = mode >= 2 && mode < 6;
  plan.at_flush = mode >= 6;
  plan.crash_step = 1 + random() % kSteps;
  static constexpr double kKeep[] = {0.0, 0.2, 0.4, 0.7, 1.0};
  plan.options.keep_probability = kKeep[random() % 5];
  const double rest = 1.0 - plan.options.keep_probability;
  static constexpr double kDropShare[] = {0.0, 0.5, 1.0};
  plan.options.drop_probability = rest * kDropShare[random() % 3];
  plan.options.seed = random();
  plan.crash_write = random();  // reduced modulo the write count once it is known
  plan.crash_flush = random();  // likewise for flushes
  if (random() % 5 == 0) plan.recovery_crash_write = 1 + random() % 12;
  return plan;
}

bool CrashLoop::RunUntilCrash(const CrashPlan& plan, Rig& rig) {
  if (plan.at_write) rig.crash->CrashAtWrite(plan.crash_write, plan.options);
  if (plan.at_flush) rig.crash->CrashAtFlush(plan.crash_flush, plan.options);
  for (uint64_t step = 1; step <= kSteps; ++step) {
    const Op op = workload_->Next(model_);
    history_.Add(step, op);
    rig.clock.AdvanceNs(1'000);
    before_ = model_;
    const Outcome expected = model_.Apply(op, rig.clock.NowRealtimeNs());
    const Status status = rig.Apply(op, rig.top());
    if (rig.crash->crashed()) {
      in_flight_ = op;
      in_flight_acknowledged_ = status.ok();
      if (op.commit_marker) {
        Op write_only = op;
        write_only.commit_marker = false;
        middle_ = before_;
        middle_->Apply(write_only, rig.clock.NowRealtimeNs());
      }
      return true;
    }
    if (!expected.Accepts(status.code())) {
      return Fail("step " + std::to_string(step) + " before the crash: " + op.ToString() +
                  " returned " + status.ToString() + ", the model expects " +
                  CodeName(expected.code));
    }
    if (!plan.at_write && !plan.at_flush && step == plan.crash_step) break;
  }
  before_ = model_;
  rig.crash->Crash(plan.options);  // after the last acknowledged step
  return true;
}

// Power fails again while Open replays the journal (or right after it).
bool CrashLoop::CrashDuringRecovery(const CrashPlan& plan, Rig& rig) {
  CrashDevice again(rig.base.get());
  CrashDevice::CrashOptions options = plan.options;
  options.seed ^= 0x5A5A5A5A;
  again.CrashAtWrite(plan.recovery_crash_write, options);
  {
    auto fs = FileSystem::Open(&again, {.clock = &rig.clock});
    if (!fs.ok() && !again.crashed())
      return Fail("Open after the crash: " + fs.status().ToString());
  }
  if (!again.crashed()) again.Crash(options);
  return Fsck(rig.base.get(), "after a crash during recovery");
}

bool CrashLoop::CheckRecovered(const CrashPlan& plan, Rig& rig) {
  if (!Fsck(rig.base.get(), "after the crash, before recovery")) return false;
  if (plan.recovery_crash_write != 0 && !CrashDuringRecovery(plan, rig)) return false;
  auto fs = FileSystem::Open(rig.base.get(), {.clock = &rig.clock});
  if (!fs.ok()) return Fail("Open after the crash: " + fs.status().ToString());
  rig.fs = std::move(*fs);
  std::optional<ByteTolerance> tolerance;
  if (in_flight_) tolerance = ToleranceFor(*in_flight_, before_, model_);
  const bool may_be_before = in_flight_ && !in_flight_acknowledged_;
  CheckOptions exact{.times = false};
  CheckOptions loose{.times = false, .tolerance = tolerance ? &*tolerance : nullptr};
  testing::AssertionResult after = CheckTree(*rig.fs, model_, exact);
  if (after) {
    ++stats_->matched_after;
    return KeepWorking(rig, model_);
  }
  testing::AssertionResult old = may_be_before ? CheckTree(*rig.fs, before_, exact)
                                               : testing::AssertionFailure() << "not allowed";
  if (old) {
    ++stats_->matched_before;
    return KeepWorking(rig, before_);
  }
  if (may_be_before && middle_ && CheckTree(*rig.fs, *middle_, exact)) {
    ++stats_->matched_middle;
    return KeepWorking(rig, *middle_);
  }
  if (tolerance &&
      (CheckTree(*rig.fs, model_, loose) || (may_be_before && CheckTree(*rig.fs, before_, loose)) ||
       (may_be_before && middle_ && CheckTree(*rig.fs, *middle_, loose)))) {
    ++stats_->needed_byte_tolerance;
    rig.fs.reset();
    return Fsck(rig.base.get(), "after recovery");
  }
  std::string middle;
  if (may_be_before && middle_)
    middle = "\n  vs. after the write, before its marker: " +
             std::string(CheckTree(*rig.fs, *middle_, exact).message());
  return Fail("recovered state matches neither side of the crash.\n  vs. after: " +
              std::string(after.message()) + "\n  vs. before: " + old.message() + middle);
}

// The recovered file system keeps working: more steps against the model,
// a clean close, fsck.
bool CrashLoop::KeepWorking(Rig& rig, const ModelFs& state) {
  model_ = state;
  for (uint64_t step = kSteps + 1; step <= kSteps + kStepsAfterRecovery; ++step) {
    const Op op = workload_->Next(model_);
    history_.Add(step, op);
    rig.clock.AdvanceNs(1'000);
    const Outcome expected = model_.Apply(op, rig.clock.NowRealtimeNs());
    const Status status = rig.Apply(op, rig.base.get());
    if (!expected.Accepts(status.code())) {
      return Fail("after recovery, step " + std::to_string(step) + ": " + op.ToString() +
                  " returned " + status.ToString() + ", the model expects " +
                  CodeName(expected.code));
    }
  }
  testing::AssertionResult tree = CheckTree(*rig.fs, model_, {.times = false});
  if (!tree) return Fail(std::string("after recovery and more steps: ") + tree.message());
  rig.fs.reset();
  return Fsck(rig.base.get(), "after recovery and more steps");
}

void CrashLoop::RunIteration(uint64_t iteration) {
  plan_ = MakePlan(iteration, EnvUint("MDFS_FIRST_SEED", 1));
  history_ = History();
  const Totals totals = WorkloadTotals(plan_.workload_seed);
  plan_.writes_total = totals.writes;
  plan_.flushes_total = totals.flushes;
  if (plan_.writes_total == 0) return;
  plan_.crash_write = 1 + plan_.crash_write % plan_.writes_total;
  if (plan_.flushes_total == 0) {
    // A device whose flushes never arrive (the self-test's liar): crash at a write.
    plan_.at_write = plan_.at_write || plan_.at_flush;
    plan_.at_flush = false;
  } else {
    plan_.crash_flush = 1 + plan_.crash_flush % plan_.flushes_total;
  }
  history_ = History();
  workload_.emplace(plan_.workload_seed, ProfileFor(plan_.workload_seed));
  model_ = ModelFs();
  before_ = ModelFs();
  middle_.reset();
  in_flight_.reset();
  in_flight_acknowledged_ = false;
  Rig rig;
  if (!Setup(rig)) return;
  if (!RunUntilCrash(plan_, rig)) return;
  ++stats_->iterations;
  if (in_flight_) ++stats_->in_flight;
  if (in_flight_ && in_flight_acknowledged_) ++stats_->acknowledged_in_flight;
  rig.fs.reset();  // the machine is off: whatever it tries now fails
  CheckRecovered(plan_, rig);
}

TEST(CrashTest, RecoveredStateIsCleanAndKeepsEveryAcknowledgedStep) {
  Stats stats;
  CrashLoop loop(&stats);
  if (std::getenv("MDFS_CRASH_ITERATION") != nullptr) {
    loop.RunIteration(EnvUint("MDFS_CRASH_ITERATION", 0));
  } else {
    const uint64_t iterations = EnvUint("MDFS_CRASH_ITERATIONS", 300);
    for (uint64_t i = 0; i < iterations && !HasFailure(); ++i) loop.RunIteration(i);
  }
  std::cout << "crash points: " << stats.iterations << " (in flight " << stats.in_flight
            << ", of which returned OK " << stats.acknowledged_in_flight << "); recovered as after "
            << stats.matched_after << ", as before " << stats.matched_before
            << ", between a write and its commit marker " << stats.matched_middle
            << ", with torn write bytes " << stats.needed_byte_tolerance
            << "; journal at the crash: torn " << stats.journal_torn << ", needing replay "
            << stats.journal_needs_replay << "\n";
}

}  // namespace
}  // namespace mdfs::test

namespace mdfs::test {
namespace {

// The loop must be able to fail: over a device that ignores Flush, crashes
// lose acknowledged steps, and the loop has to notice.
TEST(CrashTest, HarnessDetectsADeviceThatIgnoresFlush) {
  Stats stats;
  std::vector<std::string> failures;
  CrashLoop loop(&stats, &failures, /*lying_flush=*/true);
  for (uint64_t i = 0; i < 30; ++i) loop.RunIteration(i);
  EXPECT_GE(failures.size(), 10u) << "the crash loop missed lost writes";
  if (!failures.empty())
    std::cout << "example of a detected loss: " << failures[0].substr(0, 300) << "\n";
}

}  // namespace
}  // namespace mdfs::test
