// A volume on a fresh memory device, with a root session, for the session
// tests.
#ifndef MDFS_SRC_SESSION_SESSION_TEST_UTIL_H_
#define MDFS_SRC_SESSION_SESSION_TEST_UTIL_H_

#include <fcntl.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mdfs/fsck.h"
#include "mdfs/session.h"

namespace mdfs::session_test {

#define ASSERT_OK(expr) ASSERT_TRUE((expr).ok()) << (expr).ToString()
#define EXPECT_CODE(expr, code_) EXPECT_EQ((expr).code(), Code::code_) << (expr).ToString()

inline std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

inline Credentials User(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups = {}) {
  return Credentials{uid, gid, std::move(groups), 0};
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { Remount({}); }

  // Formats the device once, then (re)opens the volume and a root session.
  void Remount(const VolumeOptions& options) {
    session_.reset();
    volume_.reset();
    if (!device_) {
      auto device = CreateMemoryDevice(uint64_t{64} << 20);
      ASSERT_TRUE(device.ok()) << device.status().ToString();
      device_ = std::move(*device);
      ASSERT_OK(FileSystem::Format(device_.get()));
    }
    auto volume = Volume::Open(device_.get(), options);
    ASSERT_TRUE(volume.ok()) << volume.status().ToString();
    volume_ = std::move(*volume);
    session_ = OpenSession(User(0, 0));
  }

  std::unique_ptr<Session> OpenSession(const Credentials& credentials) {
    auto session = volume_->OpenSession(credentials);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return session.ok() ? std::move(*session) : nullptr;
  }

  std::unique_ptr<File> MustOpen(Session& session, const std::string& path, int flags,
                                 uint32_t mode = 0644) {
    auto file = session.OpenPath(path, flags, mode);
    EXPECT_TRUE(file.ok()) << path << ": " << file.status().ToString();
    return file.ok() ? std::move(*file) : nullptr;
  }

  std::string ReadAll(File& file) {
    std::string out(1 << 20, '\0');
    auto n = file.Read(0, std::as_writable_bytes(std::span(out.data(), out.size())));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    out.resize(n.ok() ? *n : 0);
    return out;
  }

  uint64_t FreeBlocks() {
    auto stats = volume_->StatFs();
    EXPECT_TRUE(stats.ok());
    return stats.ok() ? stats->free_blocks : 0;
  }

  FsckReport Fsck() {
    auto report = CheckFileSystem(device_.get());
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : FsckReport{};
  }

  std::unique_ptr<Device> device_;
  std::unique_ptr<Volume> volume_;
  std::unique_ptr<Session> session_;
};

}  // namespace mdfs::session_test

#endif  // MDFS_SRC_SESSION_SESSION_TEST_UTIL_H_
