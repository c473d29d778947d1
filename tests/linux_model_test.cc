// Checks the oracle against the kernel: the randomized workload runs on a
// real directory (ext4 or xfs under $TMPDIR, which support every fallocate
// mode) and on ModelFs, comparing return codes, bytes read and the tree. A
// disagreement here is a model bug, not an mdfs bug. Skipped when the
// directory's file system lacks COLLAPSE_RANGE. Steps whose paths pass
// through a symlink are skipped (Linux follows it; mdfs's paths do not).
//
// Knobs: MDFS_ORACLE_SEEDS (default 3), MDFS_ORACLE_STEPS (default 1500),
// MDFS_FIRST_SEED, MDFS_SEED.
#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "model/history.h"
#include "model/linux_oracle.h"
#include "model/test_env.h"
#include "model/workload.h"

namespace mdfs::test {
namespace {

std::string MakeTempDirectory() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mdfs-oracle-XXXXXX";
  return mkdtemp(pattern.data()) ? pattern : "";
}

void RemoveTree(const std::string& path) {
  nftw(
      path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return remove(p); },
      16, FTW_DEPTH | FTW_PHYS);
}

bool SupportsCollapse(const std::string& dir) {
  const std::string path = dir + "/probe";
  const int fd = open(path.c_str(), O_CREAT | O_RDWR, 0600);
  const bool ok = fd >= 0 && ftruncate(fd, 3 * 4096) == 0 &&
                  fallocate(fd, kFallocateCollapseRange, 0, 4096) == 0;
  if (fd >= 0) close(fd);
  unlink(path.c_str());
  return ok;
}

void RunSeed(const std::string& root, uint64_t seed, uint64_t steps) {
  ModelFs model;
  WorkloadProfile profile = WorkloadProfile::Everything();
  profile.weights[static_cast<int>(OpKind::kReopen)] = 0;
  Workload workload(seed, profile);
  History history;
  for (uint64_t step = 1; step <= steps; ++step) {
    const Op op = workload.Next(model);
    if (CrossesSymlink(model, op)) continue;
    history.Add(step, op);
    std::vector<std::byte> expected_read, actual_read;
    const Outcome expected = model.Apply(op, 0, &expected_read);
    const Status actual = ApplyToLinux(root, op, &actual_read);
    testing::AssertionResult result = testing::AssertionSuccess();
    // The model's first answer is Linux's; its alternative is what another
    // file system may answer, except for fallocate, where it is the answer
    // of other Linux versions.
    const bool accepted = actual.code() == expected.code ||
                          (op.kind == OpKind::kFallocate && expected.Accepts(actual.code()));
    if (!accepted) {
      result = testing::AssertionFailure()
               << op.ToString() << ": Linux says " << (actual.ok() ? "OK" : actual.ToString())
               << ", the model " << CodeName(expected.code);
    } else if (actual_read != expected_read) {
      result = testing::AssertionFailure() << op.ToString() << ": Linux read other bytes";
    } else if (step % 50 == 0 || step == steps) {
      result = CheckLinuxTree(root, model);
    }
    if (!result) {
      ADD_FAILURE() << "seed " << seed << " step " << step << ": " << result.message()
                    << "\nlast operations:\n"
                    << history.Dump();
      return;
    }
  }
}

TEST(LinuxModelTest, ModelAgreesWithTheKernel) {
  const std::string dir = MakeTempDirectory();
  ASSERT_FALSE(dir.empty());
  if (!SupportsCollapse(dir)) {
    RemoveTree(dir);
    GTEST_SKIP() << dir << " does not support FALLOC_FL_COLLAPSE_RANGE";
  }
  const mode_t old_umask = umask(0);
  const uint64_t steps = EnvUint("MDFS_ORACLE_STEPS", 1500);
  for (uint64_t seed : SeedsToRun(EnvUint("MDFS_ORACLE_SEEDS", 3))) {
    const std::string root = dir + "/" + std::to_string(seed);
    ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
    RunSeed(root, seed, steps);
    if (HasFailure()) break;
  }
  umask(old_umask);
  RemoveTree(dir);
}

}  // namespace
}  // namespace mdfs::test
