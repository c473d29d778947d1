// mdfs_bench_session: what the session layer (include/mdfs/session.h:
// permission checks, the open-file table, handle checks, break scopes)
// costs over the engine calls it makes, in one run (issue 8: "<= 1.1x for
// metadata operations and <= 1.05x for data").
//
// Three stacks, each on its own memory device (CreateMemoryDevice, behind a
// CountingDevice so the device work per operation is shown, and is the
// same in every row):
//   engine          FileSystem::Open, no listener: the baseline (*)
//   engine+leases   the same with a LeaseManager attached: what a Volume
//                   adds below the session (the block-map gate's listener)
//   session         Volume::Open, a Session of uid 1000 (not root: every
//                   permission check runs) and its File
// Operations: create + unlink (the session: Open O_CREAT|O_EXCL, close,
// Unlink), stat, 4 KiB read and 4 KiB overwrite of written blocks.
// Interleaved rounds (bench/harness.h); the ratios are the figures, the
// absolute times context. Nothing here asserts on timings.
//
//   mdfs_bench_session [--iterations N] [--section K] [--quick]
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "counting_device.h"
#include "harness.h"
#include "host_info.h"
#include "lease/leases.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/session.h"

namespace mdfs::bench {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kDataBytes = 1 * kMiB;  // reads and overwrites rotate over 256 blocks
constexpr uint64_t kDataBlocks = kDataBytes / kBlockSize;
constexpr uint64_t kDeviceBytes = 256 * kMiB;
constexpr uint32_t kUser = 1000;

struct Params {
  bool quick = false;
  uint64_t iterations = 2000;  // samples per row
  uint64_t metadata_ops_per_sample = 4;
  uint64_t data_ops_per_sample = 32;
  uint64_t warmup_samples = 50;
  int section = 0;  // 0: all; else only that one (for profiling it)
};

Params ParseArgs(int argc, char** argv) {
  Params p;
  bool iterations_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      p.quick = true;
    } else if (arg == "--iterations" && i + 1 < argc) {
      char* end = nullptr;
      p.iterations = std::strtoull(argv[++i], &end, 10);
      if (end == nullptr || *end != '\0' || p.iterations == 0) {
        Fail("bad argument", "--iterations wants a positive integer");
      }
      iterations_set = true;
    } else if (arg == "--section" && i + 1 < argc) {
      p.section = std::atoi(argv[++i]);
      if (p.section < 1 || p.section > 4) Fail("bad argument", "--section wants 1..4");
    } else {
      std::fprintf(stderr,
                   "usage: mdfs_bench_session [--iterations N] [--section 1..4] [--quick]\n");
      std::exit(arg == "--help" || arg == "-h" ? 0 : 2);
    }
  }
  if (p.quick) {
    if (!iterations_set) p.iterations = 5;
    p.metadata_ops_per_sample = 2;
    p.data_ops_per_sample = 2;
    p.warmup_samples = 1;
  }
  return p;
}

// One memory device, counted.
struct CountedDevice {
  std::unique_ptr<Device> memory;
  std::unique_ptr<CountingDevice> counting;
};

CountedDevice MakeDevice(const char* what) {
  CountedDevice d;
  auto memory = CreateMemoryDevice(kDeviceBytes);
  Check(memory.status(), std::string("CreateMemoryDevice for ") + what);
  d.memory = std::move(*memory);
  d.counting = std::make_unique<CountingDevice>(d.memory.get());
  Check(FileSystem::Format(d.counting.get()), std::string("Format for ") + what);
  return d;
}

std::vector<std::byte> Block(uint8_t seed) {
  std::vector<std::byte> block(kBlockSize);
  for (size_t i = 0; i < block.size(); ++i) block[i] = std::byte((i * 131 + seed) & 0xff);
  return block;
}

// The engine (optionally with a lease manager): /bench (0777) and
// /bench/data (1 MiB written, uid 1000), as the session stack has them.
struct EngineStack {
  CountedDevice device;
  std::unique_ptr<FileSystem> fs;
  std::unique_ptr<LeaseManager> leases;
  InodeNumber dir = 0, data = 0;

  EngineStack(const char* what, bool with_leases) : device(MakeDevice(what)) {
    auto fs_or = FileSystem::Open(device.counting.get());
    Check(fs_or.status(), std::string("FileSystem::Open for ") + what);
    fs = std::move(*fs_or);
    if (with_leases) {
      auto leases_or = LeaseManager::Attach(fs.get());
      Check(leases_or.status(), "LeaseManager::Attach");
      leases = std::move(*leases_or);
    }
    auto made = fs->Mkdir(kRootInode, "bench", 0777);
    Check(made.status(), "Mkdir /bench");
    dir = made->ino;
    auto created = fs->Create(dir, "data", 0644, kUser, kUser);
    Check(created.status(), "Create /bench/data");
    data = created->ino;
    const std::vector<std::byte> block = Block(1);
    for (uint64_t b = 0; b < kDataBlocks; ++b) {
      Check(fs->Write(data, b * kBlockSize, block).status(), "Write /bench/data");
    }
  }
  ~EngineStack() {
    leases.reset();
    fs.reset();
  }
};

// The session layer: a Volume, a root session that makes /bench, and the
// session of uid 1000 that creates /bench/data and keeps it open O_RDWR.
struct SessionStack {
  CountedDevice device = MakeDevice("the volume");
  std::unique_ptr<Volume> volume;
  std::unique_ptr<Session> root, user;
  Handle dir, data;
  std::unique_ptr<File> file;

  SessionStack() {
    auto volume_or = Volume::Open(device.counting.get());
    Check(volume_or.status(), "Volume::Open");
    volume = std::move(*volume_or);
    root = Must(volume->OpenSession(Credentials{0, 0, {}, 0}), "OpenSession root");
    user = Must(volume->OpenSession(Credentials{kUser, kUser, {}, 0}), "OpenSession uid 1000");
    auto made = root->Mkdir(root->root(), "bench", 0777);
    Check(made.status(), "Session::Mkdir /bench");
    dir = Handle::Of(*made);
    file = Must(user->Open(dir, "data", O_RDWR | O_CREAT | O_EXCL, 0644), "Session::Open data");
    data = file->handle();
    const std::vector<std::byte> block = Block(1);
    for (uint64_t b = 0; b < kDataBlocks; ++b) {
      Check(file->Write(b * kBlockSize, block).status(), "File::Write /bench/data");
    }
  }
  ~SessionStack() {
    file.reset();
    user.reset();
    root.reset();
    volume.reset();
  }

  template <typename T>
  static std::unique_ptr<T> Must(Result<std::unique_ptr<T>> result, const char* what) {
    Check(result.status(), what);
    return std::move(*result);
  }
};

void PrintContext(const Params& p, Device& device) {
  utsname u{};
  uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::printf("# mdfs_bench_session\n");
  std::printf("date:        %s\n", date);
  std::printf("machine:     %s, nproc %ld, %s\n", u.machine, sysconf(_SC_NPROCESSORS_ONLN),
              FirstLineWith("/proc/cpuinfo", "model name").c_str());
  std::printf("kernel:      %s %s\n", u.sysname, u.release);
  std::printf("load:        %s (1/5/15 min load average at start; the machine is shared)\n",
              LoadAverage().c_str());
  std::printf("compiler:    g++ %s%s\n", __VERSION__,
#ifdef NDEBUG
              ", NDEBUG"
#else
              ", assertions ON (not a Release build)"
#endif
  );
  std::printf("devices:     3 x %s (one per stack), persistence %s\n", device.Describe().c_str(),
              PersistenceModeName(device.persistence_mode()));
  std::printf("session:     uid %u gid %u (not root: every permission check runs)\n", kUser, kUser);
  std::printf("counts:      %" PRIu64 " samples per row%s\n", p.iterations,
              p.quick ? " (--quick: figures are not meaningful)" : "");
  std::printf(
      "legend:      * = baseline (the engine alone); med/base, p99/base = that row's time / the "
      "baseline's (> 1 slower); flush/op, devKiB/op: device work per operation, counted\n");
  std::fflush(stdout);
}

struct Goal {
  std::string what;
  double ratio = 0;  // session median / engine median
  double goal = 0;
};

class Bench {
 public:
  explicit Bench(const Params& p)
      : p_(p), engine_("the engine", false), leased_("engine+leases", true) {}

  void Run() {
    PrintContext(p_, *session_.device.memory);
    if (p_.section == 0 || p_.section == 1) CreateUnlink();
    if (p_.section == 0 || p_.section == 2) Stat();
    if (p_.section == 0 || p_.section == 3) Read();
    if (p_.section == 0 || p_.section == 4) Overwrite();
    PrintGoals();
  }

 private:
  RunOptions Options(uint64_t ops_per_sample) const {
    return {.warmup_ops = p_.warmup_samples * ops_per_sample,
            .samples = p_.iterations,
            .batch = 10,
            .ops_per_sample = ops_per_sample};
  }

  // Counts device work per row; the session row is the last one.
  void Count(Section& s) {
    s.variants[0].counts = [this] { return engine_.device.counting->counts(); };
    s.variants[1].counts = [this] { return leased_.device.counting->counts(); };
    for (size_t i = 2; i < s.variants.size(); ++i) {
      s.variants[i].counts = [this] { return session_.device.counting->counts(); };
    }
    s.extra_ratios = {{2, 1}};
  }

  void Record(const char* what, const std::vector<Summary>& rows, size_t session_row, double goal) {
    goals_.push_back({what, rows[session_row].median_ns / rows[0].median_ns, goal});
  }

  static Variant EngineCreateUnlink(const char* name, EngineStack& stack) {
    return {name, [&stack](uint64_t) {
              Check(stack.fs->Create(stack.dir, "f", 0644, kUser, kUser).status(), "Create");
              Check(stack.fs->Unlink(stack.dir, "f"), "Unlink");
            }};
  }

  void CreateUnlink() {
    Section s;
    s.title = "1. create + unlink (one op = one pair, each durable at return)";
    s.note =
        "engine: Create + Unlink; session: Open(O_WRONLY|O_CREAT|O_EXCL) + close + Unlink "
        "(the name looked up, write+search checked on the directory, an open reference)";
    s.variants = {EngineCreateUnlink("engine Create+Unlink", engine_),
                  EngineCreateUnlink("engine+leases Create+Unlink", leased_),
                  {"session Open(O_CREAT)+close+Unlink", [this](uint64_t) {
                     auto file =
                         session_.user->Open(session_.dir, "f", O_WRONLY | O_CREAT | O_EXCL, 0644);
                     Check(file.status(), "Session::Open O_CREAT");
                     file->reset();
                     Check(session_.user->Unlink(session_.dir, "f"), "Session::Unlink");
                   }}};
    s.options = Options(p_.metadata_ops_per_sample);
    Count(s);
    Record("create+unlink", RunAndPrint(s), 2, 1.10);
  }

  void Stat() {
    Section s;
    s.title = "2. stat of a file";
    s.note =
        "engine: GetAttributes(ino); session: GetAttributes(handle) (generation checked), "
        "File::Stat (an open file: no handle check)";
    auto engine_stat = [](const char* name, EngineStack& stack) -> Variant {
      return {name, [&stack](uint64_t) {
                Check(stack.fs->GetAttributes(stack.data).status(), "GetAttributes");
              }};
    };
    s.variants = {engine_stat("engine GetAttributes", engine_),
                  engine_stat("engine+leases GetAttributes", leased_),
                  {"session GetAttributes(handle)",
                   [this](uint64_t) {
                     Check(session_.user->GetAttributes(session_.data).status(),
                           "Session::GetAttributes");
                   }},
                  {"session File::Stat",
                   [this](uint64_t) { Check(session_.file->Stat().status(), "File::Stat"); }}};
    s.options = Options(p_.data_ops_per_sample);
    Count(s);
    std::vector<Summary> rows = RunAndPrint(s);
    Record("stat (Session::GetAttributes)", rows, 2, 1.10);
    Record("stat (File::Stat)", rows, 3, 1.10);
  }

  void Read() {
    Section s;
    s.title = "3. 4 KiB read of written blocks";
    s.note = "engine: Read(ino); session: File::Read (open O_RDWR); blocks rotate over 1 MiB";
    auto engine_read = [this](const char* name, EngineStack& stack) -> Variant {
      return {name,
              [this, &stack](uint64_t i) {
                auto n = stack.fs->Read(stack.data, (i % kDataBlocks) * kBlockSize, buffer_);
                Check(n.status(), "Read");
              },
              kBlockSize};
    };
    s.variants = {engine_read("engine Read", engine_),
                  engine_read("engine+leases Read", leased_),
                  {"session File::Read",
                   [this](uint64_t i) {
                     auto n = session_.file->Read((i % kDataBlocks) * kBlockSize, buffer_);
                     Check(n.status(), "File::Read");
                   },
                   kBlockSize}};
    s.options = Options(p_.data_ops_per_sample);
    Count(s);
    Record("4 KiB read", RunAndPrint(s), 2, 1.05);
  }

  void Overwrite() {
    Section s;
    s.title = "4. 4 KiB overwrite of written blocks (no fsync)";
    s.note =
        "engine: Write(ino); session: File::Write (open O_RDWR; the setuid/setgid check of a "
        "non-root write included)";
    auto engine_write = [this](const char* name, EngineStack& stack) -> Variant {
      return {name,
              [this, &stack](uint64_t i) {
                Check(stack.fs->Write(stack.data, (i % kDataBlocks) * kBlockSize, block_).status(),
                      "Write");
              },
              kBlockSize};
    };
    s.variants = {engine_write("engine Write", engine_),
                  engine_write("engine+leases Write", leased_),
                  {"session File::Write",
                   [this](uint64_t i) {
                     auto n = session_.file->Write((i % kDataBlocks) * kBlockSize, block_);
                     Check(n.status(), "File::Write");
                   },
                   kBlockSize}};
    s.options = Options(p_.data_ops_per_sample);
    Count(s);
    Record("4 KiB overwrite", RunAndPrint(s), 2, 1.05);
  }

  void PrintGoals() const {
    std::printf("\n## Session / engine, medians of this run, against issue 8's goals\n");
    std::printf("%-32s %8s %8s  %s\n", "operation", "ratio", "goal", "");
    for (const Goal& g : goals_) {
      std::printf("%-32s %7.3fx %7.2fx  %s\n", g.what.c_str(), g.ratio, g.goal,
                  p_.quick ? "(--quick: not meaningful)"
                           : (g.ratio <= g.goal ? "within" : "ABOVE the goal"));
    }
    std::fflush(stdout);
  }

  const Params p_;
  EngineStack engine_;
  EngineStack leased_;
  SessionStack session_;
  std::vector<std::byte> block_ = Block(2);
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kBlockSize);
  std::vector<Goal> goals_;
};

}  // namespace
}  // namespace mdfs::bench

int main(int argc, char** argv) {
  mdfs::bench::Params p = mdfs::bench::ParseArgs(argc, argv);
  mdfs::bench::Bench(p).Run();
  return 0;
}
