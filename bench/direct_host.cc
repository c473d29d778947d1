#include "direct_host.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace mdfs::bench::direct {

void Fail(const std::string& what, const std::string& detail) {
  std::fflush(stdout);
  std::fprintf(stderr, "mdfs_bench_direct: %s: %s\n", what.c_str(), detail.c_str());
  std::exit(1);
}

void Check(const Status& status, const std::string& what) {
  if (!status.ok()) Fail(what, status.ToString());
}

void CheckErrno(bool ok, const std::string& what) {
  if (!ok) Fail(what, std::strerror(errno));
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void PreFault(std::byte* data, size_t size) {
  for (size_t off = 0; off < size; off += kPage) {
    volatile std::byte* p = data + off;
    *p = *p;
  }
}

namespace {

std::vector<std::string>& CreatedPaths() {
  static std::vector<std::string> paths;
  return paths;
}

void RemoveCreated() {
  auto& paths = CreatedPaths();
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    if (unlink(it->c_str()) != 0) rmdir(it->c_str());
  }
  paths.clear();
}

}  // namespace

void RemoveAtExit(const std::string& path) { CreatedPaths().push_back(path); }

void InstallCleanup() {
  CreatedPaths();  // constructed before the atexit registration, so destroyed after it runs
  std::atexit(RemoveCreated);
}

AlignedBuffer::AlignedBuffer(size_t size, bool zero) : size_(size) {
  void* p = nullptr;
  if (posix_memalign(&p, kPage, std::max<size_t>(size, kPage)) != 0) {
    Fail("posix_memalign", std::to_string(size));
  }
  data_ = static_cast<std::byte*>(p);
  if (zero) {
    std::memset(data_, 0, size);
  } else {
    for (size_t i = 0; i < size; ++i) data_[i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
  }
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

std::span<const std::byte> AlignedBuffer::Stamped(uint64_t i, size_t length) {
  std::memcpy(data_, &i, std::min(sizeof i, length));
  return {data_, length};
}

Memfd::Memfd(uint64_t size, bool touch) : size_(size) {
  fd_ = memfd_create("mdfs-bench-direct", MFD_CLOEXEC);
  CheckErrno(fd_ >= 0, "memfd_create");
  CheckErrno(ftruncate(fd_, static_cast<off_t>(size)) == 0, "ftruncate memfd");
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  CheckErrno(p != MAP_FAILED, "mmap memfd");
  base_ = static_cast<std::byte*>(p);
  if (touch) std::memset(base_, 0x5a, size);
}

Memfd::~Memfd() {
  munmap(base_, size_);
  close(fd_);
}

PlainFile::PlainFile(const std::string& path, uint64_t size) : path_(path), size_(size) {
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CheckErrno(fd_ >= 0, "open " + path);
  RemoveAtExit(path);
  AlignedBuffer pattern(std::min<uint64_t>(size, kMiB));
  for (uint64_t off = 0; off < size; off += pattern.size()) {
    PwriteAll(fd_, pattern.data(), std::min<uint64_t>(pattern.size(), size - off), off);
  }
  CheckErrno(fsync(fd_) == 0, "fsync " + path);
}

PlainFile::~PlainFile() {
  if (map_) munmap(map_, size_);
  close(fd_);
}

std::byte* PlainFile::Map() {
  if (!map_) {
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
    CheckErrno(p != MAP_FAILED, "mmap " + path_);
    map_ = static_cast<std::byte*>(p);
  }
  return map_;
}

void PwriteAll(int fd, const std::byte* data, size_t length, uint64_t offset) {
  while (length > 0) {
    ssize_t n = pwrite(fd, data, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    CheckErrno(n > 0, "pwrite");
    data += n;
    length -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

void FdatasyncOrFail(int fd) {
  int rc;
  do {
    rc = fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  CheckErrno(rc == 0, "fdatasync");
}

std::string CacheFlushFlags() {
  std::istringstream flags(FirstLineWith("/proc/cpuinfo", "flags"));
  std::set<std::string> have;
  std::string flag;
  while (flags >> flag) have.insert(flag);
  std::string out;
  for (const char* name : {"clwb", "clflushopt", "clflush"}) {
    if (!have.count(name)) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out.empty() ? "none" : out;
}

std::string SmapsSummary(const void* address, size_t length) {
  const auto begin = reinterpret_cast<uintptr_t>(address), end = begin + length;
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  uint64_t rss_kb = 0, pmd_kb = 0;
  while (std::getline(in, line)) {
    unsigned long long low = 0, high = 0;
    char dash = 0;
    std::istringstream words(line);
    if (line.find(':') == std::string::npos || line.find('-') < line.find(':')) {
      // A VMA header: "7f12...-7f34... rw-s 00000000 00:01 1234 /memfd:..."
      if (words >> std::hex >> low >> dash >> high && dash == '-') {
        inside = low < end && begin < high;
        continue;
      }
    }
    if (!inside) continue;
    std::string key;
    uint64_t kb = 0;
    if (!(words >> key >> std::dec >> kb)) continue;
    if (key == "Rss:") rss_kb += kb;
    if (key == "FilePmdMapped:" || key == "ShmemPmdMapped:") pmd_kb += kb;
  }
  return "Rss " + std::to_string(rss_kb) + " kB, PMD-mapped " + std::to_string(pmd_kb) + " kB";
}

}  // namespace mdfs::bench::direct
