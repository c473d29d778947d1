// The host side of put and get: host files and descriptors, errno as a
// Status, and a progress line on stderr for long copies.
#ifndef MDFS_TOOLS_HOST_IO_H_
#define MDFS_TOOLS_HOST_IO_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mdfs/status.h"

namespace mdfs::cli {

// "<operation>: <strerror(error)>" with the Code that matches `error`.
Status HostErrnoStatus(std::string_view operation, int error);

// An owned host file descriptor (or a borrowed one: stdin/stdout).
class HostFile {
 public:
  HostFile() = default;
  HostFile(int fd, bool owned) : fd_(fd), owned_(owned) {}
  HostFile(HostFile&& other) noexcept;
  HostFile& operator=(HostFile&& other) noexcept;
  HostFile(const HostFile&) = delete;
  HostFile& operator=(const HostFile&) = delete;
  ~HostFile();

  int fd() const { return fd_; }
  // Closes an owned descriptor, reporting a failed close (lost writes).
  Status Close();

 private:
  int fd_ = -1;
  bool owned_ = false;
};

// Which host file a path or descriptor is, for cp's "are the same file"
// check: a regular file by (device, inode) — hard links and symlinks
// resolve to the same identity — and a block device by its device number.
struct HostIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  dev_t block_device = 0;  // st_rdev of a block device, else 0
  bool valid = false;      // false: nothing there (or not statable)
};
HostIdentity IdentityOfPath(const std::string& path);
HostIdentity IdentityOfDescriptor(int fd);
bool SameHostFile(const HostIdentity& a, const HostIdentity& b);

// kInvalidArgument when `fd` is the image itself: "'PATH' is the image
// IMAGE itself (the same file); refusing to <verb> it".
Status RefuseTheImage(int fd, const std::string& path, const HostIdentity& image,
                      const std::string& image_path, std::string_view verb);

// The source of `mdfs put`: "-" is stdin. `size` is known (>= 0) for
// regular files, -1 otherwise. Directories are refused.
struct HostSource {
  HostFile file;
  int64_t size = -1;
  uint32_t mode = 0644;  // permission bits of a regular file
};
Result<HostSource> OpenHostSource(const std::string& path);

// The destination of `mdfs get`: "-" is stdout. An existing host directory
// receives the file under `default_name`. `created` says whether this call
// created the file (so a failed copy can remove it). A destination that is
// the image itself (`image`, through any name: hard link, symlink,
// /proc/self/fd, or stdout redirected onto it) is refused before a byte of
// it is truncated or written.
struct HostDestination {
  HostFile file;
  std::string path;
  bool created = false;
  // A regular host file named by HOST_FILE (not stdout): written with
  // pwrite at file offsets, so holes can be left out.
  bool seekable = false;
};
Result<HostDestination> OpenHostDestination(const std::string& path,
                                            const std::string& default_name,
                                            const HostIdentity& image,
                                            const std::string& image_path);

// Reads until `out` is full or end of input; returns the bytes read.
Result<size_t> ReadFull(int fd, std::span<std::byte> out);
// Writes all of `data`.
Status WriteAll(int fd, std::span<const std::byte> data);
// pread/pwrite versions: at `offset`, until `out` is full or end of file /
// all of `data`.
Result<size_t> ReadFullAt(int fd, uint64_t offset, std::span<std::byte> out);
Status WriteAllAt(int fd, uint64_t offset, std::span<const std::byte> data);

// A byte range [offset, offset + length) of a file.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t end() const { return offset + length; }
};
// The data ranges of the regular file `fd` of `size` bytes, from
// SEEK_DATA / SEEK_HOLE, in order; everything else is a hole. A file system
// without SEEK_DATA support gives the whole file as one range.
Result<std::vector<ByteRange>> HostDataRanges(int fd, uint64_t size);

// "put: 512 MiB / 2.0 GiB (25%)" on stderr, redrawn in place, when stderr
// is a terminal and the copy is big (> 64 MiB, or of unknown size and
// past 64 MiB already). `detail`, when given, follows the bytes:
// "get: 512 MiB, 1200 files".
class Progress {
 public:
  Progress(std::string label, int64_t total_bytes);
  void Update(uint64_t done_bytes, std::string_view detail = {});
  // Ends the line if anything was drawn.
  void Finish();
  // Clears the line (if drawn), so that a message can be printed on stderr;
  // the next Update draws it again.
  void Erase();

 private:
  std::string label_;
  int64_t total_bytes_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_HOST_IO_H_
