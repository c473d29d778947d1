// Every C API entry validates its arguments before it acts: NULL handles
// (and handles of another kind) are EBADF, NULL pointers it needs EINVAL,
// unknown flag bits EOPNOTSUPP; the mdfs_error names the function.
#include <fcntl.h>
#include <sys/mman.h>

#include <string>

#include "capi/capi_test_util.h"

namespace mdfs::capi_test {
namespace {

class CapiArgumentsTest : public CapiTest {
 protected:
  void SetUp() override {
    CapiTest::SetUp();
    file_ = MustOpen(root_, "/f", O_RDWR | O_CREAT, 0644);
    ASSERT_NE(file_, nullptr);
    ASSERT_C_OK(mdfs_map_direct(file_, 0, 4096, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, nullptr,
                                nullptr, &mapping_, &error_));
  }
  void TearDown() override {
    EXPECT_EQ(mdfs_unmap(mapping_, &error_), 0) << error_.message;
    EXPECT_EQ(mdfs_close(file_, &error_), 0) << error_.message;
    CapiTest::TearDown();
  }

  mdfs_file* file_ = nullptr;
  mdfs_mapping* mapping_ = nullptr;
  char buffer_[16] = {};
  mdfs_attributes attributes_{};
  mdfs_mapping_info info_{};
};

int IgnoreEntry(const char*, uint64_t, uint32_t, void*) { return 0; }

TEST_F(CapiArgumentsTest, NullHandlesAreBadHandles) {
  mdfs_session* session = nullptr;
  mdfs_file* file = nullptr;
  mdfs_mapping* mapping = nullptr;
  EXPECT_C_ERROR(mdfs_volume_close(nullptr, &error_), EBADF, "mdfs_volume_close");
  EXPECT_EQ(error_.code, MDFS_CODE_BAD_HANDLE);
  EXPECT_C_ERROR(mdfs_session_open(nullptr, 0, 0, nullptr, 0, 0, &session, &error_), EBADF,
                 "mdfs_session_open");
  EXPECT_C_ERROR(mdfs_session_open_self(nullptr, &session, &error_), EBADF,
                 "mdfs_session_open_self");
  EXPECT_C_ERROR(mdfs_session_close(nullptr, &error_), EBADF, "mdfs_session_close");
  EXPECT_C_ERROR(mdfs_mkdir(nullptr, "/d", 0755, &error_), EBADF, "mdfs_mkdir");
  EXPECT_C_ERROR(mdfs_unlink(nullptr, "/f", 0, &error_), EBADF, "mdfs_unlink");
  EXPECT_C_ERROR(mdfs_rmdir(nullptr, "/d", 0, &error_), EBADF, "mdfs_rmdir");
  EXPECT_C_ERROR(mdfs_rename(nullptr, "/f", "/g", 0, &error_), EBADF, "mdfs_rename");
  EXPECT_C_ERROR(mdfs_readdir(nullptr, "/", IgnoreEntry, nullptr, &error_), EBADF, "mdfs_readdir");
  EXPECT_C_ERROR(mdfs_stat(nullptr, "/f", 0, &attributes_, &error_), EBADF, "mdfs_stat");
  EXPECT_C_ERROR(mdfs_open(nullptr, "/f", O_RDONLY, 0, &file, &error_), EBADF, "mdfs_open");
  EXPECT_C_ERROR(mdfs_close(nullptr, &error_), EBADF, "mdfs_close");
  EXPECT_C_ERROR(mdfs_pread(nullptr, buffer_, 1, 0, &error_), EBADF, "mdfs_pread");
  EXPECT_C_ERROR(mdfs_pwrite(nullptr, buffer_, 1, 0, &error_), EBADF, "mdfs_pwrite");
  EXPECT_C_ERROR(mdfs_fsync(nullptr, 0, &error_), EBADF, "mdfs_fsync");
  EXPECT_C_ERROR(mdfs_ftruncate(nullptr, 0, 0, &error_), EBADF, "mdfs_ftruncate");
  EXPECT_C_ERROR(mdfs_fallocate(nullptr, 0, 0, 4096, 0, &error_), EBADF, "mdfs_fallocate");
  EXPECT_C_ERROR(mdfs_fstat(nullptr, &attributes_, &error_), EBADF, "mdfs_fstat");
  EXPECT_C_ERROR(
      mdfs_map_direct(nullptr, 0, 4096, PROT_READ, 0, nullptr, nullptr, &mapping, &error_), EBADF,
      "mdfs_map_direct");
  EXPECT_C_ERROR(mdfs_mapping_info_get(nullptr, &info_, &error_), EBADF, "mdfs_mapping_info_get");
  EXPECT_C_ERROR(mdfs_persist(nullptr, buffer_, 1, &error_), EBADF, "mdfs_persist");
  EXPECT_C_ERROR(mdfs_unmap(nullptr, &error_), EBADF, "mdfs_unmap");
  EXPECT_EQ(session, nullptr);
  EXPECT_EQ(file, nullptr);
  EXPECT_EQ(mapping, nullptr);
}

TEST_F(CapiArgumentsTest, AHandleOfAnotherKindIsABadHandle) {
  auto* session_as_file = reinterpret_cast<mdfs_file*>(root_);
  auto* file_as_mapping = reinterpret_cast<mdfs_mapping*>(file_);
  auto* mapping_as_session = reinterpret_cast<mdfs_session*>(mapping_);
  auto* volume_as_session = reinterpret_cast<mdfs_session*>(volume_);
  EXPECT_C_ERROR(mdfs_pread(session_as_file, buffer_, 1, 0, &error_), EBADF, "mdfs_pread");
  EXPECT_NE(std::string(error_.message).find("not an open mdfs_file handle"), std::string::npos)
      << error_.message;
  EXPECT_C_ERROR(mdfs_close(session_as_file, &error_), EBADF, "mdfs_close");
  EXPECT_C_ERROR(mdfs_unmap(file_as_mapping, &error_), EBADF, "mdfs_unmap");
  EXPECT_C_ERROR(mdfs_mkdir(mapping_as_session, "/d", 0755, &error_), EBADF, "mdfs_mkdir");
  EXPECT_C_ERROR(mdfs_session_close(volume_as_session, &error_), EBADF, "mdfs_session_close");
  EXPECT_C_ERROR(mdfs_volume_close(reinterpret_cast<mdfs_volume*>(root_), &error_), EBADF,
                 "mdfs_volume_close");
  // Nothing was closed by the refused calls.
  ASSERT_C_OK(mdfs_pwrite(file_, "x", 1, 0, &error_));
}

TEST_F(CapiArgumentsTest, NullPointersAreInvalidArguments) {
  mdfs_session* session = nullptr;
  mdfs_file* file = nullptr;
  mdfs_volume* volume = nullptr;
  const std::string other = directory_.Child("other.img");
  EXPECT_C_ERROR(mdfs_mkfs(nullptr, 1 << 26, 0, &error_), EINVAL, "mdfs_mkfs");
  EXPECT_EQ(error_.code, MDFS_CODE_INVALID_ARGUMENT);
  EXPECT_C_ERROR(mdfs_volume_open(nullptr, 0, -1, &volume, &error_), EINVAL, "mdfs_volume_open");
  EXPECT_C_ERROR(mdfs_volume_open(image_.c_str(), 0, -1, nullptr, &error_), EINVAL,
                 "mdfs_volume_open");
  EXPECT_C_ERROR(mdfs_session_open(volume_, 0, 0, nullptr, 0, 0, nullptr, &error_), EINVAL,
                 "mdfs_session_open");
  EXPECT_C_ERROR(mdfs_session_open(volume_, 0, 0, nullptr, 2, 0, &session, &error_), EINVAL,
                 "mdfs_session_open");
  EXPECT_C_ERROR(mdfs_session_open_self(volume_, nullptr, &error_), EINVAL,
                 "mdfs_session_open_self");
  EXPECT_C_ERROR(mdfs_mkdir(root_, nullptr, 0755, &error_), EINVAL, "mdfs_mkdir");
  EXPECT_C_ERROR(mdfs_unlink(root_, nullptr, 0, &error_), EINVAL, "mdfs_unlink");
  EXPECT_C_ERROR(mdfs_rmdir(root_, nullptr, 0, &error_), EINVAL, "mdfs_rmdir");
  EXPECT_C_ERROR(mdfs_rename(root_, nullptr, "/g", 0, &error_), EINVAL, "mdfs_rename");
  EXPECT_C_ERROR(mdfs_rename(root_, "/f", nullptr, 0, &error_), EINVAL, "mdfs_rename");
  EXPECT_C_ERROR(mdfs_readdir(root_, nullptr, IgnoreEntry, nullptr, &error_), EINVAL,
                 "mdfs_readdir");
  EXPECT_C_ERROR(mdfs_readdir(root_, "/", nullptr, nullptr, &error_), EINVAL, "mdfs_readdir");
  EXPECT_C_ERROR(mdfs_stat(root_, nullptr, 0, &attributes_, &error_), EINVAL, "mdfs_stat");
  EXPECT_C_ERROR(mdfs_stat(root_, "/f", 0, nullptr, &error_), EINVAL, "mdfs_stat");
  EXPECT_C_ERROR(mdfs_open(root_, nullptr, O_RDONLY, 0, &file, &error_), EINVAL, "mdfs_open");
  EXPECT_C_ERROR(mdfs_open(root_, "/f", O_RDONLY, 0, nullptr, &error_), EINVAL, "mdfs_open");
  EXPECT_C_ERROR(mdfs_pread(file_, nullptr, 1, 0, &error_), EINVAL, "mdfs_pread");
  EXPECT_C_ERROR(mdfs_pwrite(file_, nullptr, 1, 0, &error_), EINVAL, "mdfs_pwrite");
  EXPECT_C_ERROR(mdfs_pread(file_, buffer_, size_t{1} << 63, 0, &error_), EINVAL, "mdfs_pread");
  EXPECT_C_ERROR(mdfs_fstat(file_, nullptr, &error_), EINVAL, "mdfs_fstat");
  EXPECT_C_ERROR(mdfs_map_direct(file_, 0, 4096, PROT_READ, 0, nullptr, nullptr, nullptr, &error_),
                 EINVAL, "mdfs_map_direct");
  EXPECT_C_ERROR(mdfs_mapping_info_get(mapping_, nullptr, &error_), EINVAL,
                 "mdfs_mapping_info_get");
  EXPECT_C_ERROR(mdfs_persist(mapping_, nullptr, 1, &error_), EINVAL, "mdfs_persist");
  // Not NULL, but outside the mapping.
  EXPECT_C_ERROR(mdfs_persist(mapping_, buffer_, 1, &error_), EINVAL, "mdfs_persist");
  // Values out of range.
  EXPECT_C_ERROR(mdfs_volume_open(image_.c_str(), 0, -2, &volume, &error_), EINVAL,
                 "mdfs_volume_open");
  EXPECT_C_ERROR(mdfs_mkfs(other.c_str(), 0, 0, &error_), EINVAL, "mdfs_mkfs");
  EXPECT_C_ERROR(mdfs_mkfs(image_.c_str(), 1 << 26, MDFS_MKFS_EXISTING, &error_), EINVAL,
                 "mdfs_mkfs");
  mdfs_mapping* mapping = nullptr;
  EXPECT_C_ERROR(
      mdfs_map_direct(file_, 100, 4096, PROT_READ, 0, nullptr, nullptr, &mapping, &error_), EINVAL,
      "mdfs_map_direct");
  EXPECT_EQ(mapping, nullptr);
  EXPECT_C_ERROR(mdfs_open(root_, "/f", O_ACCMODE, 0, &file, &error_), EINVAL, "mdfs_open");
  // A pread of nothing needs no buffer.
  EXPECT_EQ(mdfs_pread(file_, nullptr, 0, 0, &error_), 0) << error_.message;
  EXPECT_EQ(session, nullptr);
  EXPECT_EQ(file, nullptr);
  EXPECT_EQ(volume, nullptr);
}

TEST_F(CapiArgumentsTest, UnknownFlagsAreNotSupported) {
  mdfs_volume* volume = nullptr;
  mdfs_file* file = nullptr;
  mdfs_mapping* mapping = nullptr;
  const std::string other = directory_.Child("other.img");
  EXPECT_C_ERROR(mdfs_mkfs(other.c_str(), 1 << 26, 1u << 7, &error_), EOPNOTSUPP, "mdfs_mkfs");
  EXPECT_EQ(error_.code, MDFS_CODE_NOT_SUPPORTED);
  EXPECT_NE(std::string(error_.message).find("0x80"), std::string::npos) << error_.message;
  EXPECT_C_ERROR(mdfs_volume_open(image_.c_str(), 1u << 3, -1, &volume, &error_), EOPNOTSUPP,
                 "mdfs_volume_open");
  EXPECT_C_ERROR(mdfs_unlink(root_, "/f", 1, &error_), EOPNOTSUPP, "mdfs_unlink");
  EXPECT_C_ERROR(mdfs_rmdir(root_, "/d", 1u << 30, &error_), EOPNOTSUPP, "mdfs_rmdir");
  EXPECT_C_ERROR(mdfs_rename(root_, "/f", "/g", 1u << 2, &error_), EOPNOTSUPP, "mdfs_rename");
  EXPECT_C_ERROR(mdfs_stat(root_, "/f", 1u << 1, &attributes_, &error_), EOPNOTSUPP, "mdfs_stat");
  EXPECT_C_ERROR(mdfs_fsync(file_, 1u << 1, &error_), EOPNOTSUPP, "mdfs_fsync");
  EXPECT_C_ERROR(mdfs_ftruncate(file_, 0, 1, &error_), EOPNOTSUPP, "mdfs_ftruncate");
  EXPECT_C_ERROR(mdfs_fallocate(file_, 0, 0, 4096, 1, &error_), EOPNOTSUPP, "mdfs_fallocate");
  // Flags the C layer passes on are checked below it, with the same answer.
  EXPECT_C_ERROR(mdfs_open(root_, "/f", O_RDONLY | O_PATH, 0, &file, &error_), EOPNOTSUPP,
                 "mdfs_open");
  EXPECT_C_ERROR(mdfs_fallocate(file_, 0x80, 0, 4096, 0, &error_), EOPNOTSUPP, "mdfs_fallocate");
  EXPECT_C_ERROR(
      mdfs_map_direct(file_, 0, 4096, PROT_READ, 1u << 5, nullptr, nullptr, &mapping, &error_),
      EOPNOTSUPP, "mdfs_map_direct");
  EXPECT_C_ERROR(mdfs_map_direct(file_, 0, 4096, PROT_READ | PROT_EXEC, 0, nullptr, nullptr,
                                 &mapping, &error_),
                 EOPNOTSUPP, "mdfs_map_direct");
  // Refused before anything was done: "/f" is still there, nothing was made.
  ASSERT_C_OK(mdfs_stat(root_, "/f", 0, &attributes_, &error_));
  EXPECT_EQ(volume, nullptr);
  EXPECT_EQ(file, nullptr);
  EXPECT_EQ(mapping, nullptr);
}

TEST_F(CapiArgumentsTest, TheErrorMayBeNullAndIsClearedOnSuccess) {
  EXPECT_EQ(mdfs_pread(nullptr, buffer_, 1, 0, nullptr), -EBADF);
  EXPECT_EQ(mdfs_unlink(root_, "/missing", 0, nullptr), -ENOENT);
  EXPECT_EQ(mdfs_pwrite(file_, "ab", 2, 0, nullptr), 2);
  EXPECT_EQ(mdfs_unlink(root_, "/missing", 0, &error_), -ENOENT);
  EXPECT_EQ(error_.code, MDFS_CODE_NOT_FOUND);
  ASSERT_C_OK(mdfs_pread(file_, buffer_, sizeof buffer_, 0, &error_));
  EXPECT_EQ(error_.code, MDFS_CODE_OK);
}

TEST_F(CapiArgumentsTest, ALongMessageIsCutToFitAndTerminated) {
  const std::string path = "/" + std::string(5000, 'x');
  EXPECT_C_ERROR(mdfs_unlink(root_, path.c_str(), 0, &error_), ENAMETOOLONG, "mdfs_unlink");
  EXPECT_EQ(std::string(error_.message).size(), MDFS_ERROR_MESSAGE_SIZE - 1);
}

}  // namespace
}  // namespace mdfs::capi_test
