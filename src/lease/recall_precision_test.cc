// Which layouts each breaker recalls, and which it leaves alone.
#include <functional>

#include "lease/lease_test_util.h"

namespace mdfs::lease_test {
namespace {

// Layouts before, inside and after the interesting ranges of a 10 MiB file
// (minus 100 bytes, so the last layout reaches past EOF by page rounding).
class RecallPrecisionTest : public LeaseTest {
 protected:
  void SetUp() override {
    LeaseTest::SetUp();
    ino_ = MakeFile("f", 10 * kMiB - 100);
    for (uint64_t start : {uint64_t{0}, 4 * kMiB, 8 * kMiB, 9 * kMiB}) {
      holders_.push_back(std::make_unique<RecordingHolder>(std::to_string(start / kMiB)));
      ASSERT_TRUE(Grant(*holders_.back(), ino_, start, kMiB).ok());
    }
  }
  // Which of the layouts at 0, 4, 8, 9 MiB `breaker` recalled ("0489" style).
  std::string Recalled(const std::function<Status()>& breaker) {
    Status status = breaker();
    EXPECT_TRUE(status.ok()) << status.ToString();
    std::string recalled;
    for (const auto& holder : holders_) {
      if (holder->recalls.load() > 0) recalled += holder->Describe().back();
    }
    return recalled;
  }

  InodeNumber ino_ = 0;
  std::vector<std::unique_ptr<RecordingHolder>> holders_;
};

TEST_F(RecallPrecisionTest, PunchRecallsOnlyOverlappingLayouts) {
  EXPECT_EQ(Recalled([&] {
              return fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, 8 * kMiB, 4096);
            }),
            "8");
}

TEST_F(RecallPrecisionTest, PartialBlockPunchRecallsTheLayoutHoldingThatBlock) {
  EXPECT_EQ(Recalled([&] {
              return fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, 4 * kMiB - 10,
                                    20);
            }),
            "4")
      << "the block at 4 MiB is copied and remapped";
}

TEST_F(RecallPrecisionTest, PunchBetweenLayoutsRecallsNothing) {
  EXPECT_EQ(Recalled([&] {
              return fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, 2 * kMiB, kMiB);
            }),
            "");
}

TEST_F(RecallPrecisionTest, TruncateDownRecallsFromTheNewSize) {
  EXPECT_EQ(Recalled([&] { return fs_->Truncate(ino_, 6 * kMiB); }), "89");
}

TEST_F(RecallPrecisionTest, TruncateUpRecallsOnlyLayoutsPastEof) {
  EXPECT_EQ(Recalled([&] { return fs_->Truncate(ino_, 20 * kMiB); }), "9");
}

TEST_F(RecallPrecisionTest, AllocatingWritePastEofRecallsOnlyLayoutsPastEof) {
  std::vector<std::byte> data(4096, std::byte{'w'});
  EXPECT_EQ(Recalled([&] { return fs_->Write(ino_, 30 * kMiB, data).status(); }), "9");
}

TEST_F(RecallPrecisionTest, OverwriteRecallsNothing) {
  std::vector<std::byte> data(kMiB, std::byte{'o'});
  EXPECT_EQ(Recalled([&] { return fs_->Write(ino_, 4 * kMiB, data).status(); }), "");
}

TEST_F(RecallPrecisionTest, WriteIntoAHoleRecallsOnlyTheHole) {
  ASSERT_TRUE(fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, 2 * kMiB, kMiB).ok());
  std::vector<std::byte> data(4096, std::byte{'h'});
  EXPECT_EQ(Recalled([&] { return fs_->Write(ino_, 2 * kMiB, data).status(); }), "");
}

TEST_F(RecallPrecisionTest, KeepSizeFallocatePastEofRecallsNothing) {
  EXPECT_EQ(Recalled([&] { return fs_->Fallocate(ino_, kFallocateKeepSize, 40 * kMiB, kMiB); }), "")
      << "the size does not change: nothing past EOF is exposed";
}

TEST_F(RecallPrecisionTest, GrowingFallocateRecallsOnlyLayoutsPastEof) {
  EXPECT_EQ(Recalled([&] { return fs_->Fallocate(ino_, 0, 40 * kMiB, kMiB); }), "9");
}

TEST_F(RecallPrecisionTest, FallocateOverAllocatedBlocksRecallsNothing) {
  EXPECT_EQ(Recalled([&] { return fs_->Fallocate(ino_, 0, 0, 9 * kMiB); }), "");
}

TEST_F(RecallPrecisionTest, ZeroRangeRecallsTheRange) {
  EXPECT_EQ(Recalled([&] {
              return fs_->Fallocate(ino_, kFallocateZeroRange | kFallocateKeepSize, 4 * kMiB + 4096,
                                    4096);
            }),
            "4");
}

TEST_F(RecallPrecisionTest, CollapseRecallsFromItsOffsetOn) {
  EXPECT_EQ(Recalled([&] { return fs_->Fallocate(ino_, kFallocateCollapseRange, 6 * kMiB, kMiB); }),
            "89");
}

TEST_F(RecallPrecisionTest, InsertRecallsFromItsOffsetOn) {
  EXPECT_EQ(Recalled([&] { return fs_->Fallocate(ino_, kFallocateInsertRange, 2 * kMiB, kMiB); }),
            "489");
}

TEST_F(RecallPrecisionTest, UnlinkRecallsEverything) {
  EXPECT_EQ(Recalled([&] { return fs_->Unlink(kRootInode, "f"); }), "0489");
}

TEST_F(RecallPrecisionTest, RenameOverRecallsEverythingOfTheVictimOnly) {
  InodeNumber other = MakeFile("g", kMiB);
  RecordingHolder other_holder("g");
  ASSERT_TRUE(Grant(other_holder, other, 0, kMiB).ok());
  EXPECT_EQ(Recalled([&] { return fs_->Rename(kRootInode, "g", kRootInode, "f"); }), "0489");
  EXPECT_EQ(other_holder.recalls.load(), 0) << "the renamed file keeps its blocks";
  leases_->ReleaseHolder(&other_holder);
}

TEST_F(RecallPrecisionTest, SealRecallsEverything) {
  EXPECT_EQ(Recalled([&] { return fs_->Seal(ino_); }), "0489");
}

TEST_F(RecallPrecisionTest, AnotherFileIsNeverDisturbed) {
  InodeNumber other = MakeFile("g", kMiB);
  EXPECT_EQ(Recalled([&] { return fs_->Truncate(other, 0); }), "");
}

}  // namespace
}  // namespace mdfs::lease_test
