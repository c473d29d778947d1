// mdfs mkfs on device-dax: a device whose metadata leaves no whole 2 MiB
// unit for file data is too small (nothing on it could be mapped). The qemu
// lane cannot make one (ndctl's smallest namespace there is 16 MiB), so the
// rule is tested here on the geometry alone.
#include "gtest/gtest.h"
#include "image.h"

namespace mdfs::cli {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(DeviceDaxRoom, TwoMiBDeviceDaxOfOneUnitIsTooSmall) {
  Status status = CheckDeviceDaxRoom(2 * kMiB, 2 * kMiB, FormatOptions{});
  EXPECT_EQ(status.code(), Code::kInvalidArgument) << status.ToString();
  for (const char* part : {"too small", "whole 2048 KiB units", "at least 4 MiB", "--align 4K"}) {
    EXPECT_NE(status.message().find(part), std::string::npos) << part << ": " << status.ToString();
  }
}

TEST(DeviceDaxRoom, AUnitLeftAfterTheMetadataIsEnough) {
  EXPECT_TRUE(CheckDeviceDaxRoom(4 * kMiB, 2 * kMiB, FormatOptions{}).ok());
  EXPECT_TRUE(CheckDeviceDaxRoom(250 * kMiB, 2 * kMiB, FormatOptions{}).ok());
  // A journal that pushes the data past the last whole unit makes it too small.
  FormatOptions big_journal;
  big_journal.journal_blocks = 700;  // of 1024 blocks: data starts past block 512
  Status status = CheckDeviceDaxRoom(4 * kMiB, 2 * kMiB, big_journal);
  EXPECT_EQ(status.code(), Code::kInvalidArgument) << status.ToString();
}

TEST(DeviceDaxRoom, FourKiBAlignmentMapsAnyBlock) {
  EXPECT_TRUE(CheckDeviceDaxRoom(2 * kMiB, 4096, FormatOptions{}).ok());
  EXPECT_TRUE(CheckDeviceDaxRoom(2 * kMiB, 0, FormatOptions{}).ok());  // unknown alignment
}

}  // namespace
}  // namespace mdfs::cli
