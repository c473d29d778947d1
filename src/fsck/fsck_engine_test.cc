// fsck on file systems built through the engine: whatever the engine
// writes must check clean — while it is open, after it is closed, and after
// a simulated crash (checked as recovery would leave it, through the
// journal overlay).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <string>

#include "fsck/fsck_test_util.h"
#include "mdfs/file_system.h"

namespace mdfs::fsck::testing {
namespace {

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

#define ASSERT_OK(expr)                                             \
  do {                                                              \
    auto status_or_result_ = (expr);                                \
    ASSERT_TRUE(status_or_result_.ok())                             \
        << #expr << ": " << StatusOf(status_or_result_).ToString(); \
  } while (0)

inline Status StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

FsckReport CheckDevice(Device* device) {
  Result<FsckReport> report = CheckFileSystem(device);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? *report : FsckReport{};
}

class FsckEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto device = CreateMemoryDevice(64 << 20);
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    ASSERT_OK(FileSystem::Format(device_.get()));
    Open();
  }
  void Open() {
    fs_.reset();
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }

  // Files, directories, symlinks, hard links, a fragmented file whose map
  // spills into extent blocks, preallocation past EOF, a directory of
  // several blocks, and removals.
  void BuildManyThings() {
    auto dir = fs_->Mkdir(kRootInode, "dir", 0755);
    ASSERT_OK(dir);
    auto sub = fs_->Mkdir(dir->ino, "sub", 0755);
    ASSERT_OK(sub);
    auto file = fs_->Create(dir->ino, "file", 0644);
    ASSERT_OK(file);
    ASSERT_OK(fs_->Write(file->ino, 0, Bytes(std::string(10000, 'x'))));
    ASSERT_OK(fs_->Symlink(sub->ino, "link", "../file"));
    ASSERT_OK(fs_->Link(file->ino, kRootInode, "hard"));

    auto fragmented = fs_->Create(kRootInode, "fragmented", 0644);
    ASSERT_OK(fragmented);
    for (int i = 0; i < 200; ++i) {  // every other block: 200 extents
      ASSERT_OK(fs_->Write(fragmented->ino, uint64_t(2 * i) * kBlockSize, Bytes("z")));
    }
    auto prealloc = fs_->Create(kRootInode, "prealloc", 0644);
    ASSERT_OK(prealloc);
    ASSERT_OK(fs_->Write(prealloc->ino, 0, Bytes("abc")));
    ASSERT_OK(fs_->Fallocate(prealloc->ino, kFallocateKeepSize, 0, 1 << 20));

    auto crowded = fs_->Mkdir(kRootInode, "crowded", 0755);
    ASSERT_OK(crowded);
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(fs_->Create(crowded->ino, "entry-with-a-long-name-" + std::to_string(i), 0644));
    }
    for (int i = 0; i < 300; i += 3) {
      ASSERT_OK(fs_->Unlink(crowded->ino, "entry-with-a-long-name-" + std::to_string(i)));
    }
    auto doomed = fs_->Mkdir(kRootInode, "doomed", 0755);
    ASSERT_OK(doomed);
    ASSERT_OK(fs_->Rmdir(kRootInode, "doomed"));
    ASSERT_OK(fs_->Rename(dir->ino, "file", sub->ino, "moved"));
    ASSERT_OK(fs_->Rename(kRootInode, "crowded", dir->ino, "crowded2"));
  }

  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(FsckEngineTest, FreshFormatIsClean) {
  FsckReport report = CheckDevice(device_.get());
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.inodes_in_use, 1u);
}

TEST_F(FsckEngineTest, ManyOperationsCheckCleanWhileOpenAndAfterClose) {
  BuildManyThings();
  if (HasFatalFailure()) return;
  FsckReport open_report = CheckDevice(device_.get());
  EXPECT_TRUE(open_report.clean()) << Describe(open_report);
  EXPECT_EQ(open_report.directories, 4u);      // /, dir, sub, crowded2
  EXPECT_EQ(open_report.regular_files, 203u);  // moved (+ hard), fragmented, prealloc, 200
  EXPECT_EQ(open_report.symlinks, 1u);
  fs_.reset();
  FsckReport closed = CheckDevice(device_.get());
  EXPECT_TRUE(closed.clean()) << Describe(closed);
  EXPECT_EQ(closed.blocks_in_use + closed.blocks_free, closed.total_blocks);
  auto stats_fs = FileSystem::Open(device_.get());
  ASSERT_TRUE(stats_fs.ok());
  auto stats = (*stats_fs)->StatFs();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(closed.blocks_free, stats->free_blocks);
  EXPECT_EQ(closed.inodes_in_use, stats->total_inodes - stats->free_inodes);
}

TEST_F(FsckEngineTest, TruncatePunchAndRemoveCheckClean) {
  auto file = fs_->Create(kRootInode, "f", 0644);
  ASSERT_OK(file);
  ASSERT_OK(fs_->Write(file->ino, 0, Bytes(std::string(5 << 20, 'q'))));  // 5 MiB
  ASSERT_OK(fs_->Fallocate(file->ino, kFallocatePunchHole | kFallocateKeepSize, 4096, 1 << 20));
  ASSERT_OK(fs_->Fallocate(file->ino, kFallocateZeroRange, 2 << 20, 8192));
  ASSERT_OK(fs_->Truncate(file->ino, 3 << 20));
  ASSERT_OK(fs_->Truncate(file->ino, 4 << 20));
  ASSERT_OK(fs_->Fallocate(file->ino, kFallocateCollapseRange, 0, 1 << 20));
  ASSERT_OK(fs_->Fallocate(file->ino, kFallocateInsertRange, 0, 2 << 20));
  FsckReport report = CheckDevice(device_.get());
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.regular_files, 1u);
  ASSERT_OK(fs_->Unlink(kRootInode, "f"));
  report = CheckDevice(device_.get());
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_EQ(report.regular_files, 0u);
  EXPECT_EQ(report.blocks_in_use + report.blocks_free, report.total_blocks);
}

// A commit whose home writes never reached the device: fsck sees "needs
// replay" and checks the state replay produces; after the engine recovers
// it, the same transaction is "already applied".
TEST_F(FsckEngineTest, UnappliedTransactionChecksCleanThroughTheOverlay) {
  BuildManyThings();
  if (HasFatalFailure()) return;
  fs_.reset();
  CrashDevice crash(device_.get());
  {
    auto fs = FileSystem::Open(&crash);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    ASSERT_OK((*fs)->Mkdir(kRootInode, "last", 0755));
    // The commit flushed the journal; the home writes are still held.
    ASSERT_GT(crash.unflushed_write_count(), 0u);
    CrashDevice::CrashOptions drop_all;
    drop_all.keep_probability = 0;
    drop_all.drop_probability = 1;
    crash.Crash(drop_all);
  }
  FsckReport report = CheckDevice(device_.get());
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_NE(report.journal_state.find("needs replay"), std::string::npos) << report.journal_state;
  const uint64_t directories = report.directories;
  Open();  // recovery
  report = CheckDevice(device_.get());
  EXPECT_TRUE(report.clean()) << Describe(report);
  EXPECT_NE(report.journal_state.find("already applied"), std::string::npos)
      << report.journal_state;
  EXPECT_EQ(report.directories, directories);
  EXPECT_TRUE(fs_->LookupPath("/last").ok());
}

// Crashes at every point of a few operations, with torn and dropped writes:
// every post-crash image must check clean, as recovery will see it.
TEST_F(FsckEngineTest, CrashAtAnyWriteChecksClean) {
  fs_.reset();
  std::set<std::string> states;
  for (uint64_t crash_at = 1; crash_at <= 40; ++crash_at) {
    SCOPED_TRACE("crash at write " + std::to_string(crash_at));
    CrashDevice crash(device_.get());
    CrashDevice::CrashOptions options;
    options.seed = crash_at;
    {
      auto fs = FileSystem::Open(&crash);
      ASSERT_TRUE(fs.ok()) << fs.status().ToString();
      crash.CrashAtWrite(crash_at, options);
      const std::string name = "n" + std::to_string(crash_at);
      auto file = (*fs)->Create(kRootInode, name, 0644);
      if (file.ok()) (void)(*fs)->Write(file->ino, 0, Bytes(std::string(9000, 'c')));
      (void)(*fs)->Mkdir(kRootInode, name + "d", 0755);
      (void)(*fs)->Unlink(kRootInode, name);
      if (!crash.crashed()) crash.Crash(options);
    }
    FsckReport report = CheckDevice(device_.get());
    ASSERT_TRUE(report.clean()) << Describe(report) << report.journal_state;
    states.insert(report.journal_state.substr(report.journal_state.rfind(')') + 1));
    Open();  // recovery, then the next round starts from a closed file system
    fs_.reset();
    report = CheckDevice(device_.get());
    ASSERT_TRUE(report.clean()) << "after recovery:\n" << Describe(report);
  }
  // The rounds did reach both sides of the commit point.
  EXPECT_TRUE(states.count(" needs replay")) << ::testing::PrintToString(states);
  EXPECT_TRUE(states.count(" already applied") || states.count("empty"))
      << ::testing::PrintToString(states);
}

}  // namespace
}  // namespace mdfs::fsck::testing
