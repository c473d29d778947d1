// mdfs_bench_direct: MAP_DIRECT, persist and recall, side by side with the
// kernel, ext4 and PMDK in one run (doc/benchmarks.md, "MAP_DIRECT, persist
// and recall"):
//
//   1. durable 64 B / 4 KiB updates: MAP_DIRECT store + Persist vs pwrite +
//      fdatasync, mmap + msync, and PMDK pmem_persist on the same memory;
//   2. mapped sequential read / write bandwidth vs memcpy on the same memory;
//   3. recall round trip of 1 and 8 holders vs the kernel's lease break;
//   4. map_direct + unmap cost, and the first-time allocate + zero cost.
//
// Every table has a baseline row (marked *) measured in the same run,
// interleaved with the rows compared to it: the ratios are the result, the
// absolute figures are context (bench/direct_table.h). A summary of the
// headline ratios ends the output.
//
//   mdfs_bench_direct [--dir DIR] [--iterations N] [--bandwidth-mib M]
//                     [--bandwidth-passes P] [--map-big-mib M] [--holders 1,8]
//                     [--image-device file|mapped] [--sections 1234] [--quick]
#include "direct_bench.h"

#include <libpmem.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "direct_table.h"

#include "device/cache_flush.h"

#ifndef MDFS_BENCH_PMEM_VERSION
#define MDFS_BENCH_PMEM_VERSION "?"
#endif

#ifndef MDFS_BENCH_DEFAULT_DIR
#define MDFS_BENCH_DEFAULT_DIR "."
#endif

namespace mdfs::bench::direct {
namespace {

[[noreturn]] void Usage(int code) {
  std::printf(
      "usage: mdfs_bench_direct [options]\n"
      "  --dir DIR              where the image and the host files are created\n"
      "                         (default: %s)\n"
      "  --iterations N         samples per latency row (default 500)\n"
      "  --bandwidth-mib M      size of the mapped file of tables 2 (default 256)\n"
      "  --bandwidth-passes P   timed passes over it (default 20)\n"
      "  --map-big-mib M        largest range of tables 4 (default 1024)\n"
      "  --holders LIST         holder counts of tables 3 (default 1,8)\n"
      "  --image-device KIND    mdfs image device: file (OpenFileDevice, default) or mapped\n"
      "                         (OpenMappedDevice)\n"
      "  --image PATH           format this existing device or file for the mdfs image\n"
      "                         instead (e.g. /dev/dax0.0; ITS CONTENTS ARE LOST); host\n"
      "                         rows stay in --dir\n"
      "  --sections LIST        which measurements, e.g. 13 (default 1234: persist,\n"
      "                         bandwidth, recall, map cost)\n"
      "  --quick                tiny sizes and counts (smoke test: checks that it runs)\n",
      MDFS_BENCH_DEFAULT_DIR);
  std::exit(code);
}

uint64_t ParseCount(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0) {
    Fail("bad argument", flag + " wants a positive integer, got \"" + text + "\"");
  }
  return v;
}

Params ParseArgs(int argc, char** argv) {
  Params p;
  p.dir = MDFS_BENCH_DEFAULT_DIR;
  bool set_iterations = false, set_bandwidth = false, set_passes = false, set_big = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Fail("bad argument", arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dir") {
      p.dir = value();
    } else if (arg == "--iterations") {
      p.iterations = ParseCount(arg, value());
      set_iterations = true;
    } else if (arg == "--bandwidth-mib") {
      p.bandwidth_mib = ParseCount(arg, value());
      set_bandwidth = true;
    } else if (arg == "--bandwidth-passes") {
      p.bandwidth_passes = ParseCount(arg, value());
      set_passes = true;
    } else if (arg == "--map-big-mib") {
      p.map_big_mib = ParseCount(arg, value());
      set_big = true;
    } else if (arg == "--holders") {
      p.holders.clear();
      std::stringstream list(value());
      std::string item;
      while (std::getline(list, item, ',')) {
        p.holders.push_back(
            static_cast<int>(std::min<uint64_t>(ParseCount(arg, item.c_str()), 64)));
      }
      if (p.holders.empty()) Fail("bad argument", "--holders wants a list like 1,8");
    } else if (arg == "--image-device") {
      p.image_device = value();
      if (p.image_device != "file" && p.image_device != "mapped") {
        Fail("bad argument", "--image-device is file or mapped");
      }
    } else if (arg == "--image") {
      p.image = value();
    } else if (arg == "--sections") {
      p.sections = value();
      if (p.sections.empty() || p.sections.find_first_not_of("1234") != std::string::npos) {
        Fail("bad argument", "--sections wants digits 1-4, e.g. 13");
      }
    } else if (arg == "--quick") {
      p.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage(0);
    } else {
      std::fprintf(stderr, "mdfs_bench_direct: unknown argument %s\n", arg.c_str());
      Usage(2);
    }
  }
  if (p.quick) {
    if (!set_iterations) p.iterations = 5;
    if (!set_bandwidth) p.bandwidth_mib = 16;
    if (!set_passes) p.bandwidth_passes = 1;
    if (!set_big) p.map_big_mib = 8;
    p.allocate_big_samples = 2;
  }
  return p;
}

void PrintContext(const Env& env) {
  const Params& p = env.p;
  utsname u{};
  uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::printf("# mdfs_bench_direct\n");
  std::printf("date:        %s\n", date);
  std::printf("machine:     %s, nproc %ld, %s, MemTotal %s\n", u.machine,
              sysconf(_SC_NPROCESSORS_ONLN), FirstLineWith("/proc/cpuinfo", "model name").c_str(),
              FirstLineWith("/proc/meminfo", "MemTotal").c_str());
  std::printf("cpu flush:   %s (cpuinfo flags)", CacheFlushFlags().c_str());
  std::printf("; mdfs uses %s", device_internal::CacheFlushInstructionName(
                                    device_internal::BestCacheFlushInstruction()));
  std::printf("\n");
  std::printf("kernel:      %s %s; /proc/sys/fs/lease-break-time %s s\n", u.sysname, u.release,
              ReadFirstLine("/proc/sys/fs/lease-break-time").c_str());
  std::printf("load:        %s (1/5/15 min load average at start; the machine is shared)\n",
              LoadAverage().c_str());
  std::printf("compiler:    g++ %s%s; PMDK libpmem %s (API %d.%d)\n", __VERSION__,
#ifdef NDEBUG
              ", NDEBUG",
#else
              ", assertions ON (not a Release build)",
#endif
              MDFS_BENCH_PMEM_VERSION, PMEM_MAJOR_VERSION, PMEM_MINOR_VERSION);
  std::printf("dir:         %s (%s)\n", p.dir.c_str(), MountOf(p.dir).c_str());
  std::printf("mdfs:        image: %s\n", env.image->describe.c_str());
  std::printf("             memory: %s\n", env.memory->describe.c_str());
  if (env.image->device->persistence_mode() == PersistenceMode::kCpuCache) {
    std::printf(
        "persistence: the image is persistent memory (cpu-cache: device-dax, or fs-dax\n"
        "             with MAP_SYNC): a cache-line flush + fence of its mapping is durable;\n"
        "             on the memory device nothing is. The durability column says which.\n");
  } else {
    std::printf(
        "persistence: no persistent memory here (no MAP_SYNC, no device-dax): a cache-line\n"
        "             flush (pmem_persist, mdfs's cpu-cache path) of DRAM or of the page\n"
        "             cache makes NOTHING durable; only fdatasync / msync rows on the disk\n"
        "             are durable. The durability column says which is which.\n");
  }
  std::printf("counts:      iterations %" PRIu64 ", bandwidth %" PRIu64 " MiB x %" PRIu64
              " passes, big map %" PRIu64 " MiB%s\n",
              p.iterations, p.bandwidth_mib, p.bandwidth_passes, p.map_big_mib,
              p.quick ? " (--quick: figures are not meaningful)" : "");
  std::printf(
      "legend:      * = baseline; med/base, p99/base = the row's time per op / the\n"
      "             baseline's (> 1 slower); op/smp = ops timed together per sample;\n"
      "             rate from the median; p99 only with >= 50 samples.\n");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  const int64_t started = NowNs();
  Env env;
  env.p = ParseArgs(argc, argv);
  const Params& p = env.p;
  struct stat st {};
  if (stat(p.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    Fail("--dir", p.dir + " is not a directory");
  }
  env.base = p.dir + "/mdfs_bench_direct." + std::to_string(getpid());
  InstallCleanup();
  {
    std::string mount = MountOf(p.dir);
    env.host = mount == "?" ? "host" : mount.substr(0, mount.find(' '));
  }
  // Room for what the sections write, with slack for metadata and the journal.
  const uint64_t big = p.map_big_mib * kMiB, bandwidth = p.bandwidth_mib * kMiB;
  const uint64_t image_data = big + bandwidth + 16 * kMiB;
  const uint64_t memory_data = 2 * big + bandwidth + 32 * kMiB;
  auto device_size = [](uint64_t data) {
    const uint64_t want = data + data / 4 + 64 * kMiB;
    return (want + 64 * kMiB - 1) / (64 * kMiB) * (64 * kMiB);
  };
  env.image = p.image.empty()
                  ? OpenImageTarget(env.base + ".img", device_size(image_data), p.image_device)
                  : OpenExistingTarget(p.image, p.image_device);
  env.memory = OpenMemoryTarget(device_size(memory_data));
  PrintContext(env);

  auto wanted = [&](char section) { return p.sections.find(section) != std::string::npos; };
  if (wanted('1')) RunPersist(env);
  if (wanted('2')) RunBandwidth(env);
  if (wanted('3')) RunRecall(env);
  if (wanted('4')) RunMapCost(env);

  std::printf("\n## Summary (ratios of medians from the tables above; > 1 = slower)\n");
  size_t width = 0;
  for (const Headline& h : env.headlines) width = std::max(width, h.what.size());
  for (const Headline& h : env.headlines) {
    std::printf("%-*s  %s\n", static_cast<int>(width), h.what.c_str(), h.ratio.c_str());
  }
  std::printf("\ndone in %.1f s, load %s at the end\n",
              static_cast<double>(NowNs() - started) / 1e9, LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace mdfs::bench::direct

int main(int argc, char** argv) { return mdfs::bench::direct::Main(argc, argv); }
