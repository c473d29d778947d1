// Edge cases the random suites reach rarely or never: the 16 TiB file size
// limit and offsets that overflow 64 bits, name and symlink length limits,
// malformed names, the link count limit, stale and bogus inode numbers,
// malformed paths. Expectations follow Linux where Linux has an answer;
// elsewhere the call must fail cleanly and change nothing (checked with
// fsck at the end of every test).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>

#include "mdfs/file_system.h"
#include "mdfs/fsck.h"
#include "model/history.h"
#include "model/op.h"

namespace mdfs::test {
namespace {

#define EXPECT_CODE(expr, expected) \
  EXPECT_STREQ(CodeName((expr).code()), CodeName(expected)) << #expr

class LimitsTest : public testing::Test {
 protected:
  void SetUp() override {
    auto device = CreateMemoryDevice(32 << 20);
    ASSERT_TRUE(device.ok());
    device_ = std::move(*device);
    ASSERT_TRUE(FileSystem::Format(device_.get()).ok());
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(*fs);
    auto file = fs_->Create(kRootInode, "f", 0644);
    ASSERT_TRUE(file.ok());
    file_ = file->ino;
  }
  void TearDown() override {
    fs_.reset();
    auto report = CheckFileSystem(device_.get());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->clean()) << DescribeProblems(*report);
  }
  uint64_t Size(InodeNumber ino) { return fs_->GetAttributes(ino)->size; }

  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  InodeNumber file_ = 0;
};

TEST_F(LimitsTest, WriteUpToTheMaximumFileSize) {
  const std::vector<std::byte> data = PatternBytes(1, kMaxFileSize - 10, 10);
  auto written = fs_->Write(file_, kMaxFileSize - 10, data);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(Size(file_), kMaxFileSize);
  std::vector<std::byte> back(20);
  auto read = fs_->Read(file_, kMaxFileSize - 10, back);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, 10u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), back.begin()));
  EXPECT_CODE(fs_->Write(file_, kMaxFileSize, data).status(), Code::kFileTooLarge);
  EXPECT_CODE(fs_->Write(file_, kMaxFileSize - 5, data).status(), Code::kFileTooLarge);
  EXPECT_EQ(Size(file_), kMaxFileSize);
  EXPECT_TRUE(fs_->Truncate(file_, 0).ok());
  EXPECT_EQ(fs_->GetAttributes(file_)->allocated_blocks, 0u);
}

// Linux's offsets are signed: one of 2^63 or more is negative, EINVAL; a
// range that ends past the size limit is EFBIG. mdfs's are unsigned, so
// either answer is accepted for the first kind.
TEST_F(LimitsTest, OffsetsPastTheLimitOrOverflowingAreRefused) {
  const std::vector<std::byte> data(100, std::byte{1});
  auto refused = [](const Status& status) {
    return status.code() == Code::kFileTooLarge || status.code() == Code::kInvalidArgument;
  };
  EXPECT_TRUE(refused(fs_->Write(file_, UINT64_MAX - 10, data).status()));
  EXPECT_TRUE(refused(fs_->Fallocate(file_, kFallocateKeepSize, UINT64_MAX - 100, 200)));
  EXPECT_TRUE(refused(fs_->Fallocate(file_, 0, UINT64_MAX - 4095, 8192)));
  EXPECT_TRUE(refused(
      fs_->Fallocate(file_, kFallocatePunchHole | kFallocateKeepSize, UINT64_MAX - 4095, 8192)));
  EXPECT_TRUE(refused(fs_->Fallocate(file_, kFallocateKeepSize, 100, UINT64_MAX - 50)));
  EXPECT_CODE(fs_->Fallocate(file_, kFallocateKeepSize, kMaxFileSize - 100, 200),
              Code::kFileTooLarge);
  EXPECT_CODE(fs_->Fallocate(file_, kFallocateZeroRange, kMaxFileSize - 4096, 8192),
              Code::kFileTooLarge);
  EXPECT_CODE(fs_->Truncate(file_, kMaxFileSize + 1), Code::kFileTooLarge);
  EXPECT_TRUE(refused(fs_->SetAttributes(file_, {.mask = kSetSize, .size = UINT64_MAX}).status()));
  std::vector<std::byte> out(10);
  auto read = fs_->Read(file_, UINT64_MAX - 1, out);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, 0u);
  EXPECT_EQ(Size(file_), 0u);
  EXPECT_EQ(fs_->GetAttributes(file_)->allocated_blocks, 0u);
  auto extents = fs_->GetExtents(file_, UINT64_MAX - 10, UINT64_MAX);
  ASSERT_TRUE(extents.ok());
  EXPECT_TRUE(extents->empty());
}

TEST_F(LimitsTest, HugeSparseFileCollapsesAndInserts) {
  const uint64_t far = kMaxFileSize / 2;
  ASSERT_TRUE(fs_->Write(file_, far, PatternBytes(2, far, 4096)).ok());
  ASSERT_TRUE(fs_->Write(file_, 0, PatternBytes(3, 0, 4096)).ok());
  ASSERT_TRUE(fs_->Fallocate(file_, kFallocateCollapseRange, 4096, far - 4096).ok());
  EXPECT_EQ(Size(file_), 8192u);
  std::vector<std::byte> back(4096);
  ASSERT_TRUE(fs_->Read(file_, 4096, back).ok());
  EXPECT_EQ(back, PatternBytes(2, far, 4096));
  // Short of the limit: regression_test.cc InsertRangeToTheSizeLimit covers
  // the last 2 MiB.
  const uint64_t grow = kMaxFileSize - (4u << 20);
  ASSERT_TRUE(fs_->Fallocate(file_, kFallocateInsertRange, 4096, grow).ok());
  EXPECT_EQ(Size(file_), 8192u + grow);
  EXPECT_CODE(fs_->Fallocate(file_, kFallocateInsertRange, 0, 8u << 20), Code::kFileTooLarge);
  ASSERT_TRUE(fs_->Read(file_, 4096 + grow, back).ok());
  EXPECT_EQ(back, PatternBytes(2, far, 4096));
  ASSERT_TRUE(fs_->Read(file_, 0, back).ok());
  EXPECT_EQ(back, PatternBytes(3, 0, 4096));
}

TEST_F(LimitsTest, NameLimits) {
  EXPECT_TRUE(fs_->Create(kRootInode, std::string(kMaxNameLength, 'n'), 0644).ok());
  EXPECT_CODE(fs_->Create(kRootInode, std::string(kMaxNameLength + 1, 'n'), 0644).status(),
              Code::kNameTooLong);
  EXPECT_CODE(fs_->Lookup(kRootInode, std::string(kMaxNameLength + 1, 'n')).status(),
              Code::kNameTooLong);
  for (std::string bad : {std::string(""), std::string("a/b"), std::string("a\0b", 3)}) {
    EXPECT_CODE(fs_->Create(kRootInode, bad, 0644).status(), Code::kInvalidArgument) << bad;
    EXPECT_CODE(fs_->Mkdir(kRootInode, bad, 0755).status(), Code::kInvalidArgument) << bad;
    EXPECT_CODE(fs_->Symlink(kRootInode, bad, "t").status(), Code::kInvalidArgument) << bad;
    EXPECT_CODE(fs_->Link(file_, kRootInode, bad).status(), Code::kInvalidArgument) << bad;
    EXPECT_CODE(fs_->Rename(kRootInode, "f", kRootInode, bad), Code::kInvalidArgument) << bad;
  }
  // Linux: mkdir(".") and creat("..") are EEXIST, rmdir(".") EINVAL.
  for (std::string dot : {".", ".."}) {
    EXPECT_FALSE(fs_->Create(kRootInode, dot, 0644).ok()) << dot;
    EXPECT_FALSE(fs_->Mkdir(kRootInode, dot, 0755).ok()) << dot;
    EXPECT_FALSE(fs_->Unlink(kRootInode, dot).ok()) << dot;
    EXPECT_FALSE(fs_->Rmdir(kRootInode, dot).ok()) << dot;
    EXPECT_FALSE(fs_->Rename(kRootInode, "f", kRootInode, dot).ok()) << dot;
    EXPECT_FALSE(fs_->Link(file_, kRootInode, dot).ok()) << dot;
  }
  auto listed = fs_->ReadDirectory(kRootInode);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);  // f and the 255-byte name
}

TEST_F(LimitsTest, SymlinkTargetLimits) {
  auto longest = fs_->Symlink(kRootInode, "s", std::string(kMaxSymlinkLength, 't'));
  ASSERT_TRUE(longest.ok()) << longest.status().ToString();
  EXPECT_EQ(longest->size, kMaxSymlinkLength);
  EXPECT_EQ(*fs_->ReadLink(longest->ino), std::string(kMaxSymlinkLength, 't'));
  EXPECT_CODE(fs_->Symlink(kRootInode, "t", std::string(kMaxSymlinkLength + 1, 't')).status(),
              Code::kNameTooLong);
  EXPECT_FALSE(fs_->Symlink(kRootInode, "u", "").ok());                // Linux: ENOENT
  EXPECT_CODE(fs_->ReadLink(file_).status(), Code::kInvalidArgument);  // Linux: EINVAL
}

// The names are spread over directories: a directory is a list (doc/format.md),
// so 65000 names in one would take minutes (O(entries) per operation).
TEST_F(LimitsTest, LinkCountLimit) {
  constexpr uint32_t kPerDirectory = 500;
  InodeNumber dir = 0;
  for (uint32_t i = 1; i < kMaxLinkCount; ++i) {
    if (i % kPerDirectory == 1) {
      auto made = fs_->Mkdir(kRootInode, "d" + std::to_string(i / kPerDirectory), 0755);
      ASSERT_TRUE(made.ok()) << made.status().ToString();
      dir = made->ino;
    }
    auto linked = fs_->Link(file_, dir, "l" + std::to_string(i));
    ASSERT_TRUE(linked.ok()) << i << ": " << linked.status().ToString();
  }
  EXPECT_EQ(fs_->GetAttributes(file_)->nlink, kMaxLinkCount);
  EXPECT_CODE(fs_->Link(file_, kRootInode, "one-too-many").status(), Code::kTooManyLinks);
  ASSERT_TRUE(fs_->Unlink(kRootInode, "f").ok());
  EXPECT_TRUE(fs_->Link(file_, kRootInode, "one-more").ok());
  EXPECT_EQ(fs_->GetAttributes(file_)->nlink, kMaxLinkCount);
}

TEST_F(LimitsTest, StaleAndBogusInodeNumbers) {
  ASSERT_TRUE(fs_->Write(file_, 0, PatternBytes(4, 0, 5000)).ok());
  ASSERT_TRUE(fs_->Unlink(kRootInode, "f").ok());
  std::vector<std::byte> out(10);
  for (InodeNumber ino : {file_, InodeNumber{0}, InodeNumber{999'999'999}, UINT64_MAX}) {
    EXPECT_CODE(fs_->GetAttributes(ino).status(), Code::kNotFound) << ino;
    EXPECT_FALSE(fs_->Read(ino, 0, out).ok()) << ino;
    EXPECT_FALSE(fs_->Write(ino, 0, out).ok()) << ino;
    EXPECT_FALSE(fs_->Truncate(ino, 0).ok()) << ino;
    EXPECT_FALSE(fs_->Fallocate(ino, 0, 0, 4096).ok()) << ino;
    EXPECT_FALSE(fs_->Create(ino, "x", 0644).ok()) << ino;
    EXPECT_FALSE(fs_->Link(ino, kRootInode, "x").ok()) << ino;
    EXPECT_FALSE(fs_->ReadDirectory(ino).ok()) << ino;
    EXPECT_FALSE(fs_->SetAttributes(ino, {.mask = kSetMode, .mode = 0600}).ok()) << ino;
    EXPECT_FALSE(fs_->GetExtents(ino).ok()) << ino;
  }
  auto stats = fs_->StatFs();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_inodes - stats->free_inodes, 1u);  // the root only
}

TEST_F(LimitsTest, MalformedPaths) {
  ASSERT_TRUE(fs_->Mkdir(kRootInode, "d", 0755).ok());
  EXPECT_EQ(fs_->LookupPath("/")->ino, kRootInode);
  EXPECT_EQ(fs_->LookupPath("/d")->ino, fs_->LookupPath("//d/")->ino);
  EXPECT_CODE(fs_->LookupPath("/f/x").status(), Code::kNotDirectory);
  EXPECT_CODE(fs_->LookupPath("/missing/x").status(), Code::kNotFound);
  EXPECT_FALSE(fs_->LookupPath("").ok());
  EXPECT_FALSE(fs_->LookupPath("d").ok());  // not absolute
  EXPECT_CODE(fs_->LookupPath("/" + std::string(kMaxNameLength + 1, 'n')).status(),
              Code::kNameTooLong);
}

TEST_F(LimitsTest, RootCannotBeRemovedOrMoved) {
  ASSERT_TRUE(fs_->Mkdir(kRootInode, "d", 0755).ok());
  auto d = fs_->LookupPath("/d");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(fs_->Link(kRootInode, d->ino, "root").ok());
  EXPECT_FALSE(fs_->Rename(kRootInode, "d", d->ino, "d").ok());
  EXPECT_FALSE(fs_->Rmdir(kRootInode, "").ok());
  EXPECT_EQ(fs_->GetAttributes(kRootInode)->nlink, 3u);
}

}  // namespace
}  // namespace mdfs::test
