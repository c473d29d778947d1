#include <cstring>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Filled;
using device_test::Pattern;
using device_test::ReadAll;
using device_test::ReadRange;

std::unique_ptr<Device> CreateOrDie(uint64_t size_bytes) {
  auto device = CreateMemoryDevice(size_bytes);
  EXPECT_TRUE(device.ok()) << device.status().ToString();
  return device.ok() ? std::move(device).value() : nullptr;
}

TEST(MemoryDevice, StartsZeroedWithTheRequestedSize) {
  auto device = CreateOrDie(1 << 20);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->size_bytes(), 1u << 20);
  EXPECT_EQ(ReadAll(*device), Filled(1 << 20, 0));
}

TEST(MemoryDevice, ReadsBackWhatItWrote) {
  auto device = CreateOrDie(65536);
  ASSERT_NE(device, nullptr);
  const auto data = Pattern(7000, 1);
  ASSERT_TRUE(device->Write(12345, data).ok());
  EXPECT_EQ(ReadRange(*device, 12345, data.size()), data);
  EXPECT_EQ(ReadRange(*device, 12345 + data.size(), 10), Filled(10, 0));
}

TEST(MemoryDevice, IsVolatileAndFlushPersistSucceed) {
  auto device = CreateOrDie(4096);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->persistence_mode(), PersistenceMode::kVolatile);
  EXPECT_TRUE(device->Flush().ok());
  EXPECT_TRUE(device->Persist(10, 100).ok());
  EXPECT_EQ(device->Persist(4000, 100).code(), Code::kInvalidArgument);
}

TEST(MemoryDevice, MappedBaseIsTheDevice) {
  auto device = CreateOrDie(8192);
  ASSERT_NE(device, nullptr);
  std::byte* base = device->mapped_base();
  ASSERT_NE(base, nullptr);
  const auto data = Pattern(64, 2);
  std::memcpy(base + 5000, data.data(), data.size());
  EXPECT_EQ(ReadRange(*device, 5000, data.size()), data);
  ASSERT_TRUE(device->Write(0, Filled(3, 0x77)).ok());
  EXPECT_EQ(base[2], std::byte{0x77});
}

TEST(MemoryDevice, OutOfRangeIsInvalidArgument) {
  auto device = CreateOrDie(4096);
  ASSERT_NE(device, nullptr);
  std::vector<std::byte> buffer(16);
  EXPECT_EQ(device->Read(4081, buffer).code(), Code::kInvalidArgument);
  EXPECT_EQ(device->Write(UINT64_MAX - 8, buffer).code(), Code::kInvalidArgument);
  EXPECT_TRUE(device->Write(4080, buffer).ok());
}

TEST(MemoryDevice, DevicesAreIndependent) {
  auto first = CreateOrDie(4096);
  auto second = CreateOrDie(4096);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Write(0, Filled(4096, 0x11)).ok());
  EXPECT_EQ(ReadAll(*second), Filled(4096, 0));
}

TEST(MemoryDevice, ZeroSizeIsRefused) {
  EXPECT_EQ(CreateMemoryDevice(0).status().code(), Code::kInvalidArgument);
}

TEST(MemoryDevice, DescribeGivesTheSize) {
  auto device = CreateOrDie(64 << 20);
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->Describe(), "memory 64 MiB");
  auto odd = CreateOrDie(1000);
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(odd->Describe(), "memory 1000 bytes");
}

}  // namespace
}  // namespace mdfs
