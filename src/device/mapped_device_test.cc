#include <sys/mman.h>

#include <cstring>

#include "device/device_test_util.h"
#include "device/mapped_device.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Filled;
using device_test::Pattern;
using device_test::ReadRange;
using device_test::TempDirectory;
using device_test::TempFile;

std::unique_ptr<Device> MapOrDie(const std::string& path, const FileDeviceOptions& options = {}) {
  auto device = OpenMappedDevice(path, options);
  EXPECT_TRUE(device.ok()) << device.status().ToString();
  return device.ok() ? std::move(device).value() : nullptr;
}

TEST(MappedDevice, ReadsBackWhatItWrote) {
  TempFile file(64 * 1024);
  auto device = MapOrDie(file.path());
  ASSERT_NE(device, nullptr);
  const auto data = Pattern(9000, 4);
  ASSERT_TRUE(device->Write(333, data).ok());
  EXPECT_EQ(ReadRange(*device, 333, data.size()), data);
  EXPECT_EQ(device->size_bytes(), 64u * 1024);
}

TEST(MappedDevice, OrdinaryFileIsMsyncOrVolatileOnTmpfs) {
  TempFile file(4096);
  auto device = MapOrDie(file.path());
  ASSERT_NE(device, nullptr);
  const bool ram = device_test::IsOnRamFileSystem("/tmp");
  EXPECT_EQ(device->persistence_mode(), ram ? PersistenceMode::kVolatile : PersistenceMode::kMsync);
  EXPECT_EQ(device->Describe(), "mmap " + file.path() + (ram ? " (volatile)" : " (msync)"));
}

TEST(MappedDevice, FileOnTmpfsIsVolatile) {
  if (!device_test::IsOnRamFileSystem("/dev/shm")) GTEST_SKIP() << "/dev/shm is not tmpfs";
  TempFile file(4096, "/dev/shm");
  auto device = MapOrDie(file.path());
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->persistence_mode(), PersistenceMode::kVolatile);
  EXPECT_TRUE(device->Persist(0, 4096).ok());
  EXPECT_TRUE(device->Flush().ok());
}

TEST(MappedDevice, StoresThroughMappedBaseAreReadBack) {
  TempFile file(8192);
  auto device = MapOrDie(file.path());
  ASSERT_NE(device, nullptr);
  std::byte* base = device->mapped_base();
  ASSERT_NE(base, nullptr);
  const auto data = Pattern(100, 8);
  std::memcpy(base + 4000, data.data(), data.size());
  ASSERT_TRUE(device->Persist(4000, data.size()).ok());
  EXPECT_EQ(ReadRange(*device, 4000, data.size()), data);
  ASSERT_TRUE(device->Write(0, Filled(10, 0x5a)).ok());
  EXPECT_EQ(base[9], std::byte{0x5a});
}

TEST(MappedDevice, PersistedStoresReachTheFile) {
  TempFile file(8192);
  const auto data = Pattern(300, 2);
  {
    auto device = MapOrDie(file.path());
    ASSERT_NE(device, nullptr);
    std::memcpy(device->mapped_base() + 4090, data.data(), data.size());  // spans two pages
    ASSERT_TRUE(device->Persist(4090, data.size()).ok());
  }
  auto reader = OpenFileDevice(file.path(), {.read_only = true});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(ReadRange(**reader, 4090, data.size()), data);
}

TEST(MappedDevice, FlushedWritesSurviveReopen) {
  TempFile file(8192);
  const auto data = Pattern(8192, 6);
  {
    auto device = MapOrDie(file.path());
    ASSERT_NE(device, nullptr);
    ASSERT_TRUE(device->Write(0, data).ok());
    ASSERT_TRUE(device->Flush().ok());
  }
  auto device = MapOrDie(file.path(), {.read_only = true});
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(ReadRange(*device, 0, data.size()), data);
}

TEST(MappedDevice, PersistOutOfRangeIsInvalidArgument) {
  TempFile file(8192);
  auto device = MapOrDie(file.path());
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->Persist(8000, 193).code(), Code::kInvalidArgument);
  EXPECT_EQ(device->Persist(UINT64_MAX, 2).code(), Code::kInvalidArgument);
  EXPECT_TRUE(device->Persist(8000, 192).ok());
  EXPECT_TRUE(device->Persist(8192, 0).ok());
}

TEST(MappedDevice, OutOfRangeIsInvalidArgument) {
  TempFile file(4096);
  auto device = MapOrDie(file.path());
  ASSERT_NE(device, nullptr);
  std::vector<std::byte> buffer(8);
  const Status status = device->Write(4090, buffer);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("offset 4090 length 8"), std::string::npos) << status.message();
  EXPECT_EQ(device->Read(UINT64_MAX - 4, buffer).code(), Code::kInvalidArgument);
}

TEST(MappedDevice, ReadOnlyRefusesWrites) {
  TempFile file(4096);
  auto device = MapOrDie(file.path(), {.read_only = true});
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->Write(0, Filled(4, 1)).code(), Code::kReadOnly);
  EXPECT_NE(device->mapped_base(), nullptr);
  EXPECT_EQ(ReadRange(*device, 0, 4096), Filled(4096, 0));
  EXPECT_NE(device->Describe().find("read-only"), std::string::npos) << device->Describe();
}

TEST(MappedDevice, CreatesAbsentFileAndKeepsExisting) {
  TempDirectory directory;
  const std::string path = directory.Child("m.img");
  {
    auto device = MapOrDie(path, {.create = true, .create_size = 16384});
    ASSERT_NE(device, nullptr);
    EXPECT_EQ(device->size_bytes(), 16384u);
    ASSERT_TRUE(device->Write(16000, Pattern(384, 1)).ok());
    ASSERT_TRUE(device->Flush().ok());
  }
  auto device = MapOrDie(path, {.create = true, .create_size = 4096});
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->size_bytes(), 16384u);
  EXPECT_EQ(ReadRange(*device, 16000, 384), Pattern(384, 1));
}

TEST(MappedDevice, EmptyFileIsRefused) {
  TempFile file(0);
  auto device = OpenMappedDevice(file.path());
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kInvalidArgument);
}

TEST(MappedDevice, MissingFileNamesPath) {
  TempDirectory directory;
  const std::string path = directory.Child("absent.img");
  auto device = OpenMappedDevice(path);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kNotFound);
  EXPECT_EQ(device.status().message(), "open " + path + ": No such file or directory");
}

TEST(MappedDevice, CharacterDeviceWithoutDaxSizeIsRefused) {
  auto device = OpenMappedDevice("/dev/zero", {.read_only = true});
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kNoDevice) << device.status().ToString();
}

// No DAX here, so drive the kCpuCache code path (cache-line write-back in
// Write and Persist, fence-only Flush) over anonymous shared memory.
TEST(MappedDevice, CpuCacheModeWritesPersistsAndFlushes) {
  constexpr size_t kBytes = 1 << 16;
  void* memory = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  device_internal::Mapping mapping;
  mapping.base = static_cast<std::byte*>(memory);
  mapping.size_bytes = kBytes;
  mapping.mode = PersistenceMode::kCpuCache;
  device_internal::MappedDevice device("anonymous", "anonymous (cpu-cache)", mapping);
  const auto data = Pattern(5000, 3);
  ASSERT_TRUE(device.Write(61, data).ok());
  std::memcpy(device.mapped_base() + 20000, data.data(), data.size());
  EXPECT_TRUE(device.Persist(20000, data.size()).ok());
  EXPECT_TRUE(device.Persist(3, 0).ok());
  EXPECT_TRUE(device.Flush().ok());  // fence only: msync_in_flush is false
  EXPECT_EQ(ReadRange(device, 61, data.size()), data);
  EXPECT_EQ(ReadRange(device, 20000, data.size()), data);
  EXPECT_EQ(device.Persist(kBytes - 1, 2).code(), Code::kInvalidArgument);
  EXPECT_EQ(device.persistence_mode(), PersistenceMode::kCpuCache);
}

}  // namespace
}  // namespace mdfs
