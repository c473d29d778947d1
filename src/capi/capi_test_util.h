// A fresh image made by mdfs_mkfs, opened through the C API with a root
// session, for the C API tests.
#ifndef MDFS_SRC_CAPI_CAPI_TEST_UTIL_H_
#define MDFS_SRC_CAPI_CAPI_TEST_UTIL_H_

#include <fcntl.h>

#include <string>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/mdfs.h"

namespace mdfs::capi_test {

// rc >= 0 and the error cleared, else the message.
#define ASSERT_C_OK(call)                                 \
  do {                                                    \
    long long rc_ = static_cast<long long>(call);         \
    ASSERT_GE(rc_, 0) << #call << ": " << error_.message; \
    ASSERT_EQ(error_.error_number, 0) << #call;           \
    ASSERT_STREQ(error_.message, "") << #call;            \
  } while (0)

// The call fails with -errno_value and says so in error_, naming the
// function.
#define EXPECT_C_ERROR(call, errno_value, function)                                           \
  do {                                                                                        \
    long long rc_ = static_cast<long long>(call);                                             \
    EXPECT_EQ(rc_, -(errno_value)) << #call << ": " << error_.message;                        \
    EXPECT_EQ(error_.error_number, errno_value) << #call;                                     \
    EXPECT_EQ(std::string(error_.message).rfind(function, 0), 0u)                             \
        << #call << ": the message should start with " << function << ": " << error_.message; \
  } while (0)

class CapiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = directory_.Child("capi.img");
    ASSERT_C_OK(mdfs_mkfs(image_.c_str(), 64u << 20, 0, &error_));
    ASSERT_C_OK(
        mdfs_volume_open(image_.c_str(), 0, MDFS_LEASE_BREAK_TIME_DEFAULT, &volume_, &error_));
    ASSERT_C_OK(mdfs_session_open(volume_, 0, 0, nullptr, 0, 0, &root_, &error_));
  }
  void TearDown() override {
    if (root_ != nullptr) {
      EXPECT_EQ(mdfs_session_close(root_, &error_), 0) << error_.message;
    }
    if (volume_ != nullptr) {
      EXPECT_EQ(mdfs_volume_close(volume_, &error_), 0) << error_.message;
    }
  }

  mdfs_session* User(uint32_t uid, uint32_t gid) {
    mdfs_session* session = nullptr;
    EXPECT_EQ(mdfs_session_open(volume_, uid, gid, nullptr, 0, 0, &session, &error_), 0)
        << error_.message;
    return session;
  }

  mdfs_file* MustOpen(mdfs_session* session, const char* path, int flags, uint32_t mode = 0644) {
    mdfs_file* file = nullptr;
    EXPECT_EQ(mdfs_open(session, path, flags, mode, &file, &error_), 0)
        << path << ": " << error_.message;
    return file;
  }

  device_test::TempDirectory directory_;
  std::string image_;
  mdfs_error error_{};
  mdfs_volume* volume_ = nullptr;
  mdfs_session* root_ = nullptr;
};

}  // namespace mdfs::capi_test

#endif  // MDFS_SRC_CAPI_CAPI_TEST_UTIL_H_
