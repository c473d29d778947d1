// Helpers for the device tests (and the tests above the device layer):
// temporary files, byte patterns, a memory device with device-dax's rules.
#ifndef MDFS_SRC_DEVICE_DEVICE_TEST_UTIL_H_
#define MDFS_SRC_DEVICE_DEVICE_TEST_UTIL_H_

#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "device/mapped_device.h"
#include "device/posix_file.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs::device_test {

// A file of `size_bytes` zero bytes made with mkstemp in `directory`;
// removed on destruction.
class TempFile {
 public:
  explicit TempFile(uint64_t size_bytes, const std::string& directory = "/tmp") {
    std::string pattern = directory + "/mdfs-device-test-XXXXXX";
    const int fd = mkstemp(pattern.data());
    EXPECT_GE(fd, 0) << "mkstemp " << pattern;
    if (fd >= 0) {
      EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size_bytes)), 0);
      close(fd);
    }
    path_ = pattern;
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A fresh directory under /tmp (mkdtemp), removed with its contents.
class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = "/tmp/mdfs-device-test-XXXXXX";
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempDirectory() { std::filesystem::remove_all(path_); }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  std::string Child(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline bool IsOnRamFileSystem(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return false;
  const auto type = static_cast<unsigned long>(fs.f_type);
  return type == TMPFS_MAGIC || type == RAMFS_MAGIC;
}

// `size` bytes that differ with `seed` and with position (never all zero).
inline std::vector<std::byte> Pattern(size_t size, uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::byte>((i * 31 + seed * 7 + 1) % 251 + 1);
  }
  return bytes;
}

inline std::vector<std::byte> Filled(size_t size, uint8_t value) {
  return std::vector<std::byte>(size, static_cast<std::byte>(value));
}

// The whole device; fails the test on a read error.
inline std::vector<std::byte> ReadAll(Device& device) {
  std::vector<std::byte> bytes(device.size_bytes());
  const Status status = device.Read(0, bytes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return bytes;
}

inline std::vector<std::byte> ReadRange(Device& device, uint64_t offset, size_t length) {
  std::vector<std::byte> bytes(length);
  const Status status = device.Read(offset, bytes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return bytes;
}

// A memory device (a memfd: volatile) that maps as device-dax with an
// alignment of `align_bytes` does: MapAt refuses a range whose address,
// device offset or length is not a multiple of it, naming the rule, as
// mdfs refuses on /dev/daxN.M before the kernel would. For host tests of
// what device-dax allows; the qemu lane (scripts/qemu-lane.sh) runs the
// same tests on a real /dev/dax0.0.
inline Result<std::unique_ptr<Device>> CreateDeviceDaxLikeMemoryDevice(uint64_t size_bytes,
                                                                       uint64_t align_bytes) {
  using device_internal::ErrnoStatus;
  device_internal::UniqueFd fd(memfd_create("mdfs-dax-like", MFD_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("memfd_create", "mdfs-dax-like", errno);
  if (ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
    return ErrnoStatus("ftruncate", "mdfs-dax-like", errno);
  }
  void* base = mmap(nullptr, size_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (base == MAP_FAILED) return ErrnoStatus("mmap", "mdfs-dax-like", errno);
  device_internal::Mapping mapping;
  mapping.base = static_cast<std::byte*>(base);
  mapping.size_bytes = size_bytes;
  mapping.mode = PersistenceMode::kVolatile;
  mapping.device_dax = true;
  mapping.align_bytes = align_bytes;
  mapping.align_attribute = "dax-like memory device align";
  return std::unique_ptr<Device>(new device_internal::MappedDevice(
      "dax-like memory",
      "memory (device-dax-like, align " + std::to_string(align_bytes >> 10) + " KiB)", mapping,
      std::move(fd)));
}

}  // namespace mdfs::device_test

#endif  // MDFS_SRC_DEVICE_DEVICE_TEST_UTIL_H_
