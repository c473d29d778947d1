#include <algorithm>
#include <vector>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Filled;
using device_test::Pattern;
using device_test::ReadAll;
using device_test::ReadRange;
using CrashOptions = CrashDevice::CrashOptions;

constexpr size_t kSector = 512;
constexpr uint64_t kDeviceBytes = 256 * 1024;

std::unique_ptr<Device> NewMemory() {
  auto memory = CreateMemoryDevice(kDeviceBytes);
  EXPECT_TRUE(memory.ok()) << memory.status().ToString();
  return memory.ok() ? std::move(memory).value() : nullptr;
}

CrashOptions KeepAll(uint64_t seed = 1) {
  return {.seed = seed, .keep_probability = 1, .drop_probability = 0};
}
CrashOptions DropAll(uint64_t seed = 1) {
  return {.seed = seed, .keep_probability = 0, .drop_probability = 1};
}
CrashOptions TearAll(uint64_t seed = 1) {
  return {.seed = seed, .keep_probability = 0, .drop_probability = 0};
}

// Writes `count` distinct 8-sector writes at 4 KiB steps, unflushed.
void WriteBlocks(Device& device, int count) {
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(device.Write(i * 4096, Pattern(4096, static_cast<uint8_t>(i + 1))).ok());
  }
}

class CrashDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = NewMemory();
    ASSERT_NE(base_, nullptr);
    device_ = std::make_unique<CrashDevice>(base_.get());
  }

  std::unique_ptr<Device> base_;
  std::unique_ptr<CrashDevice> device_;
};

TEST_F(CrashDeviceTest, UnflushedWritesAreReadButNotOnTheBase) {
  ASSERT_TRUE(device_->Write(100, Pattern(1000, 1)).ok());
  EXPECT_EQ(device_->unflushed_write_count(), 1u);
  EXPECT_EQ(ReadRange(*device_, 100, 1000), Pattern(1000, 1));
  EXPECT_EQ(ReadRange(*base_, 100, 1000), Filled(1000, 0));
}

TEST_F(CrashDeviceTest, OverlappingWritesOverlayInOrder) {
  ASSERT_TRUE(device_->Write(0, Filled(100, 0xaa)).ok());
  ASSERT_TRUE(device_->Write(50, Filled(100, 0xbb)).ok());
  ASSERT_TRUE(device_->Write(20, Filled(10, 0xcc)).ok());
  std::vector<std::byte> expected = Filled(200, 0);
  std::fill_n(expected.begin(), 100, std::byte{0xaa});
  std::fill_n(expected.begin() + 50, 100, std::byte{0xbb});
  std::fill_n(expected.begin() + 20, 10, std::byte{0xcc});
  EXPECT_EQ(ReadRange(*device_, 0, 200), expected);
  EXPECT_EQ(ReadRange(*device_, 40, 30),
            std::vector<std::byte>(expected.begin() + 40, expected.begin() + 70));
  ASSERT_TRUE(device_->Flush().ok());
  EXPECT_EQ(ReadRange(*base_, 0, 200), expected);
}

TEST_F(CrashDeviceTest, FlushAppliesHeldWritesToTheBase) {
  WriteBlocks(*device_, 3);
  ASSERT_TRUE(device_->Flush().ok());
  EXPECT_EQ(device_->unflushed_write_count(), 0u);
  EXPECT_EQ(ReadRange(*base_, 4096, 4096), Pattern(4096, 2));
  EXPECT_EQ(device_->writes_seen(), 3u);
}

TEST_F(CrashDeviceTest, FlushedWritesSurviveACrash) {
  ASSERT_TRUE(device_->Write(0, Pattern(4096, 1)).ok());
  ASSERT_TRUE(device_->Flush().ok());
  ASSERT_TRUE(device_->Write(0, Pattern(4096, 2)).ok());  // unflushed, dropped
  device_->Crash(DropAll());
  EXPECT_EQ(ReadRange(*base_, 0, 4096), Pattern(4096, 1));
}

TEST_F(CrashDeviceTest, KeepProbabilityOneKeepsEverything) {
  WriteBlocks(*device_, 20);
  const auto before = ReadAll(*device_);
  device_->Crash(KeepAll(77));
  EXPECT_EQ(ReadAll(*base_), before);
}

TEST_F(CrashDeviceTest, DropProbabilityOneDropsEverythingUnflushed) {
  WriteBlocks(*device_, 20);
  device_->Crash(DropAll(77));
  EXPECT_EQ(ReadAll(*base_), Filled(kDeviceBytes, 0));
}

// Each torn sector is wholly old or wholly new; with 160 sectors both occur.
TEST_F(CrashDeviceTest, TornWritesChangeOnlyWholeSectors) {
  WriteBlocks(*device_, 20);
  const auto written = ReadAll(*device_);
  device_->Crash(TearAll(5));
  const auto image = ReadAll(*base_);
  int kept = 0, dropped = 0;
  for (size_t sector = 0; sector < 20 * 4096 / kSector; ++sector) {
    const auto begin = sector * kSector;
    const std::vector<std::byte> actual(image.begin() + begin, image.begin() + begin + kSector);
    if (actual == Filled(kSector, 0)) {
      ++dropped;
    } else {
      EXPECT_EQ(actual,
                std::vector<std::byte>(written.begin() + begin, written.begin() + begin + kSector))
          << "sector " << sector;
      ++kept;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(dropped, 0);
}

// A write at offset 100 of 1000 bytes is torn at 512 and 1024.
TEST_F(CrashDeviceTest, UnalignedWriteTearsAtSectorBoundaries) {
  bool saw_partial = false;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    auto base = NewMemory();
    ASSERT_NE(base, nullptr);
    CrashDevice device(base.get());
    ASSERT_TRUE(device.Write(100, Filled(1000, 0xff)).ok());
    device.Crash(TearAll(seed));
    const auto image = ReadRange(*base, 0, 1200);
    const auto piece_is_uniform = [&](size_t begin, size_t end) {
      return std::all_of(image.begin() + begin, image.begin() + end,
                         [&](std::byte b) { return b == image[begin]; });
    };
    EXPECT_TRUE(piece_is_uniform(100, 512)) << "seed " << seed;
    EXPECT_TRUE(piece_is_uniform(512, 1024)) << "seed " << seed;
    EXPECT_TRUE(piece_is_uniform(1024, 1100)) << "seed " << seed;
    EXPECT_EQ(ReadRange(*base, 0, 100), Filled(100, 0));
    EXPECT_EQ(ReadRange(*base, 1100, 100), Filled(100, 0));
    const int applied =
        (image[100] != std::byte{0}) + (image[512] != std::byte{0}) + (image[1024] != std::byte{0});
    saw_partial |= applied == 1 || applied == 2;
  }
  EXPECT_TRUE(saw_partial);
}

std::vector<std::byte> CrashImage(const CrashOptions& options) {
  auto base = NewMemory();
  if (base == nullptr) return {};
  CrashDevice device(base.get());
  WriteBlocks(device, 30);
  device.Write(1000, Filled(5000, 0x33));  // overlaps several blocks
  device.Crash(options);
  return ReadAll(*base);
}

TEST(CrashDevice, SameSeedGivesTheSameImage) {
  const CrashOptions options{.seed = 42};
  EXPECT_EQ(CrashImage(options), CrashImage(options));
}

TEST(CrashDevice, DifferentSeedsGiveDifferentImages) {
  const auto first = CrashImage({.seed = 1});
  int different = 0;
  for (uint64_t seed = 2; seed <= 5; ++seed) different += CrashImage({.seed = seed}) != first;
  EXPECT_GT(different, 0);
}

TEST_F(CrashDeviceTest, CrashedDeviceRefusesIoUntilReset) {
  ASSERT_TRUE(device_->Write(0, Filled(10, 1)).ok());
  device_->Crash(KeepAll());
  EXPECT_TRUE(device_->crashed());
  EXPECT_EQ(device_->unflushed_write_count(), 0u);
  std::vector<std::byte> buffer(10);
  const Status read = device_->Read(0, buffer);
  EXPECT_EQ(read.code(), Code::kIoError);
  EXPECT_EQ(read.message(), "device crashed (simulated power loss)");
  EXPECT_EQ(device_->Write(0, buffer).code(), Code::kIoError);
  EXPECT_EQ(device_->Flush().code(), Code::kIoError);
  device_->Reset();
  EXPECT_FALSE(device_->crashed());
  EXPECT_EQ(ReadRange(*device_, 0, 10), Filled(10, 1));
  EXPECT_TRUE(device_->Write(0, buffer).ok());
}

TEST_F(CrashDeviceTest, FreshDeviceAndResetShowThePostCrashImage) {
  WriteBlocks(*device_, 30);
  device_->Crash({.seed = 9});
  const auto base_image = ReadAll(*base_);
  CrashDevice fresh(base_.get());
  EXPECT_EQ(ReadAll(fresh), base_image);
  device_->Reset();
  EXPECT_EQ(ReadAll(*device_), base_image);
}

TEST_F(CrashDeviceTest, ResetForgetsHeldWrites) {
  ASSERT_TRUE(device_->Write(0, Filled(10, 1)).ok());
  device_->Reset();
  EXPECT_EQ(device_->unflushed_write_count(), 0u);
  EXPECT_EQ(ReadRange(*device_, 0, 10), Filled(10, 0));
}

TEST_F(CrashDeviceTest, CrashAtWriteCrashesInsteadOfTheNthWrite) {
  ASSERT_TRUE(device_->Write(0, Filled(10, 9)).ok());  // before arming: not counted
  device_->CrashAtWrite(3, KeepAll());
  ASSERT_TRUE(device_->Write(4096, Filled(10, 1)).ok());
  ASSERT_TRUE(device_->Write(8192, Filled(10, 2)).ok());
  EXPECT_FALSE(device_->crashed());
  const Status third = device_->Write(12288, Filled(10, 3));
  EXPECT_EQ(third.code(), Code::kIoError);
  EXPECT_TRUE(device_->crashed());
  EXPECT_EQ(device_->Write(16384, Filled(10, 4)).code(), Code::kIoError);
  EXPECT_EQ(device_->writes_seen(), 4u);
  EXPECT_EQ(ReadRange(*base_, 0, 10), Filled(10, 9));
  EXPECT_EQ(ReadRange(*base_, 4096, 10), Filled(10, 1));
  EXPECT_EQ(ReadRange(*base_, 8192, 10), Filled(10, 2));
  EXPECT_EQ(ReadRange(*base_, 12288, 10), Filled(10, 0));
  EXPECT_EQ(ReadRange(*base_, 16384, 10), Filled(10, 0));
}

TEST_F(CrashDeviceTest, CrashAtWriteUsesItsOptions) {
  device_->CrashAtWrite(2, DropAll());
  ASSERT_TRUE(device_->Write(0, Filled(10, 1)).ok());
  EXPECT_FALSE(device_->Write(10, Filled(10, 2)).ok());
  EXPECT_EQ(ReadRange(*base_, 0, 20), Filled(20, 0));
}

TEST_F(CrashDeviceTest, CrashAtWriteZeroDisarms) {
  device_->CrashAtWrite(2, KeepAll());
  device_->CrashAtWrite(0, KeepAll());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(device_->Write(i, Filled(1, 1)).ok()) << i;
  EXPECT_FALSE(device_->crashed());
}

TEST_F(CrashDeviceTest, OutOfRangeWriteIsRefusedAndNotHeld) {
  const Status status = device_->Write(kDeviceBytes - 5, Filled(10, 1));
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(device_->unflushed_write_count(), 0u);
  std::vector<std::byte> buffer(10);
  EXPECT_EQ(device_->Read(kDeviceBytes - 5, buffer).code(), Code::kInvalidArgument);
}

TEST(CrashDevice, PostCrashImageSurvivesReopeningAFile) {
  device_test::TempFile file(64 * 1024);
  {
    auto base = OpenFileDevice(file.path());
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    CrashDevice device(base->get());
    ASSERT_TRUE(device.Write(0, Pattern(4096, 1)).ok());
    ASSERT_TRUE(device.Flush().ok());
    ASSERT_TRUE(device.Write(4096, Pattern(4096, 2)).ok());
    ASSERT_TRUE(device.Write(8192, Pattern(4096, 3)).ok());
    device.Crash(KeepAll());
    ASSERT_TRUE(device.Write(12288, Pattern(4096, 4)).code() == Code::kIoError);
  }
  auto reopened = OpenFileDevice(file.path(), {.read_only = true});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(ReadRange(**reopened, 0, 4096), Pattern(4096, 1));
  EXPECT_EQ(ReadRange(**reopened, 4096, 4096), Pattern(4096, 2));
  EXPECT_EQ(ReadRange(**reopened, 8192, 4096), Pattern(4096, 3));
  EXPECT_EQ(ReadRange(**reopened, 12288, 4096), Filled(4096, 0));
}

TEST_F(CrashDeviceTest, PassesThroughSizeModeAndDescribe) {
  EXPECT_EQ(device_->size_bytes(), kDeviceBytes);
  EXPECT_EQ(device_->persistence_mode(), PersistenceMode::kVolatile);
  EXPECT_EQ(device_->Describe(), "crash(memory 256 KiB)");
}

}  // namespace
}  // namespace mdfs

namespace mdfs {
namespace {

TEST(CrashAtFlush, HeldWritesAreKeptDroppedOrTornAtTheArmedFlush) {
  auto base = CreateMemoryDevice(1 << 20);
  ASSERT_TRUE(base.ok());
  CrashDevice crash(base->get());
  std::vector<std::byte> ones(8 * 512, std::byte{1});
  ASSERT_TRUE(crash.Write(0, ones).ok());
  ASSERT_TRUE(crash.Flush().ok());  // flush #1 passes
  CrashDevice::CrashOptions drop_all;
  drop_all.keep_probability = 0;
  drop_all.drop_probability = 1;
  crash.CrashAtFlush(1, drop_all);
  std::vector<std::byte> twos(8 * 512, std::byte{2});
  ASSERT_TRUE(crash.Write(0, twos).ok());
  EXPECT_EQ(crash.Flush().code(), Code::kIoError);
  EXPECT_TRUE(crash.crashed());
  std::vector<std::byte> seen(8 * 512);
  ASSERT_TRUE((*base)->Read(0, seen).ok());
  EXPECT_EQ(seen, ones) << "a dropped write must not reach the base device";
  EXPECT_EQ(crash.flushes_seen(), 2u);
}

TEST(CrashAtFlush, TornWriteChangesWholeSectorsOnly) {
  auto base = CreateMemoryDevice(1 << 20);
  ASSERT_TRUE(base.ok());
  CrashDevice crash(base->get());
  CrashDevice::CrashOptions tear;
  tear.keep_probability = 0;
  tear.drop_probability = 0;
  tear.seed = 7;
  crash.CrashAtFlush(1, tear);
  std::vector<std::byte> twos(64 * 512, std::byte{2});
  ASSERT_TRUE(crash.Write(0, twos).ok());
  EXPECT_FALSE(crash.Flush().ok());
  std::vector<std::byte> seen(64 * 512);
  ASSERT_TRUE((*base)->Read(0, seen).ok());
  int applied = 0;
  for (int sector = 0; sector < 64; ++sector) {
    std::byte first = seen[sector * 512];
    for (int i = 0; i < 512; ++i) ASSERT_EQ(seen[sector * 512 + i], first);
    applied += first == std::byte{2};
  }
  EXPECT_GT(applied, 0);
  EXPECT_LT(applied, 64);
}

}  // namespace
}  // namespace mdfs
