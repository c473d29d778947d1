// The C API's behaviour: the namespace by path, permissions, lifetimes
// (EBUSY, a session closed before its files), recalls and non-blocking
// breaks, mkfs, read-only volumes; fsck is clean afterwards.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "capi/capi_internal.h"
#include "capi/capi_test_util.h"
#include "mdfs/fsck.h"

namespace mdfs::capi_test {
namespace {

struct Names {
  std::set<std::string> names;
  int stop_after = 0;  // 0: never stop
};

int Collect(const char* name, uint64_t, uint32_t, void* user_data) {
  auto* names = static_cast<Names*>(user_data);
  names->names.insert(name);
  return names->stop_after != 0 && static_cast<int>(names->names.size()) >= names->stop_after;
}

TEST_F(CapiTest, NamespaceByPath) {
  ASSERT_C_OK(mdfs_mkdir(root_, "/a", 0755, &error_));
  ASSERT_C_OK(mdfs_mkdir(root_, "a/b/", 0755, &error_));  // relative to the root; trailing '/'
  mdfs_file* file = MustOpen(root_, "/a/b/f", O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_NE(file, nullptr);
  ASSERT_C_OK(mdfs_close(file, &error_));
  ASSERT_C_OK(mdfs_rename(root_, "/a/b/f", "/a/g", 0, &error_));
  mdfs_attributes attributes{};
  ASSERT_C_OK(mdfs_stat(root_, "/a/g", 0, &attributes, &error_));
  EXPECT_TRUE(S_ISREG(attributes.mode));
  EXPECT_EQ(attributes.mode & 07777, 0600u);
  EXPECT_EQ(attributes.nlink, 1u);
  EXPECT_NE(attributes.generation, 0u);

  Names all;
  EXPECT_EQ(mdfs_readdir(root_, "/a", Collect, &all, &error_), 2) << error_.message;
  EXPECT_EQ(all.names, (std::set<std::string>{"b", "g"}));
  Names first;
  first.stop_after = 1;
  EXPECT_EQ(mdfs_readdir(root_, "/a", Collect, &first, &error_), 1) << "the callback stopped it";

  EXPECT_C_ERROR(mdfs_unlink(root_, "/a/g/", 0, &error_), ENOTDIR, "mdfs_unlink");
  EXPECT_C_ERROR(mdfs_rename(root_, "/a/g/", "/a/h", 0, &error_), ENOTDIR, "mdfs_rename");
  EXPECT_C_ERROR(mdfs_rmdir(root_, "/a", 0, &error_), ENOTEMPTY, "mdfs_rmdir");
  EXPECT_C_ERROR(mdfs_unlink(root_, "/a/b", 0, &error_), EISDIR, "mdfs_unlink");
  EXPECT_C_ERROR(mdfs_mkdir(root_, "/a/g/x", 0755, &error_), ENOTDIR, "mdfs_mkdir");
  EXPECT_C_ERROR(mdfs_readdir(root_, "/a/g", Collect, &all, &error_), ENOTDIR, "mdfs_readdir");
  EXPECT_C_ERROR(mdfs_stat(root_, "", 0, &attributes, &error_), ENOENT, "mdfs_stat");
  // The root: Linux's answers.
  EXPECT_C_ERROR(mdfs_mkdir(root_, "/", 0755, &error_), EEXIST, "mdfs_mkdir");
  EXPECT_C_ERROR(mdfs_rmdir(root_, "//", 0, &error_), EBUSY, "mdfs_rmdir");
  EXPECT_C_ERROR(mdfs_unlink(root_, "/", 0, &error_), EISDIR, "mdfs_unlink");
  EXPECT_C_ERROR(mdfs_rename(root_, "/", "/z", 0, &error_), EBUSY, "mdfs_rename");

  ASSERT_C_OK(mdfs_mkdir(root_, "/c", 0755, &error_));
  EXPECT_C_ERROR(mdfs_rename(root_, "/c", "/a", MDFS_RENAME_NOREPLACE, &error_), EEXIST,
                 "mdfs_rename");
  ASSERT_C_OK(mdfs_rename(root_, "/c", "/a", MDFS_RENAME_EXCHANGE, &error_));
  ASSERT_C_OK(mdfs_stat(root_, "/c/g", 0, &attributes, &error_));
  ASSERT_C_OK(mdfs_unlink(root_, "/c/g", 0, &error_));
  ASSERT_C_OK(mdfs_rmdir(root_, "/c/b/", 0, &error_));
  ASSERT_C_OK(mdfs_rmdir(root_, "/c", 0, &error_));
  ASSERT_C_OK(mdfs_rmdir(root_, "/a", 0, &error_));
  Names none;
  EXPECT_EQ(mdfs_readdir(root_, "/", Collect, &none, &error_), 0) << error_.message;
}

TEST_F(CapiTest, StatFollowsASymlinkUnlessToldNotTo) {
  // The C API makes no symlinks: the C++ session behind the handle does.
  ASSERT_TRUE(root_->session->Symlink(root_->session->root(), "link", "/target").ok());
  mdfs_file* file = MustOpen(root_, "/target", O_RDWR | O_CREAT, 0644);
  ASSERT_C_OK(mdfs_pwrite(file, "abc", 3, 0, &error_));
  mdfs_attributes followed{}, link{};
  ASSERT_C_OK(mdfs_stat(root_, "/link", 0, &followed, &error_));
  ASSERT_C_OK(mdfs_stat(root_, "/link", MDFS_STAT_NOFOLLOW, &link, &error_));
  EXPECT_TRUE(S_ISREG(followed.mode));
  EXPECT_EQ(followed.size, 3u);
  EXPECT_TRUE(S_ISLNK(link.mode));
  EXPECT_NE(link.ino, followed.ino);
  ASSERT_C_OK(mdfs_close(file, &error_));
}

TEST_F(CapiTest, PermissionsAreTheSessionsCredentials) {
  mdfs_file* file = MustOpen(root_, "/root-only", O_WRONLY | O_CREAT, 0644);
  ASSERT_C_OK(mdfs_close(file, &error_));
  mdfs_session* user = User(1000, 1000);
  mdfs_file* refused = nullptr;
  EXPECT_C_ERROR(mdfs_open(user, "/root-only", O_WRONLY, 0, &refused, &error_), EACCES,
                 "mdfs_open /root-only");
  EXPECT_EQ(error_.code, MDFS_CODE_ACCESS_DENIED);
  EXPECT_NE(std::string(error_.message).find("uid 1000"), std::string::npos) << error_.message;
  EXPECT_EQ(refused, nullptr);
  EXPECT_C_ERROR(mdfs_mkdir(user, "/d", 0755, &error_), EACCES, "mdfs_mkdir /d");
  EXPECT_C_ERROR(mdfs_unlink(user, "/root-only", 0, &error_), EACCES, "mdfs_unlink");
  mdfs_file* reader = MustOpen(user, "/root-only", O_RDONLY);
  mdfs_mapping* mapping = nullptr;
  EXPECT_C_ERROR(mdfs_map_direct(reader, 0, 4096, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE,
                                 nullptr, nullptr, &mapping, &error_),
                 EACCES, "mdfs_map_direct");
  EXPECT_C_ERROR(mdfs_ftruncate(reader, 0, 0, &error_), EINVAL, "mdfs_ftruncate");
  EXPECT_C_ERROR(mdfs_pwrite(reader, "x", 1, 0, &error_), EBADF, "mdfs_pwrite");
  ASSERT_C_OK(mdfs_close(reader, &error_));
  ASSERT_C_OK(mdfs_session_close(user, &error_));
}

TEST_F(CapiTest, TheVolumeStaysOpenWhileAnythingOfItIs) {
  mdfs_session* user = User(1000, 1000);
  EXPECT_C_ERROR(mdfs_volume_close(volume_, &error_), EBUSY, "mdfs_volume_close");
  EXPECT_NE(std::string(error_.message).find("2 session(s)"), std::string::npos) << error_.message;
  mdfs_file* file = MustOpen(root_, "/f", O_RDWR | O_CREAT);
  mdfs_mapping* mapping = nullptr;
  ASSERT_C_OK(mdfs_map_direct(file, 0, 8192, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, nullptr,
                              nullptr, &mapping, &error_));
  ASSERT_C_OK(mdfs_session_close(user, &error_));
  ASSERT_C_OK(mdfs_session_close(root_, &error_));
  root_ = nullptr;
  EXPECT_C_ERROR(mdfs_volume_close(volume_, &error_), EBUSY, "mdfs_volume_close");
  ASSERT_C_OK(mdfs_close(file, &error_));
  EXPECT_C_ERROR(mdfs_volume_close(volume_, &error_), EBUSY, "mdfs_volume_close");
  EXPECT_NE(std::string(error_.message).find("1 session(s), file(s) or mapping(s)"),
            std::string::npos)
      << error_.message;
  ASSERT_C_OK(mdfs_unmap(mapping, &error_));
  ASSERT_C_OK(mdfs_volume_close(volume_, &error_));
  volume_ = nullptr;
}

TEST_F(CapiTest, ASessionClosedBeforeItsFilesTearsDownItsMappings) {
  mdfs_session* user = User(0, 0);
  mdfs_file* file = MustOpen(user, "/f", O_RDWR | O_CREAT);
  mdfs_mapping* mapping = nullptr;
  ASSERT_C_OK(mdfs_map_direct(file, 0, 4096, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, nullptr,
                              nullptr, &mapping, &error_));
  ASSERT_C_OK(mdfs_session_close(user, &error_));
  mdfs_mapping_info info{};
  ASSERT_C_OK(mdfs_mapping_info_get(mapping, &info, &error_));
  EXPECT_EQ(info.state, uint32_t{MDFS_MAPPING_TORN_DOWN | MDFS_MAPPING_REVOKED});
  EXPECT_C_ERROR(mdfs_persist(mapping, info.data, 1, &error_), EIO, "mdfs_persist");
  EXPECT_EQ(error_.code, MDFS_CODE_LEASE_REVOKED);
  char byte;
  EXPECT_C_ERROR(mdfs_pread(file, &byte, 1, 0, &error_), EBADF, "mdfs_pread /f");
  ASSERT_C_OK(mdfs_close(file, &error_));
  ASSERT_C_OK(mdfs_unmap(mapping, &error_));
}

// Alice's mapping is being recalled (its callback is still running on the
// thread of Bob's truncate): Carol's non-blocking truncate answers
// EWOULDBLOCK at once, where a blocking one would wait.
TEST_F(CapiTest, ANonblockingBreakDoesNotWait) {
  struct Latch {
    std::atomic<bool> entered{false}, release{false};
  } latch;
  mdfs_file* alice = MustOpen(root_, "/f", O_RDWR | O_CREAT);
  mdfs_mapping* mapping = nullptr;
  auto hold = [](mdfs_mapping*, void* user_data) {
    auto* latch = static_cast<Latch*>(user_data);
    latch->entered = true;
    while (!latch->release) std::this_thread::yield();
  };
  ASSERT_C_OK(mdfs_map_direct(alice, 0, 1 << 20, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, hold,
                              &latch, &mapping, &error_));
  mdfs_session* bob = User(0, 0);
  mdfs_session* carol = User(0, 0);
  mdfs_file* bob_file = MustOpen(bob, "/f", O_RDWR);
  mdfs_file* carol_file = MustOpen(carol, "/f", O_RDWR);
  std::thread breaker([&] {
    mdfs_error error{};
    EXPECT_EQ(mdfs_ftruncate(bob_file, 0, 0, &error), 0) << error.message;
  });
  while (!latch.entered) std::this_thread::yield();
  EXPECT_C_ERROR(mdfs_ftruncate(carol_file, 4096, MDFS_NONBLOCK, &error_), EWOULDBLOCK,
                 "mdfs_ftruncate /f");
  EXPECT_EQ(error_.code, MDFS_CODE_WOULD_BLOCK);
  latch.release = true;
  breaker.join();
  mdfs_attributes attributes{};
  ASSERT_C_OK(mdfs_fstat(carol_file, &attributes, &error_));
  EXPECT_EQ(attributes.size, 0u) << "Bob's truncate went through, Carol's did not";
  ASSERT_C_OK(mdfs_unmap(mapping, &error_));
  for (mdfs_file* file : {alice, bob_file, carol_file}) ASSERT_C_OK(mdfs_close(file, &error_));
  ASSERT_C_OK(mdfs_session_close(bob, &error_));
  ASSERT_C_OK(mdfs_session_close(carol, &error_));
}

TEST_F(CapiTest, MkfsOfAnExistingImageStartsAnew) {
  mdfs_file* file = MustOpen(root_, "/old", O_WRONLY | O_CREAT);
  ASSERT_C_OK(mdfs_close(file, &error_));
  // Opened: the image is locked.
  EXPECT_LT(mdfs_mkfs(image_.c_str(), 0, MDFS_MKFS_EXISTING, &error_), 0);
  mdfs_volume* second = nullptr;
  EXPECT_LT(mdfs_volume_open(image_.c_str(), 0, -1, &second, &error_), 0);
  EXPECT_NE(std::string(error_.message).find(image_), std::string::npos) << error_.message;
  ASSERT_C_OK(mdfs_session_close(root_, &error_));
  root_ = nullptr;
  ASSERT_C_OK(mdfs_volume_close(volume_, &error_));
  volume_ = nullptr;

  EXPECT_C_ERROR(mdfs_mkfs(image_.c_str(), 64u << 20, 0, &error_), EEXIST, "mdfs_mkfs");
  ASSERT_C_OK(mdfs_mkfs(image_.c_str(), 0, MDFS_MKFS_EXISTING, &error_));
  ASSERT_C_OK(mdfs_volume_open(image_.c_str(), 0, 1000, &volume_, &error_));
  ASSERT_C_OK(mdfs_session_open_self(volume_, &root_, &error_));
  mdfs_attributes attributes{};
  EXPECT_C_ERROR(mdfs_stat(root_, "/old", 0, &attributes, &error_), ENOENT, "mdfs_stat /old");
}

TEST_F(CapiTest, AFileThatIsNotAnImageIsRefused) {
  const std::string junk = directory_.Child("junk");
  {
    device_test::TempFile zeros(1 << 20, "/tmp");
    mdfs_volume* volume = nullptr;
    EXPECT_LT(mdfs_volume_open(zeros.path().c_str(), 0, -1, &volume, &error_), 0);
    EXPECT_EQ(std::string(error_.message).rfind("mdfs_volume_open " + zeros.path(), 0), 0u)
        << error_.message;
    EXPECT_EQ(volume, nullptr);
  }
  mdfs_volume* volume = nullptr;
  EXPECT_C_ERROR(mdfs_volume_open(junk.c_str(), 0, -1, &volume, &error_), ENOENT,
                 "mdfs_volume_open");
}

TEST_F(CapiTest, AReadOnlyVolumeRefusesChanges) {
  mdfs_file* file = MustOpen(root_, "/f", O_WRONLY | O_CREAT);
  ASSERT_C_OK(mdfs_pwrite(file, "kept", 4, 0, &error_));
  ASSERT_C_OK(mdfs_close(file, &error_));
  ASSERT_C_OK(mdfs_session_close(root_, &error_));
  ASSERT_C_OK(mdfs_volume_close(volume_, &error_));
  ASSERT_C_OK(mdfs_volume_open(image_.c_str(), MDFS_VOLUME_READ_ONLY, -1, &volume_, &error_));
  ASSERT_C_OK(mdfs_session_open(volume_, 0, 0, nullptr, 0, 0, &root_, &error_));
  EXPECT_C_ERROR(mdfs_mkdir(root_, "/d", 0755, &error_), EROFS, "mdfs_mkdir");
  file = MustOpen(root_, "/f", O_RDONLY);
  char text[8] = {};
  EXPECT_EQ(mdfs_pread(file, text, sizeof text, 0, &error_), 4) << error_.message;
  EXPECT_STREQ(text, "kept");
  ASSERT_C_OK(mdfs_close(file, &error_));
}

TEST_F(CapiTest, FsckIsCleanAfterWorkThroughTheCApi) {
  const uint32_t groups[] = {100, 200};
  mdfs_session* user = nullptr;
  ASSERT_C_OK(mdfs_session_open(volume_, 1000, 1000, groups, 2, 42, &user, &error_));
  EXPECT_EQ(user->session->credentials().groups, (std::vector<uint32_t>{100, 200}));
  EXPECT_EQ(user->session->credentials().pid, 42);
  ASSERT_C_OK(mdfs_mkdir(root_, "/home", 0777, &error_));
  mdfs_file* file = MustOpen(user, "/home/data", O_RDWR | O_CREAT, 0600);
  mdfs_mapping* mapping = nullptr;
  ASSERT_C_OK(mdfs_map_direct(file, 0, 1 << 20, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, nullptr,
                              nullptr, &mapping, &error_));
  mdfs_mapping_info info{};
  ASSERT_C_OK(mdfs_mapping_info_get(mapping, &info, &error_));
  std::memset(info.data, 0x5a, info.size);
  ASSERT_C_OK(mdfs_persist(mapping, info.data, info.size, &error_));
  ASSERT_C_OK(mdfs_fallocate(file, MDFS_FALLOCATE_PUNCH_HOLE | MDFS_FALLOCATE_KEEP_SIZE, 4096, 8192,
                             0, &error_));
  ASSERT_C_OK(mdfs_mapping_info_get(mapping, &info, &error_));
  EXPECT_EQ(info.state, uint32_t{MDFS_MAPPING_TORN_DOWN}) << "its own break recalled it";
  ASSERT_C_OK(mdfs_unmap(mapping, &error_));
  mdfs_attributes attributes{};
  ASSERT_C_OK(mdfs_fstat(file, &attributes, &error_));
  EXPECT_EQ(attributes.size, 1u << 20);
  EXPECT_EQ(attributes.allocated_blocks, 256u - 2u);
  ASSERT_C_OK(mdfs_unlink(user, "/home/data", 0, &error_));  // open: kept until the close
  ASSERT_C_OK(mdfs_close(file, &error_));
  ASSERT_C_OK(mdfs_session_close(user, &error_));
  ASSERT_C_OK(mdfs_session_close(root_, &error_));
  root_ = nullptr;
  ASSERT_C_OK(mdfs_volume_close(volume_, &error_));
  volume_ = nullptr;

  auto device = OpenFileDevice(image_, {.read_only = true});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  auto report = CheckFileSystem(device->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->clean());
  EXPECT_EQ(report->problems.size(), 0u);
}

}  // namespace
}  // namespace mdfs::capi_test
