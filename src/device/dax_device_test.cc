// The DAX path on real persistent memory: device-dax (/dev/daxN.M) and a
// file on a file system mounted -o dax. This machine has neither; the qemu
// lane (scripts/qemu-lane.sh) has both, and runs this suite in its guest
// with MDFS_TEST_DEVICE_DAX=/dev/dax0.0 and MDFS_TEST_FSDAX_DIR=<ext4 -o dax
// mount>. Without them every test here skips and says why.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Pattern;
using device_test::ReadRange;

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

TEST(DaxDevice, CharacterDeviceThatIsNotDeviceDaxIsNamed) {
  auto device = OpenMappedDevice("/dev/zero", {.read_only = true});
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kNoDevice);
  EXPECT_NE(device.status().message().find("not device-dax"), std::string::npos)
      << device.status().ToString();
}

TEST(DaxDevice, DeviceDaxIsCpuCacheAndRoundTrips) {
  const std::string path = EnvOrEmpty("MDFS_TEST_DEVICE_DAX");
  if (path.empty()) {
    GTEST_SKIP() << "no device-dax here: set MDFS_TEST_DEVICE_DAX=/dev/daxN.M (the qemu lane does)";
  }
  // OpenFileDevice hands device-dax to the mapped device: it has no read(2).
  auto device = OpenFileDevice(path);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_EQ((*device)->persistence_mode(), PersistenceMode::kCpuCache);
  EXPECT_NE((*device)->Describe().find("device-dax"), std::string::npos) << (*device)->Describe();
  EXPECT_EQ((*device)->size_bytes() % (2u << 20), 0u);
  const auto data = Pattern(8192, 11);
  const uint64_t offset = (*device)->size_bytes() - 3 * 4096 - 17;
  ASSERT_TRUE((*device)->Write(offset, data).ok());
  ASSERT_TRUE((*device)->Persist(offset, data.size()).ok());
  ASSERT_TRUE((*device)->Flush().ok());  // fence only: device-dax has no msync
  EXPECT_EQ(ReadRange(**device, offset, data.size()), data);
  // MapAt: 2 MiB-aligned ranges map; a 4 KiB one is refused by the kernel
  // with EINVAL, and the message names the alignment rule.
  void* address = mmap(nullptr, 8u << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(address, MAP_FAILED);
  auto* aligned = reinterpret_cast<std::byte*>(
      (reinterpret_cast<uintptr_t>(address) + (2u << 20) - 1) & ~uintptr_t{(2u << 20) - 1});
  ASSERT_TRUE((*device)->MapAt(aligned, 2u << 20, 2u << 20, true).ok());
  Status small = (*device)->MapAt(aligned, 0, 4096, true);
  EXPECT_EQ(small.code(), Code::kInvalidArgument) << small.ToString();
  EXPECT_NE(small.message().find("/sys/bus/dax/devices/*/align"), std::string::npos)
      << small.ToString();
  munmap(address, 8u << 20);
}

TEST(DaxDevice, FsDaxFileIsCpuCacheOnlyWithMapSync) {
  const std::string directory = EnvOrEmpty("MDFS_TEST_FSDAX_DIR");
  if (directory.empty()) {
    GTEST_SKIP() << "no fs-dax mount here: set MDFS_TEST_FSDAX_DIR to a directory on a file "
                    "system mounted -o dax (the qemu lane does)";
  }
  const std::string path = directory + "/mdfs-dax-device-test.img";
  unlink(path.c_str());
  auto device = OpenMappedDevice(path, {.create = true, .create_size = 8u << 20});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_EQ((*device)->persistence_mode(), PersistenceMode::kCpuCache) << (*device)->Describe();
  EXPECT_NE((*device)->Describe().find("MAP_SYNC"), std::string::npos) << (*device)->Describe();
  const auto data = Pattern(5000, 2);
  ASSERT_TRUE((*device)->Write(4000, data).ok());
  ASSERT_TRUE((*device)->Flush().ok());  // fence + msync (fs-dax has one)
  EXPECT_EQ(ReadRange(**device, 4000, data.size()), data);
  // The pread path on the same file is not the persistence domain.
  device->reset();
  auto file = OpenFileDevice(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->persistence_mode(), PersistenceMode::kFdatasync);
  file->reset();
  unlink(path.c_str());
}

}  // namespace
}  // namespace mdfs
