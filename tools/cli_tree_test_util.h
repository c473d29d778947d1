// Helpers for the tests of `mdfs get -r`: the engine opened directly on an
// image file (to set attributes the CLI cannot, and as the oracle a host
// tree is compared with), byte damage, and the expected summary line.
#ifndef MDFS_TOOLS_CLI_TREE_TEST_UTIL_H_
#define MDFS_TOOLS_CLI_TREE_TEST_UTIL_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"

namespace mdfs::cli::testing {

// The engine on an image file; `fs` is closed before `device`.
struct EngineImage {
  std::unique_ptr<Device> device;
  std::unique_ptr<FileSystem> fs;
};

inline EngineImage OpenEngine(const std::string& path, bool read_only) {
  EngineImage image;
  FileDeviceOptions device_options;
  device_options.read_only = read_only;
  auto device = OpenFileDevice(path, device_options);
  EXPECT_TRUE(device.ok()) << device.status().ToString();
  if (!device.ok()) return image;
  image.device = std::move(device).value();
  OpenOptions options;
  options.read_only = read_only;
  auto fs = FileSystem::Open(image.device.get(), options);
  EXPECT_TRUE(fs.ok()) << fs.status().ToString();
  if (fs.ok()) image.fs = std::move(fs).value();
  return image;
}

inline void FlipByte(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char byte = 0;
  ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(offset)), 1);
  byte = static_cast<char>(byte ^ 0x5a);
  ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

// The little-endian 64-bit value at `offset` of the file.
inline uint64_t ReadLe64(const std::string& path, uint64_t offset) {
  std::string bytes = ReadFile(path).substr(offset, 8);
  uint64_t value = 0;
  for (size_t i = 8; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(bytes.at(i));
  return value;
}

inline int64_t NsOf(const timespec& time) {
  return static_cast<int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

// What `mdfs get -r` reports as copied.
struct TreeTotals {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t bytes = 0;
};

inline std::string Counted(uint64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

inline std::string SummaryLine(const TreeTotals& t, uint64_t failures) {
  return "get: copied " + Counted(t.files, "file", "files") + ", " +
         Counted(t.directories, "directory", "directories") + ", " +
         Counted(t.symlinks, "symlink", "symlinks") + " (" + Counted(t.bytes, "byte", "bytes") +
         "); " + Counted(failures, "object", "objects") + " could not be read or written\n";
}

inline std::string ReadWholeFile(FileSystem& fs, const Attributes& a) {
  std::string data(a.size, '\0');
  auto n = fs.Read(a.ino, 0, std::as_writable_bytes(std::span(data.data(), data.size())));
  EXPECT_TRUE(n.ok() && *n == a.size) << "inode " << a.ino;
  return data;
}

inline size_t HostEntryCount(const std::string& dir) {
  size_t count = 0;
  DIR* d = ::opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir;
  if (d == nullptr) return 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++count;
  }
  ::closedir(d);
  return count;
}

// Expects the host object at `host` to be a faithful copy of `a`: type,
// permission bits, owner (when run as root), atime and mtime (checked
// before the object is read), then the contents. Counts what it checked.
inline void ExpectSameObject(FileSystem& fs, const Attributes& a, const std::string& host,
                             TreeTotals& totals);

// Expects the host directory `host` to hold exactly the entries of the
// image directory `ino`, each a faithful copy.
inline void ExpectSameEntries(FileSystem& fs, InodeNumber ino, const std::string& host,
                              TreeTotals& totals) {
  auto entries = fs.ReadDirectory(ino);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(HostEntryCount(host), entries->size()) << host;
  for (const DirectoryEntry& entry : *entries) {
    auto child = fs.GetAttributes(entry.ino);
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    ExpectSameObject(fs, *child, host + "/" + entry.name, totals);
  }
}

inline void ExpectSameObject(FileSystem& fs, const Attributes& a, const std::string& host,
                             TreeTotals& totals) {
  struct stat st {};
  ASSERT_EQ(::lstat(host.c_str(), &st), 0) << host << " is missing";
  ASSERT_EQ(st.st_mode & S_IFMT, a.mode & S_IFMT) << host;
  if (!S_ISLNK(st.st_mode)) {
    EXPECT_EQ(st.st_mode & 07777, a.mode & 07777) << host;
  }
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, a.uid) << host;
    EXPECT_EQ(st.st_gid, a.gid) << host;
  }
  EXPECT_EQ(NsOf(st.st_mtim), a.mtime.ns) << host;
  EXPECT_EQ(NsOf(st.st_atim), a.atime.ns) << host;
  if (S_ISREG(st.st_mode)) {
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), a.size) << host;
    EXPECT_TRUE(ReadFile(host) == ReadWholeFile(fs, a)) << host << " differs";
    ++totals.files;
    totals.bytes += a.size;
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
    ASSERT_GE(n, 0) << host;
    target.resize(static_cast<size_t>(n));
    EXPECT_EQ(target, fs.ReadLink(a.ino).value()) << host;
    ++totals.symlinks;
  } else {
    ++totals.directories;
    ExpectSameEntries(fs, a.ino, host, totals);
  }
}

// The host copy `host` of the whole tree at `path` of `image`; returns
// the totals a faithful copy reports.
inline TreeTotals ExpectSameTree(const std::string& image, const std::string& path,
                                 const std::string& host) {
  TreeTotals totals;
  EngineImage engine = OpenEngine(image, /*read_only=*/true);
  if (engine.fs == nullptr) return totals;
  auto top = engine.fs->LookupPath(path);
  EXPECT_TRUE(top.ok()) << top.status().ToString();
  if (!top.ok()) return totals;
  ++totals.directories;
  ExpectSameEntries(*engine.fs, top->ino, host, totals);
  return totals;
}

}  // namespace mdfs::cli::testing

#endif  // MDFS_TOOLS_CLI_TREE_TEST_UTIL_H_
