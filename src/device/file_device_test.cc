#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Filled;
using device_test::Pattern;
using device_test::ReadRange;
using device_test::TempDirectory;
using device_test::TempFile;

std::unique_ptr<Device> OpenOrDie(const std::string& path, const FileDeviceOptions& options = {}) {
  auto device = OpenFileDevice(path, options);
  EXPECT_TRUE(device.ok()) << device.status().ToString();
  return device.ok() ? std::move(device).value() : nullptr;
}

TEST(FileDevice, ReadsBackWhatItWroteAtUnalignedOffset) {
  TempFile file(64 * 1024);
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  const auto data = Pattern(5000, 3);
  ASSERT_TRUE(device->Write(777, data).ok());
  EXPECT_EQ(ReadRange(*device, 777, data.size()), data);
  EXPECT_EQ(ReadRange(*device, 0, 777), Filled(777, 0));
}

TEST(FileDevice, SizeComesFromTheFile) {
  TempFile file(12345);
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->size_bytes(), 12345u);
}

TEST(FileDevice, PersistenceModeFollowsTheFileSystem) {
  TempFile file(4096);
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  const PersistenceMode expected = device_test::IsOnRamFileSystem("/tmp")
                                       ? PersistenceMode::kVolatile
                                       : PersistenceMode::kFdatasync;
  EXPECT_EQ(device->persistence_mode(), expected);
}

TEST(FileDevice, FileOnTmpfsIsVolatile) {
  if (!device_test::IsOnRamFileSystem("/dev/shm")) GTEST_SKIP() << "/dev/shm is not tmpfs";
  TempFile file(4096, "/dev/shm");
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->persistence_mode(), PersistenceMode::kVolatile);
}

TEST(FileDevice, MissingFileNamesPathAndError) {
  TempDirectory directory;
  const std::string path = directory.Child("y.img");
  auto device = OpenFileDevice(path);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kNotFound);
  EXPECT_EQ(device.status().message(), "open " + path + ": No such file or directory");
}

TEST(FileDevice, CreatesAbsentFileWithCreateSize) {
  TempDirectory directory;
  const std::string path = directory.Child("new.img");
  auto device = OpenOrDie(path, {.create = true, .create_size = 1 << 20});
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->size_bytes(), 1u << 20);
  EXPECT_EQ(ReadRange(*device, 0, 4096), Filled(4096, 0));
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
}

TEST(FileDevice, NeverTruncatesOrResizesExistingFile) {
  TempFile file(8192);
  const auto data = Pattern(8192, 9);
  {
    auto device = OpenOrDie(file.path());
    ASSERT_NE(device, nullptr);
    ASSERT_TRUE(device->Write(0, data).ok());
  }
  for (uint64_t create_size : {0ull, 4096ull, 65536ull}) {
    auto device = OpenOrDie(file.path(), {.create = true, .create_size = create_size});
    ASSERT_NE(device, nullptr);
    EXPECT_EQ(device->size_bytes(), 8192u) << "create_size " << create_size;
    EXPECT_EQ(ReadRange(*device, 0, 8192), data);
  }
}

TEST(FileDevice, CreateAndReadOnlyAreExclusive) {
  TempDirectory directory;
  auto device = OpenFileDevice(directory.Child("x.img"), {.read_only = true, .create = true});
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kInvalidArgument);
}

TEST(FileDevice, ReadOnlyRefusesWritesButReads) {
  TempFile file(4096);
  {
    auto writable = OpenOrDie(file.path());
    ASSERT_NE(writable, nullptr);
    ASSERT_TRUE(writable->Write(0, Pattern(4096, 1)).ok());
  }
  auto device = OpenOrDie(file.path(), {.read_only = true});
  ASSERT_NE(device, nullptr);
  const Status status = device->Write(0, Filled(16, 0xee));
  EXPECT_EQ(status.code(), Code::kReadOnly) << status.ToString();
  EXPECT_EQ(ReadRange(*device, 0, 4096), Pattern(4096, 1));
  EXPECT_TRUE(device->Flush().ok());
}

TEST(FileDevice, OutOfRangeIsInvalidArgument) {
  TempFile file(4096);
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  std::vector<std::byte> buffer(2);
  const Status past_end = device->Read(4095, buffer);
  EXPECT_EQ(past_end.code(), Code::kInvalidArgument);
  EXPECT_NE(past_end.message().find("offset 4095"), std::string::npos) << past_end.message();
  EXPECT_NE(past_end.message().find("length 2"), std::string::npos) << past_end.message();
  EXPECT_NE(past_end.message().find("size 4096"), std::string::npos) << past_end.message();
  EXPECT_EQ(device->Write(4097, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(device->Write(UINT64_MAX, buffer).code(), Code::kInvalidArgument);  // overflow
  EXPECT_EQ(device->Read(UINT64_MAX - 1, buffer).code(), Code::kInvalidArgument);
  EXPECT_TRUE(device->Read(4096, {}).ok());  // empty, at the end
  EXPECT_TRUE(device->Read(4094, buffer).ok());
}

TEST(FileDevice, FlushedDataSurvivesReopen) {
  TempFile file(16384);
  const auto data = Pattern(3000, 5);
  {
    auto device = OpenOrDie(file.path());
    ASSERT_NE(device, nullptr);
    ASSERT_TRUE(device->Write(10000, data).ok());
    ASSERT_TRUE(device->Flush().ok());
  }
  auto device = OpenOrDie(file.path(), {.read_only = true});
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(ReadRange(*device, 10000, data.size()), data);
}

TEST(FileDevice, DirectoryIsRefused) {
  TempDirectory directory;
  auto device = OpenFileDevice(directory.Child(""), {.read_only = true});
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kIsDirectory) << device.status().ToString();
}

TEST(FileDevice, CharacterDeviceIsRefused) {
  auto device = OpenFileDevice("/dev/null");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), Code::kNoDevice) << device.status().ToString();
}

TEST(FileDevice, ConcurrentWritersToDisjointRanges) {
  constexpr int kThreads = 4;
  constexpr size_t kChunk = 4096;
  TempFile file(kThreads * kChunk * 8);
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const uint64_t offset = (static_cast<uint64_t>(i) * kThreads + t) * kChunk;
        EXPECT_TRUE(device->Write(offset, Pattern(kChunk, static_cast<uint8_t>(t))).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 8 * kThreads; ++i) {
    EXPECT_EQ(ReadRange(*device, i * kChunk, kChunk), Pattern(kChunk, i % kThreads)) << i;
  }
}

TEST(FileDevice, DescribeNamesThePath) {
  TempFile file(4096);
  auto device = OpenOrDie(file.path());
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->Describe(), "file " + file.path());
  EXPECT_EQ(device->mapped_base(), nullptr);
}

}  // namespace
}  // namespace mdfs

namespace mdfs {
namespace {

TEST(ImageLock, SecondWriterIsRefusedReadersShare) {
  device_test::TempFile file(1 << 20);
  const std::string& path = file.path();
  FileDeviceOptions read_only;
  read_only.read_only = true;
  {
    auto writer = OpenFileDevice(path);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    EXPECT_EQ(OpenFileDevice(path).status().code(), Code::kWouldBlock);
    EXPECT_EQ(OpenMappedDevice(path, read_only).status().code(), Code::kWouldBlock);
  }
  auto reader1 = OpenFileDevice(path, read_only);
  auto reader2 = OpenFileDevice(path, read_only);
  EXPECT_TRUE(reader1.ok());
  EXPECT_TRUE(reader2.ok());
  EXPECT_EQ(OpenFileDevice(path).status().code(), Code::kWouldBlock);
}

}  // namespace
}  // namespace mdfs
