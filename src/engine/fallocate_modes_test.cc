// Which error an invalid fallocate mode gets: as Linux >= 6.12 (checked on
// 6.18 with ext4 and tmpfs), every invalid combination is EOPNOTSUPP
// (kNotSupported), COLLAPSE_RANGE / INSERT_RANGE with another mode included
// (before 6.12 those two were EINVAL). A zero length stays EINVAL.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mdfs/device.h"
#include "mdfs/file_system.h"

namespace mdfs {
namespace {

TEST(FallocateModes, InvalidCombinationsAreNotSupportedAsLinux612) {
  auto device = CreateMemoryDevice(16 << 20);
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto fs = FileSystem::Open(device->get());
  ASSERT_TRUE(fs.ok());
  auto file = (*fs)->Create(kRootInode, "f", S_IFREG | 0644);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*fs)->Write(file->ino, 0, std::vector<std::byte>(1 << 20)).ok());
  const uint32_t invalid[] = {kFallocateCollapseRange | kFallocateKeepSize,
                              kFallocateInsertRange | kFallocateKeepSize,
                              kFallocateCollapseRange | kFallocatePunchHole | kFallocateKeepSize,
                              kFallocatePunchHole | kFallocateZeroRange | kFallocateKeepSize,
                              kFallocatePunchHole,
                              0x4000};
  for (uint32_t mode : invalid) {
    Status status = (*fs)->Fallocate(file->ino, mode, 4096, 4096);
    EXPECT_EQ(status.code(), Code::kNotSupported)
        << "mode 0x" << std::hex << mode << ": " << status.ToString();
  }
  EXPECT_EQ((*fs)->Fallocate(file->ino, 0, 4096, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ((*fs)->GetAttributes(file->ino)->size, 1u << 20) << "nothing changed";
}

}  // namespace
}  // namespace mdfs
