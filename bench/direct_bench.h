// mdfs_bench_direct: what the sections share. The four measurements
// (doc/benchmarks.md, "MAP_DIRECT, persist and recall") live in one file
// each: direct_persist.cc (1), direct_bandwidth.cc (2), direct_recall.cc (3)
// and direct_map.cc (4); direct_bench.cc parses the options, prints the
// machine and runs them.
#ifndef MDFS_BENCH_DIRECT_BENCH_H_
#define MDFS_BENCH_DIRECT_BENCH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "direct_host.h"

#include "direct_mdfs.h"

namespace mdfs::bench::direct {

struct Params {
  std::string dir;
  bool quick = false;
  uint64_t iterations = 500;          // samples of each latency row
  uint64_t bandwidth_mib = 256;       // size of the mapped file copied in tables 2
  uint64_t bandwidth_passes = 20;     // timed passes over it
  uint64_t map_big_mib = 1024;        // the largest range of tables 4
  uint64_t allocate_big_samples = 5;  // samples of the allocate rows at that size
  std::vector<int> holders = {1, 8};  // tables 3
  std::string image_device = "file";  // "file" (OpenFileDevice) or "mapped" (OpenMappedDevice)
  std::string image;                  // an existing device or file to format instead (--image)
  std::string sections = "1234";      // which measurements to run
};

// One line of the summary printed at the end.
struct Headline {
  std::string what;   // "64 B update, mdfs Persist (image) / ext4 pwrite+fdatasync"
  std::string ratio;  // "1.02x (median)"
};

struct Env {
  Params p;
  std::string base;  // path prefix for everything created in p.dir
  std::string host;  // type of the file system holding p.dir: "ext4"
  std::vector<Headline> headlines;
  std::unique_ptr<MdfsTarget> image;   // mdfs on an image file in p.dir
  std::unique_ptr<MdfsTarget> memory;  // mdfs on CreateMemoryDevice
  std::string H(const char* rest) const { return host + " " + rest; }
  void AddHeadline(std::string what, std::string ratio) {
    headlines.push_back({std::move(what), std::move(ratio)});
  }
};

void RunPersist(Env& env);    // 1: durable 64 B / 4 KiB updates
void RunBandwidth(Env& env);  // 2: mapped sequential read / write
void RunRecall(Env& env);     // 3: recall round trip vs the kernel's lease break
void RunMapCost(Env& env);    // 4: map_direct + unmap; allocate + zero

}  // namespace mdfs::bench::direct

#endif  // MDFS_BENCH_DIRECT_BENCH_H_
