// Host-side helpers of mdfs_bench_direct: failing loudly, files the run
// creates (removed at exit), page-aligned buffers, memfds, plain files on the
// host file system, and the facts about the machine printed in the header.
//
// Single-threaded use by the benchmark's main thread.
#ifndef MDFS_BENCH_DIRECT_HOST_H_
#define MDFS_BENCH_DIRECT_HOST_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "host_info.h"
#include "mdfs/status.h"

namespace mdfs::bench::direct {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;
inline constexpr uint64_t kPage = 4096;

// Prints "mdfs_bench_direct: <what>: <detail>" to stderr and exits 1.
[[noreturn]] void Fail(const std::string& what, const std::string& detail);
void Check(const Status& status, const std::string& what);
// Fail with strerror(errno) unless `ok`.
void CheckErrno(bool ok, const std::string& what);

// Keeps the compiler from dropping or moving stores and copies whose result
// nobody reads (the copies of the bandwidth tables).
inline void ClobberMemory() { asm volatile("" : : : "memory"); }

// Faults in every page of [data, data + size) for writing, leaving the
// bytes as they were.
void PreFault(std::byte* data, size_t size);

// steady_clock in nanoseconds.
int64_t NowNs();

// Paths removed (unlink, else rmdir) at exit, newest first, also after Fail.
void RemoveAtExit(const std::string& path);
void InstallCleanup();

// `size` bytes, page aligned, every page written (a pattern, or zeros).
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t size, bool zero = false);
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  // The first `length` bytes, the first 8 of them overwritten with `i`, so
  // that each update differs from the last.
  std::span<const std::byte> Stamped(uint64_t i, size_t length);

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

// A memfd of `size` bytes mapped MAP_SHARED; `touch` faults every page in.
class Memfd {
 public:
  Memfd(uint64_t size, bool touch);
  ~Memfd();
  Memfd(const Memfd&) = delete;
  Memfd& operator=(const Memfd&) = delete;
  int fd() const { return fd_; }
  std::byte* base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  std::byte* base_ = nullptr;
  uint64_t size_ = 0;
};

// A regular file in the host file system, `size` bytes written with a
// pattern and fsynced, so that later writes overwrite allocated blocks.
// Removed at exit. The descriptor is O_RDWR.
class PlainFile {
 public:
  PlainFile(const std::string& path, uint64_t size);
  ~PlainFile();
  PlainFile(const PlainFile&) = delete;
  PlainFile& operator=(const PlainFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // A MAP_SHARED read-write mapping of the whole file, made on first use and
  // pre-faulted.
  std::byte* Map();

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::byte* map_ = nullptr;
};

void PwriteAll(int fd, const std::byte* data, size_t length, uint64_t offset);
void FdatasyncOrFail(int fd);

// Context for the header.
// (LoadAverage, FirstLineWith, MountOf, ReadFirstLine: host_info.h.)
// "clwb clflushopt clflush" (those of the three the CPU has).
std::string CacheFlushFlags();
// "Rss 262144 kB, PMD-mapped 0 kB": /proc/self/smaps summed over the
// mappings (VMAs) that overlap [address, address + length) — whole VMAs, so
// a large mapping counts pages outside the range too.
std::string SmapsSummary(const void* address, size_t length);

}  // namespace mdfs::bench::direct

#endif  // MDFS_BENCH_DIRECT_HOST_H_
