// Blocking, non-blocking, lease_break_time expiry (test clock), break time 0,
// holder release while a breaker waits, two breakers, self-holder breakers.
#include <chrono>
#include <future>
#include <thread>

#include "lease/lease_test_util.h"
#include "lease/leases.h"

namespace mdfs::lease_test {
namespace {

using namespace std::chrono_literals;

// True if `future` is still running after a short grace period (used only
// to check that something is still blocked; never to measure time).
template <typename T>
bool StillBlocked(std::future<T>& future) {
  return future.wait_for(100ms) == std::future_status::timeout;
}

TEST_F(LeaseTest, BlockingBreakerWaitsForTheRelease) {
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("h", /*release_on_recall=*/false);
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  EXPECT_TRUE(StillBlocked(truncate));
  EXPECT_EQ(holder.recalls.load(), 1);
  EXPECT_EQ(StateOf(*id), LayoutState::kRecalling);
  EXPECT_EQ(fs_->GetAttributes(ino)->size, kMiB) << "nothing changed while it waits";
  ASSERT_TRUE(leases_->Release(*id).ok());
  EXPECT_TRUE(truncate.get().ok());
  EXPECT_EQ(fs_->GetAttributes(ino)->size, 0u);
  EXPECT_EQ(holder.revokes.load(), 0);
}

TEST_F(LeaseTest, NonBlockingBreakerStartsTheRecallAndReturnsWouldBlock) {
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("h", false);
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  {
    BreakScope nonblocking({.nonblocking = true});
    Status status = fs_->Truncate(ino, 0);
    EXPECT_EQ(status.code(), Code::kWouldBlock) << status.ToString();
    EXPECT_NE(status.message().find("1 layout(s)"), std::string::npos) << status.ToString();
  }
  EXPECT_EQ(holder.recalls.load(), 1) << "the recall started";
  EXPECT_EQ(StateOf(*id), LayoutState::kRecalling) << "and cannot be cancelled";
  EXPECT_EQ(fs_->GetAttributes(ino)->size, kMiB);
  // Another non-blocking attempt does not recall twice.
  {
    BreakScope nonblocking({.nonblocking = true});
    EXPECT_EQ(fs_->Truncate(ino, 0).code(), Code::kWouldBlock);
  }
  EXPECT_EQ(holder.recalls.load(), 1);
  ASSERT_TRUE(leases_->Release(*id).ok());
  BreakScope nonblocking({.nonblocking = true});
  EXPECT_TRUE(fs_->Truncate(ino, 0).ok());
}

TEST_F(LeaseTest, LeaseBreakTimeExpiryRevokesAndTheBreakerProceeds) {
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("h", false);
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(leases_->lease_break_time_ms(), 1000u);
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  EXPECT_TRUE(StillBlocked(truncate));
  clock_.AdvanceNs(999'000'000);
  EXPECT_TRUE(StillBlocked(truncate)) << "1 ms before lease_break_time";
  clock_.AdvanceNs(1'000'000);
  EXPECT_TRUE(truncate.get().ok());
  EXPECT_EQ(holder.revokes.load(), 1);
  EXPECT_EQ(holder.events, (std::vector<std::string>{"h: recall 0", "h: revoke 0"}));
  EXPECT_EQ(leases_->Release(*id).code(), Code::kNotFound) << "a revoked layout is gone";
  EXPECT_EQ(leases_->counters().revoked, 1u);
}

TEST_F(LeaseTest, LeaseBreakTimeZeroNeverRevokes) {
  Start(0);
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("h", false);
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  clock_.AdvanceNs(int64_t{1'000'000} * 1'000'000'000);  // a million seconds
  EXPECT_TRUE(StillBlocked(truncate));
  EXPECT_EQ(holder.revokes.load(), 0);
  ASSERT_TRUE(leases_->Release(*id).ok());
  EXPECT_TRUE(truncate.get().ok());
}

TEST_F(LeaseTest, OpenOptionOverridesTheSuperblockBreakTime) {
  Start(0);
  leases_.reset();
  LeaseOptions options;
  options.clock = &clock_;
  options.lease_break_time_ms = 5;
  auto leases = LeaseManager::Attach(fs_.get(), options);
  ASSERT_TRUE(leases.ok());
  leases_ = std::move(leases).value();
  EXPECT_EQ(leases_->lease_break_time_ms(), 5u);
  EXPECT_EQ(fs_->StatFs()->lease_break_time_ms, 0u) << "the superblock's value is unchanged";
}

TEST_F(LeaseTest, HolderReleaseWhileABreakerWaits) {
  InodeNumber ino = MakeFile("f", 2 * kMiB);
  RecordingHolder holder("h", false);
  ASSERT_TRUE(Grant(holder, ino, 0, kMiB).ok());
  ASSERT_TRUE(Grant(holder, ino, kMiB, kMiB).ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  EXPECT_TRUE(StillBlocked(truncate));
  leases_->ReleaseHolder(&holder);  // the holder died: everything at once
  EXPECT_TRUE(truncate.get().ok());
  EXPECT_TRUE(leases_->ListLayouts().empty());
}

TEST_F(LeaseTest, TwoBreakersAtOnceBothProceedAfterTheRelease) {
  InodeNumber ino = MakeFile("f", 4 * kMiB);
  RecordingHolder holder("h", false);
  auto id = Grant(holder, ino, 0, 4 * kMiB);
  ASSERT_TRUE(id.ok());
  auto punch = std::async(std::launch::async, [&] {
    return fs_->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, kMiB, kMiB);
  });
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 3 * kMiB); });
  EXPECT_TRUE(StillBlocked(punch));
  EXPECT_TRUE(StillBlocked(truncate));
  EXPECT_EQ(holder.recalls.load(), 1) << "one recall, however many breakers";
  ASSERT_TRUE(leases_->Release(*id).ok());
  EXPECT_TRUE(punch.get().ok());
  EXPECT_TRUE(truncate.get().ok());
  EXPECT_EQ(fs_->GetAttributes(ino)->size, 3 * kMiB);
}

TEST_F(LeaseTest, ABreakerThatIsTheHolderDoesNotWaitForItself) {
  Start(0);  // "never revoke": waiting for itself would hang forever
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder self("self", false);
  RecordingHolder other("other", true);
  ASSERT_TRUE(Grant(self, ino, 0, kMiB).ok());
  ASSERT_TRUE(Grant(other, ino, 0, kMiB).ok());
  BreakScope as_holder({.self = &self});
  EXPECT_TRUE(fs_->Truncate(ino, 0).ok());
  EXPECT_EQ(self.events, (std::vector<std::string>{"self: recall 0", "self: revoke 0"}))
      << "its own layout is recalled, then revoked at once";
  EXPECT_EQ(other.recalls.load(), 1);
  EXPECT_EQ(other.revokes.load(), 0) << "other holders are waited for as usual";
}

// One file system, one lease manager: a second Attach would have replaced
// the first one's listener and left its layouts unprotected.
TEST_F(LeaseTest, ASecondLeaseManagerOnTheSameFileSystemIsRefused) {
  auto second = LeaseManager::Attach(fs_.get());
  EXPECT_EQ(second.status().code(), Code::kExists) << second.status().ToString();
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("holder");
  ASSERT_TRUE(Grant(holder, ino, 0, kMiB).ok());
  ASSERT_TRUE(fs_->Truncate(ino, 0).ok());
  EXPECT_EQ(holder.recalls.load(), 1) << "the first manager still recalls";
}

// A session owns many holders (its mappings): BreakOptions::self names the
// owner, and every holder that answers it in owner() counts as the breaker.
TEST_F(LeaseTest, ABreakerNeverWaitsForTheHoldersOfItsOwner) {
  Start(0);
  InodeNumber ino = MakeFile("f", kMiB);
  struct OwnedHolder : RecordingHolder {
    OwnedHolder(const char* name, const void* owner) : RecordingHolder(name, false), of(owner) {}
    const void* owner() const override { return of; }
    const void* of;
  };
  int session = 0, other_session = 0;
  OwnedHolder first("first", &session), second("second", &session);
  OwnedHolder stranger("stranger", &other_session);
  ASSERT_TRUE(Grant(first, ino, 0, kMiB / 2).ok());
  ASSERT_TRUE(Grant(second, ino, kMiB / 2, kMiB / 2).ok());
  auto stranger_layout = Grant(stranger, ino, 0, kMiB);
  ASSERT_TRUE(stranger_layout.ok());
  auto truncate = std::async(std::launch::async, [&] {
    BreakScope as_session({.self = &session});
    return fs_->Truncate(ino, 0);
  });
  EXPECT_TRUE(StillBlocked(truncate)) << "the stranger's layout is waited for";
  EXPECT_EQ(first.revokes.load(), 1);
  EXPECT_EQ(second.revokes.load(), 1);
  ASSERT_TRUE(leases_->Release(*stranger_layout).ok());
  EXPECT_TRUE(truncate.get().ok());
  EXPECT_EQ(stranger.revokes.load(), 0);
}

TEST_F(LeaseTest, NewLayoutsWaitBehindAWaitingBreaker) {
  InodeNumber ino = MakeFile("f", 2 * kMiB);
  RecordingHolder first("first", false), second("second");
  auto id = Grant(first, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  EXPECT_TRUE(StillBlocked(truncate));
  {
    BreakScope nonblocking({.nonblocking = true});
    auto denied = Grant(second, ino, kMiB, kMiB);
    EXPECT_EQ(denied.status().code(), Code::kWouldBlock) << "no starvation of the breaker";
    EXPECT_EQ(leases_->WaitForRange(ino, kMiB, kMiB).code(), Code::kWouldBlock);
  }
  ASSERT_TRUE(leases_->Release(*id).ok());
  EXPECT_TRUE(truncate.get().ok());
  EXPECT_TRUE(leases_->WaitForRange(ino, 0, kMiB).ok());
}

TEST_F(LeaseTest, ListingShowsEveryLayoutLikeProcLocks) {
  InodeNumber ino = MakeFile("f", 2 * kMiB);
  RecordingHolder reader("reader", false), writer("writer", false);
  ASSERT_TRUE(Grant(reader, ino, 0, kMiB, LayoutMode::kRead).ok());
  ASSERT_TRUE(Grant(writer, ino, kMiB, kMiB, LayoutMode::kReadWrite).ok());
  clock_.AdvanceNs(7'000'000);
  {
    BreakScope nonblocking({.nonblocking = true});
    EXPECT_EQ(fs_->Truncate(ino, kMiB + 4096).code(), Code::kWouldBlock);
  }
  std::vector<LayoutInfo> layouts = leases_->ListLayouts();
  ASSERT_EQ(layouts.size(), 2u);
  EXPECT_EQ(layouts[0].holder, "test holder reader");
  EXPECT_EQ(layouts[0].ino, ino);
  EXPECT_EQ(layouts[0].offset, 0u);
  EXPECT_EQ(layouts[0].length, kMiB);
  EXPECT_STREQ(LayoutModeName(layouts[0].mode), "read");
  EXPECT_STREQ(LayoutStateName(layouts[0].state), "granted");
  EXPECT_EQ(layouts[0].age_ns, 7'000'000);
  EXPECT_STREQ(LayoutModeName(layouts[1].mode), "rw");
  EXPECT_STREQ(LayoutStateName(layouts[1].state), "recalling");
  leases_->ReleaseHolder(&reader);
  leases_->ReleaseHolder(&writer);
}

TEST_F(LeaseTest, DestroyingTheManagerRevokesWhatIsLeft) {
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("h", false);
  ASSERT_TRUE(Grant(holder, ino, 0, kMiB).ok());
  leases_.reset();
  holder.set_manager(nullptr);
  EXPECT_EQ(holder.revokes.load(), 1);
  EXPECT_TRUE(fs_->Truncate(ino, 0).ok()) << "detached: no listener left";
}

}  // namespace
}  // namespace mdfs::lease_test
