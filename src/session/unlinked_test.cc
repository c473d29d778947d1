// Files unlinked while open (orphans): usable until the last close, freed
// then; after a crash, freed by the next writable open; fsck knows them.
#include <sys/mman.h>

#include <cstring>

#include "session/session_test_util.h"

namespace mdfs::session_test {
namespace {

TEST_F(SessionTest, AnUnlinkedOpenFileStaysReadableAndWritableUntilItsLastClose) {
  MustOpen(*session_, "/keep", O_WRONLY | O_CREAT);  // the root's entry block
  const uint64_t free_before = FreeBlocks();
  auto file = MustOpen(*session_, "/doomed", O_RDWR | O_CREAT);
  ASSERT_OK(file->Write(0, Bytes(std::string(100'000, 'd'))).status());
  auto second = MustOpen(*session_, "/doomed", O_RDONLY);
  ASSERT_OK(session_->Unlink(session_->root(), "doomed"));
  EXPECT_CODE(session_->Resolve("/doomed").status(), kNotFound);
  ASSERT_OK(file->Write(100'000, Bytes("tail")).status());
  EXPECT_EQ(ReadAll(*second).size(), 100'004u);
  auto attributes = file->Stat();
  ASSERT_OK(attributes.status());
  EXPECT_EQ(attributes->nlink, 0u);
  EXPECT_TRUE(attributes->flags & kInodeFlagUnlinked);
  EXPECT_CODE(session_->GetAttributes(file->handle()).status(), kStale);
  EXPECT_CODE(session_->Link(file->handle(), session_->root(), "back").status(), kStale);
  EXPECT_LT(FreeBlocks(), free_before);

  FsckReport report = Fsck();
  EXPECT_TRUE(report.clean()) << report.problems.front().check << ": "
                              << report.problems.front().message;
  EXPECT_EQ(report.unlinked_inodes, 1u);

  file.reset();
  EXPECT_LT(FreeBlocks(), free_before) << "the second open still holds it";
  second.reset();
  EXPECT_EQ(FreeBlocks(), free_before);
  report = Fsck();
  EXPECT_TRUE(report.clean());
  EXPECT_EQ(report.unlinked_inodes, 0u);
}

TEST_F(SessionTest, AMappingKeepsAnUnlinkedFileAfterItsFileCloses) {
  MustOpen(*session_, "/keep", O_WRONLY | O_CREAT);  // the root's entry block
  const uint64_t free_before = FreeBlocks();
  auto file = MustOpen(*session_, "/mapped", O_RDWR | O_CREAT);
  auto mapping = file->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_OK(mapping.status());
  file.reset();
  ASSERT_OK(session_->Unlink(session_->root(), "mapped"));
  std::memset((*mapping)->data(), 'm', 4096);
  ASSERT_OK((*mapping)->Persist((*mapping)->data(), 4096));
  EXPECT_FALSE((*mapping)->torn_down());
  EXPECT_LT(FreeBlocks(), free_before);
  mapping->reset();
  EXPECT_EQ(FreeBlocks(), free_before);
  EXPECT_TRUE(Fsck().clean());
}

TEST_F(SessionTest, RenameOverAnOpenFileKeepsItToo) {
  MustOpen(*session_, "/new", O_WRONLY | O_CREAT)->Write(0, Bytes("new"));
  auto old = MustOpen(*session_, "/old", O_RDWR | O_CREAT);
  ASSERT_OK(old->Write(0, Bytes("old")).status());
  ASSERT_OK(session_->Rename(session_->root(), "new", session_->root(), "old"));
  EXPECT_EQ(ReadAll(*old), "old");
  EXPECT_EQ(Fsck().unlinked_inodes, 1u);
  old.reset();
  EXPECT_EQ(Fsck().unlinked_inodes, 0u);
  EXPECT_EQ(ReadAll(*MustOpen(*session_, "/old", O_RDONLY)), "new");
}

TEST_F(SessionTest, TheNextWritableOpenFreesWhatACrashLeftUnlinked) {
  MustOpen(*session_, "/keep", O_WRONLY | O_CREAT);  // the root's entry block
  const uint64_t free_before = FreeBlocks();
  auto file = MustOpen(*session_, "/orphan", O_RDWR | O_CREAT);
  ASSERT_OK(file->Write(0, Bytes(std::string(300'000, 'o'))).status());
  ASSERT_OK(session_->Unlink(session_->root(), "orphan"));
  // The crash: the process dies with the file open. The device holds what
  // was durable: the unlink, with the inode marked UNLINKED.
  auto copy = CreateMemoryDevice(device_->size_bytes());
  ASSERT_OK(copy.status());
  std::vector<std::byte> image(device_->size_bytes());
  ASSERT_OK(device_->Read(0, image));
  ASSERT_OK((*copy)->Write(0, image));
  FsckReport crashed = *CheckFileSystem(copy->get());
  EXPECT_TRUE(crashed.clean());
  EXPECT_EQ(crashed.unlinked_inodes, 1u);

  // Read-only: left alone.
  {
    auto read_only = Volume::Open(copy->get(), {.read_only = true});
    ASSERT_OK(read_only.status());
  }
  EXPECT_EQ(CheckFileSystem(copy->get())->unlinked_inodes, 1u);
  {
    auto volume = Volume::Open(copy->get(), {});
    ASSERT_OK(volume.status());
    EXPECT_EQ((*volume)->StatFs()->free_blocks, free_before);
  }
  FsckReport after = *CheckFileSystem(copy->get());
  EXPECT_TRUE(after.clean());
  EXPECT_EQ(after.unlinked_inodes, 0u);
}

// Crash at every write and at every flush of the unlink, then of the close: whatever point,
// the next open mounts, fsck is clean, and the file's blocks are either
// still the file's (the unlink did not commit) or free — never leaked.
TEST(UnlinkedCrashTest, EveryCrashPointOfUnlinkAndCloseRecoversWithoutLeaks) {
  int points = 0, file_survived = 0, freed = 0;
  for (int step = 0; step < 4; ++step) {
    const int phase = step % 2;  // 0: crash in the unlink (or the close after it); 1: in the close
    const bool at_flush = step >= 2;  // crash at the n-th write, or at the n-th flush
    for (uint64_t n = 1;; ++n) {
      auto base = CreateMemoryDevice(uint64_t{16} << 20);
      ASSERT_OK(base.status());
      ASSERT_OK(FileSystem::Format(base->get()));
      CrashDevice crash(base->get());
      uint64_t free_empty = 0, free_with_file = 0;
      {
        auto volume = Volume::Open(&crash, {});
        ASSERT_OK(volume.status());
        auto session = (*volume)->OpenSession(User(0, 0));
        ASSERT_OK((*session)->Mkdir((*session)->root(), "keep", 0755).status());
        free_empty = (*volume)->StatFs()->free_blocks;
        auto file = (*session)->OpenPath("/f", O_RDWR | O_CREAT, 0644);
        ASSERT_OK(file.status());
        ASSERT_OK((*file)->Write(0, Bytes(std::string(50'000, 'f'))).status());
        ASSERT_OK((*file)->Fsync());
        free_with_file = (*volume)->StatFs()->free_blocks;
        if (phase == 1) ASSERT_OK((*session)->Unlink((*session)->root(), "f"));
        if (at_flush) {
          crash.CrashAtFlush(n, {.seed = n});
        } else {
          crash.CrashAtWrite(n, {.seed = n});
        }
        if (phase == 0) (void)(*session)->Unlink((*session)->root(), "f");
        file->reset();  // the close: frees an unlinked file
      }
      const bool crashed = crash.crashed();
      crash.Reset();
      auto volume = Volume::Open(base->get(), {});
      ASSERT_OK(volume.status()) << "phase " << phase << " write " << n;
      auto session = (*volume)->OpenSession(User(0, 0));
      const bool exists = (*session)->Resolve("/f").ok();
      const uint64_t free_now = (*volume)->StatFs()->free_blocks;
      volume->reset();
      FsckReport report = *CheckFileSystem(base->get());
      EXPECT_TRUE(report.clean()) << "phase " << phase << " write " << n << ": "
                                  << report.problems.front().message;
      EXPECT_EQ(report.unlinked_inodes, 0u);
      if (exists) {
        ++file_survived;
        EXPECT_EQ(free_now, free_with_file) << "phase " << phase << " write " << n;
      } else {
        ++freed;
        EXPECT_EQ(free_now, free_empty) << "phase " << phase << " write " << n << ": leaked";
      }
      ++points;
      if (!crashed) break;  // the whole sequence ran before write n
    }
  }
  EXPECT_GT(file_survived, 0);
  EXPECT_GT(freed, 0);
  std::printf("crash points (writes and flushes) %d: file intact %d, freed %d\n", points,
              file_survived, freed);
}

}  // namespace
}  // namespace mdfs::session_test
