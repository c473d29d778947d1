#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Filled;
using device_test::ReadRange;

class FaultDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto memory = CreateMemoryDevice(65536);
    ASSERT_TRUE(memory.ok()) << memory.status().ToString();
    base_ = std::move(memory).value();
    device_ = std::make_unique<FaultDevice>(base_.get());
  }

  Status WriteByte(uint64_t offset, uint8_t value) {
    return device_->Write(offset, Filled(1, value));
  }
  Status ReadByte(uint64_t offset) {
    std::byte byte;
    return device_->Read(offset, {&byte, 1});
  }

  std::unique_ptr<Device> base_;
  std::unique_ptr<FaultDevice> device_;
};

TEST_F(FaultDeviceTest, PassesThroughWhenNotArmed) {
  ASSERT_TRUE(WriteByte(5, 0x42).ok());
  ASSERT_TRUE(device_->Flush().ok());
  EXPECT_EQ(ReadRange(*device_, 5, 1), Filled(1, 0x42));
  EXPECT_EQ(ReadRange(*base_, 5, 1), Filled(1, 0x42));
  EXPECT_EQ(device_->operations_seen(), 3u);  // write, flush, read (not the base read)
  EXPECT_FALSE(device_->fault_fired());
  EXPECT_EQ(device_->size_bytes(), base_->size_bytes());
  EXPECT_EQ(device_->persistence_mode(), base_->persistence_mode());
  EXPECT_EQ(device_->Describe(), "fault(memory 64 KiB)");
}

TEST_F(FaultDeviceTest, FailsExactlyTheNthOperationAcrossKinds) {
  device_->FailNth(3);
  EXPECT_TRUE(ReadByte(0).ok());
  EXPECT_TRUE(WriteByte(0, 1).ok());
  const Status third = device_->Flush();
  EXPECT_EQ(third.code(), Code::kIoError);
  EXPECT_EQ(third.message(), "injected fault: flush #3");
  EXPECT_TRUE(device_->fault_fired());
  EXPECT_TRUE(WriteByte(1, 2).ok());
  EXPECT_EQ(device_->operations_seen(), 4u);
}

TEST_F(FaultDeviceTest, FailedWriteDoesNotReachTheBase) {
  device_->FailNth(2, FaultDevice::kWrite);
  ASSERT_TRUE(WriteByte(0, 0x11).ok());
  const Status second = WriteByte(1, 0x22);
  EXPECT_EQ(second.code(), Code::kIoError);
  EXPECT_EQ(second.message(), "injected fault: write #2");
  EXPECT_EQ(ReadRange(*base_, 0, 2), (std::vector<std::byte>{std::byte{0x11}, std::byte{0}}));
}

TEST_F(FaultDeviceTest, OnlyMatchingKindsAreCountedAndFailed) {
  device_->FailNth(2, FaultDevice::kWrite);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(ReadByte(0).ok());
    EXPECT_TRUE(device_->Flush().ok());
  }
  EXPECT_EQ(device_->operations_seen(), 0u);
  EXPECT_TRUE(WriteByte(0, 1).ok());
  EXPECT_TRUE(ReadByte(0).ok());
  EXPECT_EQ(WriteByte(0, 2).code(), Code::kIoError);
  EXPECT_EQ(device_->operations_seen(), 2u);
}

TEST_F(FaultDeviceTest, CombinedKindsCountTogether) {
  device_->FailNth(3, FaultDevice::kRead | FaultDevice::kFlush);
  EXPECT_TRUE(ReadByte(0).ok());
  EXPECT_TRUE(WriteByte(0, 1).ok());
  EXPECT_TRUE(device_->Flush().ok());
  EXPECT_EQ(ReadByte(0).message(), "injected fault: read #3");
}

TEST_F(FaultDeviceTest, TransientFaultFailsOnlyOnce) {
  device_->FailNth(1, FaultDevice::kRead);
  EXPECT_EQ(ReadByte(0).code(), Code::kIoError);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(ReadByte(0).ok()) << i;
  EXPECT_TRUE(device_->fault_fired());
}

TEST_F(FaultDeviceTest, StickyFaultFailsEveryLaterMatchingOperation) {
  device_->FailNth(2, FaultDevice::kWrite | FaultDevice::kFlush, /*sticky=*/true);
  EXPECT_TRUE(WriteByte(0, 1).ok());
  EXPECT_FALSE(device_->fault_fired());
  EXPECT_EQ(device_->Flush().message(), "injected fault: flush #2");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(WriteByte(0, 9).code(), Code::kIoError) << i;
    EXPECT_TRUE(ReadByte(0).ok()) << i;  // reads are not in the armed kinds
  }
  EXPECT_EQ(device_->Flush().code(), Code::kIoError);
  EXPECT_EQ(ReadRange(*base_, 0, 1), Filled(1, 1));
}

TEST_F(FaultDeviceTest, DisarmStopsAStickyFault) {
  device_->FailNth(1, FaultDevice::kAll, /*sticky=*/true);
  EXPECT_FALSE(ReadByte(0).ok());
  EXPECT_FALSE(ReadByte(0).ok());
  device_->Disarm();
  EXPECT_TRUE(ReadByte(0).ok());
  EXPECT_TRUE(WriteByte(0, 3).ok());
  EXPECT_TRUE(device_->fault_fired());
}

TEST_F(FaultDeviceTest, FailNthRestartsTheCount) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(WriteByte(0, 1).ok());
  EXPECT_EQ(device_->operations_seen(), 7u);
  device_->FailNth(2, FaultDevice::kWrite);
  EXPECT_EQ(device_->operations_seen(), 0u);
  EXPECT_TRUE(WriteByte(0, 1).ok());
  EXPECT_FALSE(WriteByte(0, 1).ok());
}

TEST_F(FaultDeviceTest, ConcurrentWritersSeeExactlyOneFault) {
  constexpr int kThreads = 4, kWritesPerThread = 100;
  device_->FailNth(150, FaultDevice::kWrite);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        if (!WriteByte(t * kWritesPerThread + i, 1).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(device_->operations_seen(), static_cast<uint64_t>(kThreads * kWritesPerThread));
  const auto image = ReadRange(*base_, 0, kThreads * kWritesPerThread);
  EXPECT_EQ(std::count(image.begin(), image.end(), std::byte{1}), kThreads * kWritesPerThread - 1);
}

}  // namespace
}  // namespace mdfs
