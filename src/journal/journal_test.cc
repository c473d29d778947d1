#include "journal/journal.h"

#include <gtest/gtest.h>

namespace mdfs {
namespace {

using format::Block;

constexpr uint64_t kJournalStart = 2;
constexpr uint64_t kJournalBlocks = 64;
constexpr uint64_t kDeviceBlocks = 256;

BlockImage MakeImage(uint64_t block_number, uint8_t fill, uint64_t sequence) {
  BlockImage image;
  image.block_number = block_number;
  format::DirectoryBlock empty;
  format::EncodeDirectoryBlock(empty, block_number, sequence, image.data);
  image.data[format::kBlockHeaderSize + 8] = std::byte{fill};  // reserved area: content marker
  return image;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto device = CreateMemoryDevice(kDeviceBlocks * kBlockSize);
    ASSERT_TRUE(device.ok());
    device_ = std::move(device).value();
  }
  Block ReadHome(uint64_t block_number) {
    Block block;
    EXPECT_TRUE(format::ReadBlock(device_.get(), block_number, block).ok());
    return block;
  }
  std::unique_ptr<Device> device_;
};

TEST_F(JournalTest, ZeroedRegionIsEmpty) {
  Journal journal(device_.get(), kJournalStart, kJournalBlocks);
  auto tx = journal.Read();
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->state, JournalTransaction::State::kEmpty);
}

TEST_F(JournalTest, CommitWritesHomeAndLeavesAValidTransaction) {
  Journal journal(device_.get(), kJournalStart, kJournalBlocks);
  std::vector<BlockImage> images = {MakeImage(100, 1, 7), MakeImage(101, 2, 7)};
  ASSERT_TRUE(journal.Commit(7, images).ok());
  EXPECT_EQ(ReadHome(100), images[0].data);
  EXPECT_EQ(ReadHome(101), images[1].data);
  auto tx = journal.Read();
  ASSERT_TRUE(tx.ok());
  ASSERT_EQ(tx->state, JournalTransaction::State::kValid);
  EXPECT_EQ(tx->sequence, 7u);
  ASSERT_EQ(tx->images.size(), 2u);
  EXPECT_EQ(tx->images[1].block_number, 101u);
}

TEST_F(JournalTest, ReplayRestoresHomeBlocksLostInACrash) {
  CrashDevice crash(device_.get());
  Journal journal(&crash, kJournalStart, kJournalBlocks);
  std::vector<BlockImage> images = {MakeImage(100, 1, 3), MakeImage(150, 2, 3)};
  ASSERT_TRUE(journal.Commit(3, images).ok());
  // The home writes were not flushed: drop them all.
  CrashDevice::CrashOptions drop_all;
  drop_all.keep_probability = 0;
  drop_all.drop_probability = 1;
  crash.Crash(drop_all);
  Journal after(device_.get(), kJournalStart, kJournalBlocks);
  auto tx = after.Read();
  ASSERT_TRUE(tx.ok());
  ASSERT_EQ(tx->state, JournalTransaction::State::kValid);
  ASSERT_TRUE(after.Replay(*tx).ok());
  EXPECT_EQ(ReadHome(100), images[0].data);
  EXPECT_EQ(ReadHome(150), images[1].data);
}

TEST_F(JournalTest, CorruptImageMakesTheTransactionTorn) {
  Journal journal(device_.get(), kJournalStart, kJournalBlocks);
  ASSERT_TRUE(journal.Commit(5, {MakeImage(100, 1, 5), MakeImage(101, 2, 5)}).ok());
  // Flip one byte of the second image in the region (descriptor at +0).
  std::byte flipped{0x5A};
  ASSERT_TRUE(device_->Write((kJournalStart + 2) * kBlockSize + 777, std::span(&flipped, 1)).ok());
  auto tx = journal.Read();
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->state, JournalTransaction::State::kTorn);
  EXPECT_TRUE(tx->images.empty());
}

TEST_F(JournalTest, MissingCommitBlockIsTorn) {
  Journal journal(device_.get(), kJournalStart, kJournalBlocks);
  ASSERT_TRUE(journal.Commit(5, {MakeImage(100, 1, 5)}).ok());
  Block zero{};
  ASSERT_TRUE(format::WriteBlock(device_.get(), kJournalStart + 2, zero).ok());
  EXPECT_EQ(journal.Read()->state, JournalTransaction::State::kTorn);
}

TEST_F(JournalTest, SmallerLaterTransactionReplacesALargerOne) {
  Journal journal(device_.get(), kJournalStart, kJournalBlocks);
  std::vector<BlockImage> big;
  for (uint64_t b = 100; b < 110; ++b) big.push_back(MakeImage(b, 1, 1));
  ASSERT_TRUE(journal.Commit(1, big).ok());
  ASSERT_TRUE(journal.Commit(2, {MakeImage(120, 9, 2)}).ok());
  auto tx = journal.Read();
  ASSERT_EQ(tx->state, JournalTransaction::State::kValid);
  EXPECT_EQ(tx->sequence, 2u);
  ASSERT_EQ(tx->images.size(), 1u);
  EXPECT_EQ(tx->images[0].block_number, 120u);
}

TEST(JournalCapacity, MaxImagesCountsDescriptorsAndCommit) {
  EXPECT_EQ(Journal(nullptr, 2, 200).max_images(), 198u);
  EXPECT_EQ(Journal(nullptr, 2, 1024).max_images(), 1024u - 1 - 3);  // 3 descriptors + commit
}

TEST(JournalChain, TransactionSpanningSeveralDescriptorsRoundTrips) {
  auto device = CreateMemoryDevice(4096 * kBlockSize);
  ASSERT_TRUE(device.ok());
  Journal journal(device->get(), 2, 1100);
  std::vector<BlockImage> images;
  for (uint64_t b = 2000; b < 2000 + 1200 - 200; ++b) images.push_back(MakeImage(b, 3, 9));
  ASSERT_TRUE(journal.Commit(9, images).ok());
  auto tx = journal.Read();
  ASSERT_EQ(tx->state, JournalTransaction::State::kValid);
  ASSERT_EQ(tx->images.size(), images.size());
  EXPECT_EQ(tx->images.back().block_number, images.back().block_number);
  EXPECT_EQ(tx->images.back().data, images.back().data);
}

TEST_F(JournalTest, ValidTransactionWithImpossibleTargetIsCorruption) {
  Journal journal(device_.get(), kJournalStart, kJournalBlocks);
  // Checksummed correctly, but aimed inside the journal region itself.
  std::vector<BlockImage> images = {MakeImage(kJournalStart + 10, 1, 4)};
  ASSERT_TRUE(journal.Commit(4, images).ok());
  auto tx = journal.Read();
  ASSERT_FALSE(tx.ok()) << "a transaction targeting the journal must be refused";
  EXPECT_EQ(tx.status().code(), Code::kCorruption);
  std::vector<BlockImage> past_end = {MakeImage(kDeviceBlocks + 5, 1, 5)};
  EXPECT_FALSE(journal.Commit(5, past_end).ok());  // the home write itself fails
  auto again = journal.Read();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kCorruption);
}

TEST_F(JournalTest, TooLargeTransactionIsRefusedBeforeAnyWrite) {
  Journal journal(device_.get(), kJournalStart, 8);
  std::vector<BlockImage> images;
  for (uint64_t b = 100; b < 110; ++b) images.push_back(MakeImage(b, 1, 1));
  EXPECT_EQ(journal.Commit(1, images).code(), Code::kNoSpace);
  EXPECT_EQ(journal.Read()->state, JournalTransaction::State::kEmpty);
}

TEST_F(JournalTest, CrashAtEveryWriteOfACommitLeavesOldOrNew) {
  for (uint64_t crash_at = 1; crash_at <= 4; ++crash_at) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      SetUp();
      CrashDevice crash(device_.get());
      Journal journal(&crash, kJournalStart, kJournalBlocks);
      ASSERT_TRUE(journal.Commit(1, {MakeImage(100, 1, 1), MakeImage(101, 1, 1)}).ok());
      ASSERT_TRUE(crash.Flush().ok());
      CrashDevice::CrashOptions options;
      options.seed = seed;
      crash.CrashAtWrite(crash_at, options);
      std::vector<BlockImage> second = {MakeImage(100, 2, 2), MakeImage(101, 2, 2)};
      Status status = journal.Commit(2, second);
      Journal after(device_.get(), kJournalStart, kJournalBlocks);
      auto tx = after.Read();
      ASSERT_TRUE(tx.ok());
      ASSERT_TRUE(after.Replay(*tx).ok());
      Block a = ReadHome(100), b = ReadHome(101);
      bool old_state = a == MakeImage(100, 1, 1).data && b == MakeImage(101, 1, 1).data;
      bool new_state = a == second[0].data && b == second[1].data;
      EXPECT_TRUE(old_state || new_state) << "crash at write " << crash_at << " seed " << seed;
      if (status.ok()) EXPECT_TRUE(new_state) << "an acknowledged commit must survive";
    }
  }
}

}  // namespace
}  // namespace mdfs
