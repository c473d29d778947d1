// mdfs_bench_lease: what a breaker costs when other files hold many
// layouts (issue 9: "a breaker with 100,000 layouts on other files vs with
// none: within 1.2x"). One memory device, file A with nothing on it, and
// F other files with L layouts each (shared ranges, as many holders may
// share one). The breaker is a 4 KiB PUNCH_HOLE|KEEP_SIZE of A followed by
// rewriting the block (so the next punch changes the block map again).
// Medians of the same loop before the layouts are granted and after, in one
// run; the ratio is the figure.
//
//   mdfs_bench_lease [--files F] [--layouts-per-file L] [--rounds N]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lease/leases.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"

namespace mdfs {
namespace {

class IdleHolder : public LayoutHolder {
 public:
  void OnRecall(const LayoutInfo&) override {}
  void OnRevoke(const LayoutInfo&) override {}
  std::string Describe() const override { return "bench holder"; }
};

void Check(const Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "mdfs_bench_lease: %s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

// Median microseconds of `rounds` punch+rewrite pairs on `ino`.
double MedianBreakerUs(FileSystem& fs, InodeNumber ino, int rounds) {
  std::vector<std::byte> block(kBlockSize, std::byte{7});
  std::vector<double> us;
  us.reserve(rounds);
  for (int i = 0; i < rounds; ++i) {
    auto start = std::chrono::steady_clock::now();
    Check(fs.Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, 0, kBlockSize), "punch");
    Check(fs.Write(ino, 0, block).status(), "rewrite");
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

uint64_t Flag(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

int Run(int argc, char** argv) {
  const uint64_t files = Flag(argc, argv, "--files", 1000);
  const uint64_t per_file = Flag(argc, argv, "--layouts-per-file", 100);
  const int rounds = static_cast<int>(Flag(argc, argv, "--rounds", 2000));
  auto device = CreateMemoryDevice(uint64_t{256} << 20);
  Check(device.status(), "memory device");
  Check(FileSystem::Format(device->get()), "format");
  auto fs = FileSystem::Open(device->get());
  Check(fs.status(), "open");
  auto leases = LeaseManager::Attach(fs->get());
  Check(leases.status(), "attach");
  std::vector<std::byte> block(kBlockSize, std::byte{1});
  auto a = (*fs)->Create(kRootInode, "A", S_IFREG | 0644);
  Check(a.status(), "create A");
  Check((*fs)->Write(a->ino, 0, block).status(), "write A");

  const double before = MedianBreakerUs(**fs, a->ino, rounds);
  IdleHolder holder;
  for (uint64_t f = 0; f < files; ++f) {
    auto other = (*fs)->Create(kRootInode, "f" + std::to_string(f), S_IFREG | 0644);
    Check(other.status(), "create");
    Check((*fs)->Write(other->ino, 0, block).status(), "write");
    for (uint64_t l = 0; l < per_file; ++l) {
      Check(GateOf(fs->get())->PrepareDirectAccess(
                other->ino, 0, kBlockSize, 0,
                [&](const Attributes&, const std::vector<ExtentInfo>&) -> Status {
                  return (*leases)
                      ->GrantLocked(&holder, other->ino, 0, kBlockSize, LayoutMode::kRead)
                      .status();
                }),
            "grant");
    }
  }
  const double after = MedianBreakerUs(**fs, a->ino, rounds);
  const double again = MedianBreakerUs(**fs, a->ino, rounds);
  std::printf(
      "breaker (4 KiB punch + rewrite of a file with no layouts), median of %d:\n"
      "  no layouts anywhere:                         %8.2f us\n"
      "  %llu layouts on %llu other files:          %8.2f us  (%.2fx; again %.2f us, %.2fx)\n"
      "goal: within 1.2x\n",
      rounds, before, static_cast<unsigned long long>(files * per_file),
      static_cast<unsigned long long>(files), after, after / before, again, again / before);
  (*leases)->ReleaseHolder(&holder);
  return 0;
}

}  // namespace
}  // namespace mdfs

int main(int argc, char** argv) { return mdfs::Run(argc, argv); }
