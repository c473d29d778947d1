// The DAX path on real persistent memory: device-dax (/dev/daxN.M) and a
// file on a file system mounted -o dax. This machine has neither; the qemu
// lane (scripts/qemu-lane.sh) has both, and runs this suite in its guest
// with MDFS_TEST_DEVICE_DAX=/dev/dax0.0 and MDFS_TEST_FSDAX_DIR=<ext4 -o dax
// mount>. Without them those tests skip and say why; the sysfs walk that
// tells persistent from volatile device-dax runs here on fake trees.
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "device/device_test_util.h"
#include "device/posix_file.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Pattern;
using device_test::ReadRange;
using device_test::TempDirectory;

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// /sys/dev/char/MAJOR:MINOR/align of a device-dax path (0 if unreadable).
uint64_t DeviceDaxAlign(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  std::ifstream in("/sys/dev/char/" + std::to_string(major(st.st_rdev)) + ":" +
                   std::to_string(minor(st.st_rdev)) + "/align");
  uint64_t align = 0;
  in >> align;
  return align;
}

// Writes `text` to `path`, creating its parent directories.
void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A sysfs-like tree: devices/.../<leaf>, reached through char/252:0 (a
// symlink, as /sys/dev/char/* are). Returns the symlink's path.
std::string FakeSysfs(const TempDirectory& root, const std::string& leaf) {
  const std::filesystem::path device = root.Child("devices") + "/" + leaf;
  std::filesystem::create_directories(device);
  WriteFile(device / "uevent", "MAJOR=252\nMINOR=0\nDEVNAME=dax0.0\n");
  std::filesystem::create_directories(root.Child("char"));
  std::filesystem::create_symlink(device, root.Child("char/252:0"));
  return root.Child("char/252:0");
}

TEST(DaxDevice, NdRegionFoundAboveAPmemDeviceDax) {
  TempDirectory root;
  const std::string link = FakeSysfs(root, "ACPI0012:00/ndbus0/region0/dax0.0/dax0.0");
  WriteFile(root.Child("devices/ACPI0012:00/ndbus0/region0/uevent"), "DEVTYPE=nd_pmem\n");
  std::optional<device_internal::NdRegion> region = device_internal::FindNdRegion(link);
  ASSERT_TRUE(region.has_value());
  EXPECT_EQ(region->name, "region0");
  EXPECT_EQ(region->persistence_domain, "unknown");  // the attribute is hidden (qemu's NFIT)
  WriteFile(root.Child("devices/ACPI0012:00/ndbus0/region0/persistence_domain"),
            "memory_controller\n");
  EXPECT_EQ(device_internal::FindNdRegion(link)->persistence_domain, "memory_controller");
}

TEST(DaxDevice, NoNdRegionAboveDeviceDaxOverRam) {
  TempDirectory hmem;  // dax_hmem: soft-reserved DRAM, no nd region
  EXPECT_FALSE(
      device_internal::FindNdRegion(FakeSysfs(hmem, "platform/hmem.0/dax0.0")).has_value());
  TempDirectory volatile_region;  // an NFIT volatile region: nd, but DRAM
  const std::string link = FakeSysfs(volatile_region, "ndbus0/region1/dax1.0/dax1.0");
  WriteFile(volatile_region.Child("devices/ndbus0/region1/uevent"), "DEVTYPE=nd_volatile\n");
  EXPECT_FALSE(device_internal::FindNdRegion(link).has_value());
  EXPECT_FALSE(device_internal::FindNdRegion(volatile_region.Child("missing")).has_value());
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
  EXPECT_NE((*device)->Describe().find(", pmem region"), std::string::npos)
      << "cpu-cache needs an nd_pmem region above the device: " << (*device)->Describe();
  EXPECT_EQ((*device)->size_bytes() % (2u << 20), 0u);
  const auto data = Pattern(8192, 11);
  const uint64_t offset = (*device)->size_bytes() - 3 * 4096 - 17;
  ASSERT_TRUE((*device)->Write(offset, data).ok());
  ASSERT_TRUE((*device)->Persist(offset, data.size()).ok());
  ASSERT_TRUE((*device)->Flush().ok());  // fence only: device-dax has no msync
  EXPECT_EQ(ReadRange(**device, offset, data.size()), data);
  const uint64_t align = DeviceDaxAlign(path);
  EXPECT_NE((*device)->Describe().find("align " + std::to_string(align >> 10) + " KiB"),
            std::string::npos)
      << (*device)->Describe();
  // MapAt: aligned ranges map and see the device's bytes.
  void* address = mmap(nullptr, 8u << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(address, MAP_FAILED);
  auto* aligned = reinterpret_cast<std::byte*>(
      (reinterpret_cast<uintptr_t>(address) + (2u << 20) - 1) & ~uintptr_t{(2u << 20) - 1});
  ASSERT_TRUE((*device)->MapAt(aligned, 2u << 20, 2u << 20, true).ok());
  ASSERT_TRUE((*device)->Write(2u << 20, data).ok());
  EXPECT_EQ(std::memcmp(aligned, data.data(), data.size()), 0);
  // A 4 KiB range (at an address not overlapping the first mapping: the
  // kernel cannot split a device-dax mapping below its alignment either)
  // maps on a 4 KiB device-dax, and is refused, naming the rule, on a 2 MiB one.
  Status small = (*device)->MapAt(aligned + (4u << 20), 0, 4096, true);
  if (align <= 4096) {
    EXPECT_TRUE(small.ok()) << small.ToString();
  } else {
    EXPECT_EQ(small.code(), Code::kInvalidArgument) << small.ToString();
    EXPECT_NE(small.message().find("is device-dax with a 2 MiB alignment"), std::string::npos)
        << small.ToString();
    EXPECT_NE(small.message().find("/align"), std::string::npos) << small.ToString();
  }
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
