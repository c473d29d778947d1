#include "direct/virtual_range.h"

#include <signal.h>

#include <cstring>
#include <vector>

#include "direct/direct_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs::direct_internal {
namespace {

using direct_test::SignalOnLoad;
using direct_test::SignalOnStore;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<VirtualRange> ReserveOrDie(uint64_t file_offset, uint64_t length) {
  auto range = VirtualRange::Reserve(file_offset, length);
  EXPECT_TRUE(range.ok()) << range.status().ToString();
  return range.ok() ? std::move(range).value() : nullptr;
}

std::vector<std::byte> Bytes(size_t size, uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 13 + seed) % 251 + 1);
  return bytes;
}

ExtentInfo Extent(uint64_t file_offset, uint64_t device_offset, uint64_t length) {
  return ExtentInfo{.file_offset = file_offset, .device_offset = device_offset, .length = length};
}

TEST(VirtualRange, AddressIsCongruentToFileOffsetModulo2MiB) {
  for (uint64_t file_offset : {uint64_t{0}, kPage, 5 * kPage, 2 * kMiB + 8 * kPage, 6 * kMiB}) {
    auto range = ReserveOrDie(file_offset, 3 * kMiB);
    ASSERT_NE(range, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(range->data()) % kHugePageBytes,
              file_offset % kHugePageBytes)
        << "file offset " << file_offset;
    EXPECT_EQ(range->file_offset(), file_offset);
    EXPECT_EQ(range->length(), 3 * kMiB);
  }
}

TEST(VirtualRange, ReservedAddressesFault) {
  auto range = ReserveOrDie(0, 4 * kPage);
  ASSERT_NE(range, nullptr);
  EXPECT_EQ(SignalOnLoad(range->data() + kPage), SIGSEGV);
}

TEST(VirtualRange, RefusesUnalignedOrEmptyRequests) {
  EXPECT_EQ(VirtualRange::Reserve(0, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(VirtualRange::Reserve(0, 100).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(VirtualRange::Reserve(512, kPage).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(VirtualRange::Reserve(0, UINT64_MAX & ~(kPage - 1)).status().code(),
            Code::kInvalidArgument);
}

TEST(VirtualRange, ContainsOnlyItsOwnBytes) {
  auto range = ReserveOrDie(kPage, 2 * kPage);
  ASSERT_NE(range, nullptr);
  std::byte* data = range->data();
  EXPECT_TRUE(range->Contains(data, 2 * kPage));
  EXPECT_TRUE(range->Contains(data + 2 * kPage - 1, 1));
  EXPECT_TRUE(range->Contains(data + 100, 0));
  EXPECT_FALSE(range->Contains(data - 1, 1));
  EXPECT_FALSE(range->Contains(data + 1, 2 * kPage));
  EXPECT_FALSE(range->Contains(data, SIZE_MAX));
  range->Unmap();
  EXPECT_FALSE(range->Contains(data, 1));
  range->Unmap();  // idempotent
}

TEST(PlanMapPieces, ClipsToTheRangeAndMergesDeviceContiguousExtents) {
  // File [0, 16K) at device 40K..56K in two extents that follow on, then
  // [16K, 24K) elsewhere; the range is [4K, 20K).
  const std::vector<ExtentInfo> extents = {
      Extent(0, 40 * 1024, 8192), Extent(8192, 48 * 1024, 8192), Extent(16384, 100 * 1024, 8192)};
  auto pieces = PlanMapPieces(extents, 4096, 20480);
  ASSERT_TRUE(pieces.ok()) << pieces.status().ToString();
  ASSERT_EQ(pieces->size(), 2u);
  EXPECT_EQ((*pieces)[0].file_offset, 4096u);
  EXPECT_EQ((*pieces)[0].device_offset, 44u * 1024);
  EXPECT_EQ((*pieces)[0].length, 12288u);
  EXPECT_EQ((*pieces)[1].file_offset, 16384u);
  EXPECT_EQ((*pieces)[1].device_offset, 100u * 1024);
  EXPECT_EQ((*pieces)[1].length, 4096u);
}

TEST(PlanMapPieces, NamesGapsOverlapsAndUnwrittenExtents) {
  auto gap = PlanMapPieces({Extent(0, 0, 4096), Extent(8192, 8192, 4096)}, 0, 12288);
  EXPECT_EQ(gap.status().code(), Code::kCorruption);
  EXPECT_EQ(gap.status().message(), "no extent covers file bytes [4096, 8192)");
  auto short_tail = PlanMapPieces({Extent(0, 0, 4096)}, 0, 8192);
  EXPECT_EQ(short_tail.status().message(), "no extent covers file bytes [4096, 8192)");
  auto overlap = PlanMapPieces({Extent(0, 0, 8192), Extent(4096, 65536, 8192)}, 0, 12288);
  EXPECT_EQ(overlap.status().code(), Code::kCorruption);
  ExtentInfo unwritten = Extent(0, 0, 4096);
  unwritten.flags = kExtentUnwritten;
  EXPECT_EQ(PlanMapPieces({unwritten}, 0, 4096).status().code(), Code::kCorruption);
  EXPECT_EQ(PlanMapPieces({}, 0, 4096).status().code(), Code::kCorruption);
}

class VirtualRangeOnDevice : public testing::Test {
 protected:
  void SetUp() override {
    auto device = CreateMemoryDevice(8 * kMiB);
    ASSERT_TRUE(device.ok());
    device_ = std::move(device).value();
  }
  std::unique_ptr<Device> device_;
};

TEST_F(VirtualRangeOnDevice, StitchedExtentsShowTheirDeviceBytes) {
  const auto first = Bytes(kPage, 1), second = Bytes(2 * kPage, 2);
  ASSERT_TRUE(device_->Write(7 * kMiB, first).ok());
  ASSERT_TRUE(device_->Write(kMiB, second).ok());
  auto range = ReserveOrDie(kPage, 3 * kPage);
  ASSERT_NE(range, nullptr);
  ASSERT_TRUE(
      range
          ->MapExtents(*device_,
                       {Extent(0, 7 * kMiB - kPage, 2 * kPage), Extent(2 * kPage, kMiB, 2 * kPage)},
                       true)
          .ok());
  EXPECT_EQ(std::memcmp(range->data(), first.data(), kPage), 0);
  EXPECT_EQ(std::memcmp(range->data() + kPage, second.data(), 2 * kPage), 0);
  std::memset(range->data() + kPage, 0x77, 10);
  std::vector<std::byte> back(10);
  ASSERT_TRUE(device_->Read(kMiB, back).ok());
  EXPECT_EQ(back, std::vector<std::byte>(10, std::byte{0x77}));
}

TEST_F(VirtualRangeOnDevice, TwoMiBExtentAtTwoMiBFileOffsetGetsTwoMiBAlignedAddress) {
  auto range = ReserveOrDie(2 * kMiB, 2 * kMiB);
  ASSERT_NE(range, nullptr);
  ASSERT_TRUE(range->MapExtents(*device_, {Extent(2 * kMiB, 4 * kMiB, 2 * kMiB)}, false).ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(range->data()) % (2 * kMiB), 0u);
}

TEST_F(VirtualRangeOnDevice, FailedMapLeavesNothingOfTheDeviceMapped) {
  auto range = ReserveOrDie(0, 2 * kPage);
  ASSERT_NE(range, nullptr);
  // The second piece passes the end of the device.
  Status status =
      range->MapExtents(*device_, {Extent(0, 0, kPage), Extent(kPage, 8 * kMiB, kPage)}, false);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("map file bytes [4096, 8192)"), std::string::npos)
      << status.message();
  EXPECT_EQ(SignalOnLoad(range->data()), SIGSEGV);
}

TEST_F(VirtualRangeOnDevice, PoisonedRangeRaisesSigbusOnLoadAndStore) {
  auto range = ReserveOrDie(0, 4 * kPage);
  ASSERT_NE(range, nullptr);
  ASSERT_TRUE(range->MapExtents(*device_, {Extent(0, 0, 4 * kPage)}, true).ok());
  range->data()[kPage] = std::byte{9};
  ASSERT_TRUE(range->Poison().ok());
  EXPECT_EQ(SignalOnLoad(range->data() + kPage), SIGBUS);
  EXPECT_EQ(SignalOnStore(range->data() + 3 * kPage + 17), SIGBUS);
  // The device keeps what was stored before the poison.
  std::vector<std::byte> back(1);
  ASSERT_TRUE(device_->Read(kPage, back).ok());
  EXPECT_EQ(back[0], std::byte{9});
}

TEST_F(VirtualRangeOnDevice, ResetToReservedUnmapsTheDevice) {
  auto range = ReserveOrDie(0, kPage);
  ASSERT_NE(range, nullptr);
  ASSERT_TRUE(range->MapExtents(*device_, {Extent(0, 0, kPage)}, true).ok());
  ASSERT_TRUE(range->ResetToReserved().ok());
  EXPECT_EQ(SignalOnStore(range->data()), SIGSEGV);
}

}  // namespace
}  // namespace mdfs::direct_internal
