// Two sessions on one volume: each one's layouts are recalled by the other's
// block-map changes; closing a session gives back everything it holds.
#include <sys/mman.h>

#include <atomic>
#include <cstring>

#include "session/session_test_util.h"

namespace mdfs::session_test {
namespace {

class TwoSessionsTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    alice_ = OpenSession(User(1000, 1000));
    bob_ = OpenSession(User(1001, 1000));
    ASSERT_OK(session_->Mkdir(session_->root(), "shared", 0777).status());
  }
  std::unique_ptr<Session> alice_, bob_;
};

TEST_F(TwoSessionsTest, EachSessionsTruncateRecallsTheOthersMapping) {
  auto alice_file = MustOpen(*alice_, "/shared/a", O_RDWR | O_CREAT, 0666);
  auto bob_file = MustOpen(*bob_, "/shared/b", O_RDWR | O_CREAT, 0666);
  std::atomic<int> alice_recalls{0}, bob_recalls{0};
  auto alice_map = alice_file->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate,
                                         {.on_recall = [&] { ++alice_recalls; }});
  auto bob_map = bob_file->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate,
                                     {.on_recall = [&] { ++bob_recalls; }});
  ASSERT_OK(alice_map.status());
  ASSERT_OK(bob_map.status());
  std::memcpy((*alice_map)->data(), "alice", 5);

  auto bob_opens_a = MustOpen(*bob_, "/shared/a", O_RDWR);
  ASSERT_OK(bob_opens_a->Truncate(4096));
  EXPECT_EQ(alice_recalls.load(), 1);
  EXPECT_TRUE((*alice_map)->torn_down());
  EXPECT_FALSE((*bob_map)->torn_down()) << "another file: not recalled";
  EXPECT_EQ(ReadAll(*bob_opens_a), std::string("alice") + std::string(4091, '\0'));

  auto alice_opens_b = MustOpen(*alice_, "/shared/b", O_RDWR);
  ASSERT_OK(alice_opens_b->Fallocate(kFallocatePunchHole | kFallocateKeepSize, 0, 4096));
  EXPECT_EQ(bob_recalls.load(), 1);
  EXPECT_TRUE((*bob_map)->torn_down());
}

TEST_F(TwoSessionsTest, ClosingASessionReleasesItsLayouts) {
  auto file = MustOpen(*alice_, "/shared/f", O_RDWR | O_CREAT, 0666);
  std::atomic<int> recalls{0};
  auto first = file->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate,
                               {.on_recall = [&] { ++recalls; }});
  auto second = file->MapDirect(1 << 20, 1 << 20, PROT_READ, kMapDirectAllocate);
  ASSERT_OK(first.status());
  ASSERT_OK(second.status());
  EXPECT_EQ(volume_->ListLayouts().size(), 2u);
  alice_->Close();
  EXPECT_TRUE(volume_->ListLayouts().empty());
  EXPECT_TRUE((*first)->torn_down());
  EXPECT_TRUE((*second)->torn_down());
  EXPECT_EQ(recalls.load(), 0) << "a close is not a recall";
  // Bob's truncate has nothing to wait for.
  auto bobs = MustOpen(*bob_, "/shared/f", O_RDWR);
  ASSERT_OK(bobs->Truncate(0, {.nonblocking = true}));
  EXPECT_CODE(file->MapDirect(0, 4096, PROT_READ, 0).status(), kBadHandle);
}

TEST_F(TwoSessionsTest, ASessionBreakingItsOwnLayoutDoesNotWaitForItself) {
  Remount({.lease_break_time_ms = 0});  // never revoke: waiting for itself would hang
  alice_ = OpenSession(User(1000, 1000));
  auto file = MustOpen(*alice_, "/shared/f", O_RDWR | O_CREAT, 0666);
  auto mapping = file->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_OK(mapping.status());
  ASSERT_OK(file->Truncate(0, {.nonblocking = true}));
  EXPECT_TRUE((*mapping)->torn_down());
  EXPECT_TRUE(volume_->ListLayouts().empty());
}

}  // namespace
}  // namespace mdfs::session_test
