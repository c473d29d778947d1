#include <gtest/gtest.h>

#include "format/format.h"
#include "format/format_test_util.h"

namespace mdfs::format {
namespace {

using testing::SparseDevice;

TEST(BlockIo, WriteThenRead) {
  SparseDevice device(10 * kBlockSize);
  Block out{};
  out[0] = std::byte{7};
  out[4095] = std::byte{9};
  ASSERT_TRUE(WriteBlock(&device, 9, out).ok());
  EXPECT_EQ(device.operations().back().offset, 9u * kBlockSize);
  EXPECT_EQ(device.operations().back().length, kBlockSize);
  Block in{};
  ASSERT_TRUE(ReadBlock(&device, 9, in).ok());
  EXPECT_EQ(in, out);
}

TEST(BlockIo, PastTheEnd) {
  SparseDevice device(10 * kBlockSize + 100);  // a partial last block is not a block
  Block block{};
  Status status = ReadBlock(&device, 10, block);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("block 10"), std::string::npos) << status.message();
  EXPECT_EQ(WriteBlock(&device, 10, block).code(), Code::kInvalidArgument);
  // Offsets that would overflow 64 bits are refused, not wrapped.
  EXPECT_EQ(ReadBlock(&device, UINT64_MAX / kBlockSize + 2, block).code(), Code::kInvalidArgument);
  EXPECT_TRUE(device.operations().empty());
}

TEST(BlockIo, DeviceErrorHasContext) {
  SparseDevice device(10 * kBlockSize);
  device.FailOperation(1);
  Block block{};
  Status status = ReadBlock(&device, 3, block);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_EQ(status.message(), "reading block 3: injected fault");
}

}  // namespace
}  // namespace mdfs::format
