// mdfs_bench_engine: the engine's data and metadata paths, side by side with
// the host file system (ext4 here) and with plain memory, in one run.
//
// Every table has a baseline row (marked *) measured in the same run,
// interleaved with the rows compared to it; the ratios are the result, the
// absolute figures are context. See doc/benchmarks.md for a measured run and
// what each ratio does and does not show.
//
//   mdfs_bench_engine [--dir DIR] [--iterations N] [--read-mib M] [--quick]
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "counting_device.h"
#include "harness.h"
#include "host_info.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"

#ifndef MDFS_BENCH_DEFAULT_DIR
#define MDFS_BENCH_DEFAULT_DIR "."
#endif

namespace mdfs::bench {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kOverwriteRegion = 1 * kMiB;  // overwrites rotate over 256 blocks
constexpr uint64_t kOverwriteBlocks = kOverwriteRegion / kBlockSize;
constexpr uint64_t kSmallUpdate = 64;
constexpr uint64_t kSmallUpdateInBlock = 128;  // byte offset of a 64 B update in its block

// ---------------------------------------------------------------- options

struct Params {
  std::string dir = MDFS_BENCH_DEFAULT_DIR;
  bool quick = false;
  uint64_t iterations = 500;  // samples of each latency-bound variant
  uint64_t read_mib = 256;    // size of the file read sequentially

  // Derived in Derive().
  uint64_t warmup = 0;
  uint64_t append_1m_samples = 0;
  uint64_t meta_samples = 0;
  uint64_t read_passes = 0;
  uint64_t mem_ops_per_sample = 0;
};

void Usage(int code) {
  std::printf(
      "usage: mdfs_bench_engine [--dir DIR] [--iterations N] [--read-mib M] [--quick]\n"
      "  --dir DIR        where the image and the baseline files are created\n"
      "                   (default: %s)\n"
      "  --iterations N   timed samples per latency-bound variant (default 500);\n"
      "                   1 MiB appends use N/10, create+unlink N/2\n"
      "  --read-mib M     size of the sequentially read file (default 256)\n"
      "  --quick          tiny counts (smoke test: checks the harness, not timings)\n",
      MDFS_BENCH_DEFAULT_DIR);
  std::exit(code);
}

uint64_t ParseCount(const char* flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0) {
    Fail("bad argument", std::string(flag) + " wants a positive integer, got \"" + text + "\"");
  }
  return v;
}

Params ParseArgs(int argc, char** argv) {
  Params p;
  bool iterations_set = false, read_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Fail("bad argument", arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dir") {
      p.dir = value();
    } else if (arg == "--iterations") {
      p.iterations = ParseCount("--iterations", value());
      iterations_set = true;
    } else if (arg == "--read-mib") {
      p.read_mib = ParseCount("--read-mib", value());
      read_set = true;
    } else if (arg == "--quick") {
      p.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage(0);
    } else {
      std::fprintf(stderr, "mdfs_bench_engine: unknown argument %s\n", arg.c_str());
      Usage(2);
    }
  }
  if (p.quick) {
    if (!iterations_set) p.iterations = 5;
    if (!read_set) p.read_mib = 8;
  }
  p.warmup = p.quick ? 1 : std::max<uint64_t>(p.iterations / 20, 5);
  p.append_1m_samples = std::max<uint64_t>(p.iterations / 10, 3);
  p.meta_samples = std::max<uint64_t>(p.iterations / 2, 3);
  p.read_passes = p.quick ? 1 : 3;
  p.mem_ops_per_sample = p.quick ? 2 : 16;
  return p;
}

// ---------------------------------------------------------------- helpers

// Files created by the run; removed at exit (also after a Fail).
std::vector<std::string>& Cleanup() {
  static std::vector<std::string> paths;
  return paths;
}
void RemoveCreated() {
  auto& paths = Cleanup();
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    if (unlink(it->c_str()) != 0) rmdir(it->c_str());
  }
  paths.clear();
}

// A buffer of `size` bytes of a fixed non-zero pattern, page aligned.
struct Buffer {
  explicit Buffer(size_t size) : size(size) {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, size) != 0) Fail("posix_memalign", std::to_string(size));
    data = static_cast<std::byte*>(p);
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  // Makes each write differ from the last (first 8 bytes = i).
  std::span<const std::byte> Stamped(uint64_t i, size_t length) {
    std::memcpy(data, &i, std::min<size_t>(sizeof i, length));
    return {data, length};
  }
  std::byte* data = nullptr;
  size_t size = 0;
};

void PwriteAll(int fd, const std::byte* data, size_t length, uint64_t offset, const char* what) {
  while (length > 0) {
    ssize_t n = pwrite(fd, data, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    CheckErrno(n > 0, what);
    data += n;
    length -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

void PreadAll(int fd, std::byte* data, size_t length, uint64_t offset, const char* what) {
  while (length > 0) {
    ssize_t n = pread(fd, data, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    CheckErrno(n > 0, what);
    data += n;
    length -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

void Fdatasync(int fd, const char* what) {
  int rc;
  do {
    rc = fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  CheckErrno(rc == 0, what);
}

void Fsync(int fd, const char* what) {
  int rc;
  do {
    rc = fsync(fd);
  } while (rc != 0 && errno == EINTR);
  CheckErrno(rc == 0, what);
}

// A plain file in the host file system, written in full and made durable,
// so later pwrites are overwrites of allocated blocks.
int CreatePlainFile(const std::string& path, uint64_t size, Buffer& pattern) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CheckErrno(fd >= 0, "open " + path);
  Cleanup().push_back(path);
  for (uint64_t off = 0; off < size; off += pattern.size) {
    PwriteAll(fd, pattern.data, std::min<uint64_t>(pattern.size, size - off), off, "pwrite");
  }
  Fsync(fd, "fsync");
  return fd;
}

// An mdfs file of `size` bytes, written (allocating, durable) in 1 MiB writes.
InodeNumber CreateMdfsFile(FileSystem& fs, const std::string& name, uint64_t size,
                           Buffer& pattern) {
  auto attributes = fs.Create(kRootInode, name, 0644);
  Check(attributes.status(), "mdfs Create " + name);
  InodeNumber ino = attributes->ino;
  for (uint64_t off = 0; off < size; off += pattern.size) {
    size_t length = static_cast<size_t>(std::min<uint64_t>(pattern.size, size - off));
    auto written = fs.Write(ino, off, {pattern.data, length});
    Check(written.status(), "mdfs Write " + name);
  }
  return ino;
}

// A memfd of `size` bytes mapped shared; `touch` faults every page in first.
struct Memfd {
  Memfd(uint64_t size, bool touch) : size(size) {
    fd = memfd_create("mdfs-bench", MFD_CLOEXEC);
    CheckErrno(fd >= 0, "memfd_create");
    CheckErrno(ftruncate(fd, static_cast<off_t>(size)) == 0, "ftruncate memfd");
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CheckErrno(p != MAP_FAILED, "mmap memfd");
    base = static_cast<std::byte*>(p);
    if (touch) std::memset(base, 0x5a, size);
  }
  ~Memfd() {
    munmap(base, size);
    close(fd);
  }
  int fd = -1;
  std::byte* base = nullptr;
  uint64_t size = 0;
};

// Device ranges that hold file bytes [offset, offset+length), from GetExtents.
struct DeviceRange {
  uint64_t device_offset, length;
};
std::vector<std::vector<DeviceRange>> ChunkRanges(FileSystem& fs, InodeNumber ino, uint64_t size,
                                                  uint64_t chunk, size_t* extent_count) {
  auto extents = fs.GetExtents(ino, 0, size);
  Check(extents.status(), "mdfs GetExtents");
  *extent_count = extents->size();
  std::vector<std::vector<DeviceRange>> chunks(size / chunk);
  for (uint64_t c = 0; c < chunks.size(); ++c) {
    uint64_t begin = c * chunk, end = begin + chunk;
    for (const ExtentInfo& e : *extents) {
      if (e.flags & kExtentUnwritten) Fail("read setup", "unexpected unwritten extent");
      uint64_t lo = std::max(begin, e.file_offset), hi = std::min(end, e.file_offset + e.length);
      if (lo < hi) chunks[c].push_back({e.device_offset + (lo - e.file_offset), hi - lo});
    }
    uint64_t covered = 0;
    for (const DeviceRange& r : chunks[c]) covered += r.length;
    if (covered != chunk) Fail("read setup", "extents do not cover chunk " + std::to_string(c));
  }
  return chunks;
}

// ---------------------------------------------------------------- context

// The type of the file system holding --dir ("ext4"): the label of the host rows.
std::string& Host() {
  static std::string host = "host";
  return host;
}
std::string H(const char* rest) { return Host() + " " + rest; }

void PrintContext(const Params& p, const std::string& image_path, Device& file_device,
                  Device& memory_device, uint64_t image_bytes) {
  utsname u{};
  uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::printf("# mdfs_bench_engine\n");
  std::printf("date:        %s\n", date);
  std::printf("machine:     %s, nproc %ld, %s, MemTotal %s\n", u.machine,
              sysconf(_SC_NPROCESSORS_ONLN), FirstLineWith("/proc/cpuinfo", "model name").c_str(),
              FirstLineWith("/proc/meminfo", "MemTotal").c_str());
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
  std::printf("dir:         %s (%s)\n", p.dir.c_str(), MountOf(p.dir).c_str());
  std::printf("host rows:   \"%s ...\" rows use plain files in that directory\n", Host().c_str());
  std::printf("image:       %s, %" PRIu64 " MiB\n", image_path.c_str(), image_bytes / kMiB);
  std::printf("devices:     mdfs on %s: persistence %s\n", file_device.Describe().c_str(),
              PersistenceModeName(file_device.persistence_mode()));
  std::printf("             mdfs on %s: persistence %s\n", memory_device.Describe().c_str(),
              PersistenceModeName(memory_device.persistence_mode()));
  std::printf("counts:      iterations %" PRIu64 ", read file %" PRIu64 " MiB%s\n", p.iterations,
              p.read_mib, p.quick ? " (--quick: figures are not meaningful)" : "");
  std::printf(
      "caveat:      file-device figures are dominated by the virtual disk's flush latency "
      "(fdatasync/msync); compare the ratios, not the absolute times, and only within this run.\n");
  std::printf(
      "legend:      * = baseline; med/base, p99/base = that row's time / the baseline's "
      "(> 1 slower, < 1 faster); rate is from the mean.\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------- sections

struct Env {
  Params p;
  std::string base;              // path prefix for everything created in p.dir
  FileSystem* fs = nullptr;      // on the file device
  FileSystem* mem_fs = nullptr;  // on the memory device
  Device* mem_device = nullptr;
  CountingDevice* counting = nullptr;      // under fs
  CountingDevice* mem_counting = nullptr;  // under mem_fs
  Buffer buf{1 * kMiB};
};

// Rows named "mdfs ..." report the flushes and bytes they cost on `device`.
void CountMdfsRows(Section& s, CountingDevice* device) {
  for (Variant& v : s.variants) {
    if (v.name.rfind("mdfs", 0) == 0) v.counts = [device] { return device->counts(); };
  }
}

// 1 and 2: durable overwrite of already-written blocks, `size` bytes at a time.
void DurableOverwrite(Env& env, uint64_t size, const char* title, bool with_data_only) {
  const uint64_t in_block = size == kBlockSize ? 0 : kSmallUpdateInBlock;
  auto offset = [in_block](uint64_t i) { return (i % kOverwriteBlocks) * kBlockSize + in_block; };
  // Each variant has its own file, so all of them overwrite written blocks.
  std::string tag = std::to_string(size);
  InodeNumber ino = CreateMdfsFile(*env.fs, "ow" + tag, kOverwriteRegion, env.buf);
  InodeNumber ino_do =
      with_data_only ? CreateMdfsFile(*env.fs, "owd" + tag, kOverwriteRegion, env.buf) : 0;
  int fd = CreatePlainFile(env.base + ".ext4_ow" + tag, kOverwriteRegion, env.buf);
  int mfd = CreatePlainFile(env.base + ".mmap_ow" + tag, kOverwriteRegion, env.buf);
  void* map = mmap(nullptr, kOverwriteRegion, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  CheckErrno(map != MAP_FAILED, "mmap");
  auto* base = static_cast<std::byte*>(map);
  Buffer& buf = env.buf;
  FileSystem& fs = *env.fs;

  Section s;
  s.title = title;
  s.note = "mdfs: Write into written blocks + Fsync; " + Host() +
           ": pwrite + fdatasync, or memcpy into a MAP_SHARED mapping + msync(MS_SYNC) of the "
           "page, each on a plain written file in --dir";
  s.variants = {
      {H("pwrite+fdatasync"),
       [&, fd](uint64_t i) {
         PwriteAll(fd, buf.Stamped(i, size).data(), size, offset(i), "pwrite");
         Fdatasync(fd, "fdatasync");
       }},
      {H("mmap+memcpy+msync"),
       [&, base](uint64_t i) {
         uint64_t off = offset(i);
         std::memcpy(base + off, buf.Stamped(i, size).data(), size);
         static const uint64_t page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
         uint64_t page = off & ~(page_size - 1);
         CheckErrno(msync(base + page, off + size - page, MS_SYNC) == 0, "msync");
       }},
      {"mdfs Write+Fsync",
       [&, ino](uint64_t i) {
         Check(fs.Write(ino, offset(i), buf.Stamped(i, size)).status(), "mdfs Write");
         Check(fs.Fsync(ino), "mdfs Fsync");
       }},
      {"mdfs Write+Fsync(data_only)",
       [&, ino_do](uint64_t i) {
         Check(fs.Write(ino_do, offset(i), buf.Stamped(i, size)).status(), "mdfs Write");
         Check(fs.Fsync(ino_do, /*data_only=*/true), "mdfs Fsync(data_only)");
       }},
  };
  if (!with_data_only) s.variants.pop_back();
  CountMdfsRows(s, env.counting);
  s.options = {
      .warmup_ops = env.p.warmup, .samples = env.p.iterations, .batch = 10, .ops_per_sample = 1};
  s.extra_ratios = {{2, 1}};
  RunAndPrint(s);
  munmap(map, kOverwriteRegion);
  close(fd);
  close(mfd);
}

// 3: appends at end of file, each durable when it returns.
void DurableAppend(Env& env, uint64_t size, uint64_t samples, const char* title) {
  std::string tag = std::to_string(size);
  auto created = env.fs->Create(kRootInode, "ap" + tag, 0644);
  Check(created.status(), "mdfs Create");
  InodeNumber ino = created->ino;
  std::string path = env.base + ".ext4_ap" + tag;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CheckErrno(fd >= 0, "open " + path);
  Cleanup().push_back(path);
  Buffer& buf = env.buf;
  FileSystem& fs = *env.fs;

  Section s;
  s.title = title;
  s.note = "mdfs: Write at EOF (allocates; durable at return, no Fsync); " + Host() +
           ": pwrite at EOF + fdatasync";
  s.variants = {
      {H("append+fdatasync"),
       [&, fd](uint64_t i) {
         PwriteAll(fd, buf.Stamped(i, size).data(), size, i * size, "pwrite");
         Fdatasync(fd, "fdatasync");
       },
       size},
      {"mdfs Write (append)",
       [&, ino](uint64_t i) {
         Check(fs.Write(ino, i * size, buf.Stamped(i, size)).status(), "mdfs Write (append)");
       },
       size},
  };
  s.options = {.warmup_ops = std::min<uint64_t>(env.p.warmup, 5),
               .samples = samples,
               .batch = size >= kMiB ? uint64_t{2} : uint64_t{10},
               .ops_per_sample = 1};
  CountMdfsRows(s, env.counting);
  RunAndPrint(s);
  close(fd);
}

// 4: create + unlink pairs.
void Metadata(Env& env) {
  std::vector<int> dirfds;
  for (const char* name : {"meta_sync2", "meta_sync1", "meta_nosync"}) {
    std::string dir = env.base + "." + name;
    CheckErrno(mkdir(dir.c_str(), 0755) == 0, "mkdir " + dir);
    Cleanup().push_back(dir);
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CheckErrno(dfd >= 0, "open " + dir);
    dirfds.push_back(dfd);
  }
  auto create_close = [](int dfd) {
    int fd = openat(dfd, "f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    CheckErrno(fd >= 0, "openat O_CREAT");
    close(fd);
  };
  auto remove = [](int dfd) { CheckErrno(unlinkat(dfd, "f", 0) == 0, "unlinkat"); };
  FileSystem& fs = *env.fs;

  Section s;
  s.title = "4. Metadata: create + unlink pairs (one op = one pair)";
  s.note =
      "mdfs Create and Unlink are each durable at return (one journal commit, two flushes, "
      "each). " +
      Host() +
      " rows: a file created (open O_CREAT|O_EXCL, close) and unlinked in its "
      "own directory, with the fsync(dir) named.";
  s.variants = {
      {H("creat+unlink+fsync(dir)"),
       [&, d = dirfds[1]](uint64_t) {
         create_close(d);
         remove(d);
         Fsync(d, "fsync(dir)");
       }},
      {H("creat+fsync(dir)+unlink+fsync(dir)"),
       [&, d = dirfds[0]](uint64_t) {
         create_close(d);
         Fsync(d, "fsync(dir)");
         remove(d);
         Fsync(d, "fsync(dir)");
       }},
      {H("creat+unlink (no fsync)"),
       [&, d = dirfds[2]](uint64_t) {
         create_close(d);
         remove(d);
       }},
      {"mdfs Create+Unlink",
       [&](uint64_t) {
         Check(fs.Create(kRootInode, "meta", 0644).status(), "mdfs Create");
         Check(fs.Unlink(kRootInode, "meta"), "mdfs Unlink");
       }},
  };
  s.options = {.warmup_ops = std::min<uint64_t>(env.p.warmup, 10),
               .samples = env.p.meta_samples,
               .batch = 10,
               .ops_per_sample = 1};
  s.extra_ratios = {{3, 1}, {3, 2}};
  CountMdfsRows(s, env.counting);
  RunAndPrint(s);
  for (int dfd : dirfds) close(dfd);
}

// 5: warm sequential read in 1 MiB chunks, mdfs Read vs pread of the same
// device bytes of the image.
void SequentialRead(Env& env, const std::string& image_path) {
  const uint64_t size = env.p.read_mib * kMiB;
  InodeNumber ino = CreateMdfsFile(*env.fs, "big", size, env.buf);
  size_t extent_count = 0;
  auto chunks = ChunkRanges(*env.fs, ino, size, kMiB, &extent_count);
  int fd = open(image_path.c_str(), O_RDONLY | O_CLOEXEC);
  CheckErrno(fd >= 0, "open " + image_path);
  auto out_mdfs = std::make_unique<Buffer>(kMiB);
  auto out_pread = std::make_unique<Buffer>(kMiB);
  FileSystem& fs = *env.fs;
  const uint64_t n = chunks.size();

  Section s;
  s.title = "5. Sequential read of a " + std::to_string(env.p.read_mib) +
            " MiB file in 1 MiB chunks, warm page cache (one op = 1 MiB)";
  s.note = "pread: the same device byte ranges of the image file (from GetExtents; " +
           std::to_string(extent_count) +
           " extent(s)) through its own descriptor; one untimed pass of each warms the cache";
  s.variants = {
      {"pread of the image ranges",
       [&, fd](uint64_t i) {
         std::byte* out = out_pread->data;
         for (const DeviceRange& r : chunks[i % n]) {
           PreadAll(fd, out, r.length, r.device_offset, "pread image");
           out += r.length;
         }
       },
       kMiB},
      {"mdfs Read",
       [&, ino](uint64_t i) {
         auto got = fs.Read(ino, (i % n) * kMiB, {out_mdfs->data, kMiB});
         Check(got.status(), "mdfs Read");
         if (*got != kMiB) Fail("mdfs Read", "short read");
       },
       kMiB},
  };
  s.options = {.warmup_ops = n, .samples = n * env.p.read_passes, .batch = 16, .ops_per_sample = 1};
  CountMdfsRows(s, env.counting);
  RunAndPrint(s);
  // Both variants ran the same number of ops, so both read the same chunk last.
  if (std::memcmp(out_mdfs->data, out_pread->data, kMiB) != 0) {
    Fail("read check", "mdfs Read and pread of the image returned different bytes");
  }
  close(fd);
}

// 6: the engine on a memory device (flushes are no-ops) vs memcpy.
void MemoryDevice(Env& env) {
  FileSystem& fs = *env.mem_fs;
  Buffer& buf = env.buf;
  const uint64_t per = env.p.mem_ops_per_sample;

  // 6a/6b: overwrite.
  for (uint64_t size : {uint64_t{kBlockSize}, kSmallUpdate}) {
    const uint64_t in_block = size == kBlockSize ? 0 : kSmallUpdateInBlock;
    auto offset = [in_block](uint64_t i) { return (i % kOverwriteBlocks) * kBlockSize + in_block; };
    std::string tag = std::to_string(size);
    InodeNumber ino = CreateMdfsFile(fs, "mow" + tag, kOverwriteRegion, buf);
    InodeNumber ino_nf = CreateMdfsFile(fs, "mown" + tag, kOverwriteRegion, buf);
    auto memfd = std::make_shared<Memfd>(kOverwriteRegion, /*touch=*/true);
    Section s;
    s.title = std::string(size == kBlockSize ? "6a" : "6b") +
              ". Memory device: " + (size == kBlockSize ? "4 KiB" : "64 B") +
              " overwrite (CPU cost, no device flush)";
    s.note =
        "memcpy: into a pre-faulted memfd mapping; mdfs on CreateMemoryDevice "
        "(persistence volatile: Flush is a no-op, a commit still encodes and writes the journal)";
    s.variants = {
        {"memcpy (memfd)",
         [&, memfd](uint64_t i) {
           std::memcpy(memfd->base + offset(i), buf.Stamped(i, size).data(), size);
         }},
        {"mdfs Write+Fsync",
         [&, ino](uint64_t i) {
           Check(fs.Write(ino, offset(i), buf.Stamped(i, size)).status(), "mdfs Write");
           Check(fs.Fsync(ino), "mdfs Fsync");
         }},
        {"mdfs Write only",
         [&, ino_nf](uint64_t i) {
           Check(fs.Write(ino_nf, offset(i), buf.Stamped(i, size)).status(), "mdfs Write");
         }},
    };
    s.options = {.warmup_ops = env.p.warmup * per,
                 .samples = env.p.iterations,
                 .batch = 10,
                 .ops_per_sample = per};
    CountMdfsRows(s, env.mem_counting);
    RunAndPrint(s);
  }

  // 6c/6d: append.
  for (uint64_t size : {uint64_t{kBlockSize}, kMiB}) {
    const uint64_t samples = size == kBlockSize ? env.p.iterations : env.p.append_1m_samples;
    const uint64_t ops_per_sample = size == kBlockSize ? per : 1;
    const uint64_t warmup = (size == kBlockSize ? env.p.warmup * per : 2);
    const uint64_t total = (samples * ops_per_sample + warmup) * size;
    auto memfd = std::make_shared<Memfd>(total, /*touch=*/false);
    auto created = fs.Create(kRootInode, "map" + std::to_string(size), 0644);
    Check(created.status(), "mdfs Create");
    InodeNumber ino = created->ino;
    Section s;
    s.title = std::string(size == kBlockSize ? "6c" : "6d") +
              ". Memory device: " + (size == kBlockSize ? "4 KiB" : "1 MiB") + " append";
    s.note =
        "memcpy: into never-touched pages of a memfd mapping (page faults included, as "
        "mdfs's fresh blocks are never-touched memfd pages too); mdfs: Write at EOF "
        "(allocation + one journal commit)";
    s.variants = {
        {"memcpy (fresh memfd pages)",
         [&, memfd](uint64_t i) {
           std::memcpy(memfd->base + i * size, buf.Stamped(i, size).data(), size);
         },
         size},
        {"mdfs Write (append)",
         [&, ino](uint64_t i) {
           Check(fs.Write(ino, i * size, buf.Stamped(i, size)).status(), "mdfs Write (append)");
         },
         size},
    };
    s.options = {.warmup_ops = warmup,
                 .samples = samples,
                 .batch = size >= kMiB ? uint64_t{2} : uint64_t{10},
                 .ops_per_sample = ops_per_sample};
    CountMdfsRows(s, env.mem_counting);
    RunAndPrint(s);
  }

  // 6e: sequential read, against memcpy from the same memory (the device's mapping).
  {
    const uint64_t size = env.p.read_mib * kMiB;
    InodeNumber ino = CreateMdfsFile(fs, "mbig", size, buf);
    size_t extent_count = 0;
    auto chunks = ChunkRanges(fs, ino, size, kMiB, &extent_count);
    std::byte* device_base = env.mem_device->mapped_base();
    if (!device_base) Fail("memory device", "no mapped_base()");
    auto out_mdfs = std::make_shared<Buffer>(kMiB);
    auto out_copy = std::make_shared<Buffer>(kMiB);
    const uint64_t n = chunks.size();
    Section s;
    s.title = "6e. Memory device: sequential read of a " + std::to_string(env.p.read_mib) +
              " MiB file in 1 MiB chunks (one op = 1 MiB)";
    s.note =
        "memcpy: from the same device bytes through the memory device's own mapping "
        "(mapped_base(), " +
        std::to_string(extent_count) + " extent(s))";
    s.variants = {
        {"memcpy (same memory)",
         [&, device_base, out_copy](uint64_t i) {
           std::byte* out = out_copy->data;
           for (const DeviceRange& r : chunks[i % n]) {
             std::memcpy(out, device_base + r.device_offset, r.length);
             out += r.length;
           }
         },
         kMiB},
        {"mdfs Read",
         [&, ino, out_mdfs](uint64_t i) {
           auto got = fs.Read(ino, (i % n) * kMiB, {out_mdfs->data, kMiB});
           Check(got.status(), "mdfs Read");
           if (*got != kMiB) Fail("mdfs Read", "short read");
         },
         kMiB},
    };
    s.options = {
        .warmup_ops = n, .samples = n * env.p.read_passes, .batch = 16, .ops_per_sample = 1};
    CountMdfsRows(s, env.mem_counting);
    RunAndPrint(s);
    if (std::memcmp(out_mdfs->data, out_copy->data, kMiB) != 0) {
      Fail("read check", "mdfs Read and memcpy of the device returned different bytes");
    }
  }
}

int Main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  Env env;
  env.p = ParseArgs(argc, argv);
  const Params& p = env.p;
  struct stat st {};
  if (stat(p.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    Fail("--dir", p.dir + " is not a directory");
  env.base = p.dir + "/mdfs_bench." + std::to_string(getpid());
  Cleanup();  // constructed before the atexit registration, so destroyed after it runs
  std::atexit(RemoveCreated);
  {
    std::string mount = MountOf(p.dir);
    if (mount != "?") Host() = mount.substr(0, mount.find(' '));
  }

  // Room for everything the run writes into one image, with slack for
  // metadata and the journal.
  const uint64_t append_warm = std::min<uint64_t>(p.warmup, 5);
  const uint64_t data_bytes = p.read_mib * kMiB + 4 * kOverwriteRegion +
                              (p.iterations + append_warm) * kBlockSize +
                              (p.append_1m_samples + append_warm) * kMiB;
  const uint64_t mem_data_bytes =
      p.read_mib * kMiB + 4 * kOverwriteRegion +
      (p.iterations * p.mem_ops_per_sample + p.warmup * p.mem_ops_per_sample) * kBlockSize +
      (p.append_1m_samples + 2) * kMiB;
  auto image_size = [](uint64_t data) {
    uint64_t want = data + data / 4 + 64 * kMiB;
    return (want + 64 * kMiB - 1) / (64 * kMiB) * (64 * kMiB);
  };

  const std::string image_path = env.base + ".img";
  FileDeviceOptions options;
  options.create = true;
  options.create_size = image_size(data_bytes);
  auto device = OpenFileDevice(image_path, options);
  Check(device.status(), "OpenFileDevice " + image_path);
  Cleanup().push_back(image_path);
  CountingDevice counting(device->get());
  env.counting = &counting;
  Check(FileSystem::Format(&counting), "Format " + image_path);
  auto fs = FileSystem::Open(&counting);
  Check(fs.status(), "Open " + image_path);
  env.fs = fs->get();

  auto mem_device = CreateMemoryDevice(image_size(mem_data_bytes));
  Check(mem_device.status(), "CreateMemoryDevice");
  CountingDevice mem_counting(mem_device->get());
  env.mem_counting = &mem_counting;
  Check(FileSystem::Format(&mem_counting), "Format memory device");
  auto mem_fs = FileSystem::Open(&mem_counting);
  Check(mem_fs.status(), "Open memory device");
  env.mem_fs = mem_fs->get();
  env.mem_device = mem_device->get();

  PrintContext(p, image_path, **device, **mem_device, options.create_size);

  DurableOverwrite(env, kBlockSize, "1. Durable 4 KiB overwrite (one op = write + flush)",
                   /*with_data_only=*/true);
  DurableOverwrite(env, kSmallUpdate, "2. Durable 64 B update (one op = write + flush)",
                   /*with_data_only=*/false);
  DurableAppend(env, kBlockSize, p.iterations, "3a. Durable 4 KiB append");
  DurableAppend(env, kMiB, p.append_1m_samples, "3b. Durable 1 MiB append");
  Metadata(env);
  SequentialRead(env, image_path);
  MemoryDevice(env);

  auto stats = env.fs->StatFs();
  Check(stats.status(), "StatFs");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\ndone in %.1f s, load %s at the end (image: %" PRIu64 " of %" PRIu64
              " blocks free, journal sequence %" PRIu64 ")\n",
              seconds, LoadAverage().c_str(), stats->free_blocks, stats->total_blocks,
              stats->journal_sequence);
  return 0;
}

}  // namespace
}  // namespace mdfs::bench

int main(int argc, char** argv) { return mdfs::bench::Main(argc, argv); }
