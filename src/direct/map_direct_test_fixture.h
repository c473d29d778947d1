// A real file system and lease manager on a memory, file or mapped device,
// for the MapDirect tests. No mocks: the engine and the lease layer are the
// ones MapDirect runs on in production.
#ifndef MDFS_SRC_DIRECT_MAP_DIRECT_TEST_FIXTURE_H_
#define MDFS_SRC_DIRECT_MAP_DIRECT_TEST_FIXTURE_H_

#include <sys/mman.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "device/device_test_util.h"
#include "direct/map_direct_engine.h"
#include "gtest/gtest.h"
#include "lease/leases.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"

namespace mdfs::direct_test {

inline constexpr uint64_t kMiB = 1 << 20;
inline constexpr uint64_t kDeviceBytes = 64 * kMiB;

enum class DeviceKind { kMemory, kFile, kMapped };

inline std::string DeviceKindName(const testing::TestParamInfo<DeviceKind>& info) {
  switch (info.param) {
    case DeviceKind::kMemory:
      return "Memory";
    case DeviceKind::kFile:
      return "File";
    case DeviceKind::kMapped:
      return "Mapped";
  }
  return "Unknown";
}

inline std::vector<std::byte> Pattern(size_t size, uint8_t seed) {
  return device_test::Pattern(size, seed);
}

class MapDirectTest : public testing::TestWithParam<DeviceKind> {
 protected:
  void SetUp() override {
    auto device = OpenDevice(GetParam());
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    ASSERT_TRUE(FileSystem::Format(device_.get()).ok());
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    auto leases = LeaseManager::Attach(fs_.get());
    ASSERT_TRUE(leases.ok()) << leases.status().ToString();
    leases_ = std::move(leases).value();
  }

  void TearDown() override {
    leases_.reset();
    fs_.reset();
  }

  Result<std::unique_ptr<Device>> OpenDevice(DeviceKind kind) {
    switch (kind) {
      case DeviceKind::kMemory:
        return CreateMemoryDevice(kDeviceBytes);
      case DeviceKind::kFile:
        return OpenFileDevice(image_.path());
      case DeviceKind::kMapped:
        return OpenMappedDevice(image_.path());
    }
    return NotSupported("unknown device kind");
  }

  // A regular file holding `bytes` (written through the file system).
  InodeNumber CreateFile(const std::string& name, const std::vector<std::byte>& bytes) {
    auto file = fs_->Create(kRootInode, name, S_IFREG | 0644);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return 0;
    if (!bytes.empty()) {
      auto written = fs_->Write(file->ino, 0, bytes);
      EXPECT_TRUE(written.ok()) << written.status().ToString();
    }
    return file->ino;
  }

  std::vector<std::byte> ReadFile(InodeNumber ino, uint64_t offset, size_t length) {
    std::vector<std::byte> bytes(length);
    auto read = fs_->Read(ino, offset, bytes);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    bytes.resize(read.ok() ? *read : 0);
    return bytes;
  }

  std::unique_ptr<DirectMapping> MapOrDie(InodeNumber ino, uint64_t offset, uint64_t length,
                                          int prot = PROT_READ | PROT_WRITE, uint32_t flags = 0,
                                          MapDirectOptions options = {}) {
    auto mapping =
        MapDirect(fs_.get(), leases_.get(), ino, offset, length, prot, flags, std::move(options));
    EXPECT_TRUE(mapping.ok()) << mapping.status().ToString();
    return mapping.ok() ? std::move(mapping).value() : nullptr;
  }

  device_test::TempFile image_{kDeviceBytes};
  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<LeaseManager> leases_;
};

}  // namespace mdfs::direct_test

#endif  // MDFS_SRC_DIRECT_MAP_DIRECT_TEST_FIXTURE_H_
