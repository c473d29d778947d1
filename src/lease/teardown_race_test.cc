// Long-term pins whose teardown takes time (a DMA engine draining its
// queue), racing other breakers, revocation and holder release (issue 14).
// A registrar's TearDown blocks on a gate the test opens, so every
// interleaving below is deterministic; the clock is a ManualClock.
//
// The promise pinned here (doc/leases.md, invariants 8 and 9): while any
// TearDown of a layout runs, the layout's whole range counts as held for
// every breaker, even past lease_break_time (revocation waits for it);
// the holder hears OnRecall only after its registrations are torn down and
// OnRevoke only after OnRecall returned; Release and ReleaseHolder wait
// for callbacks running on other threads.
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "lease/lease_test_util.h"
#include "lease/leases.h"

namespace mdfs::lease_test {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kKiB = 1024;
constexpr int64_t kMs = 1'000'000;

template <typename T>
bool StillBlocked(std::future<T>& future) {
  return future.wait_for(100ms) == std::future_status::timeout;
}

// A registrar whose TearDown waits until the test opens its gate, logging
// the start and the end of the teardown into its holder's event log.
class GatedRegistrar : public LongTermRegistrar {
 public:
  explicit GatedRegistrar(RecordingHolder* holder) : holder_(holder) {}
  bool CanTearDown() const override { return true; }
  void TearDown() override {
    holder_->Log("teardown begins");
    std::unique_lock lock(mu_);
    entered_ = true;
    ++teardowns_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    lock.unlock();
    holder_->Log("teardown ends");
  }
  std::string Describe() const override { return "gated registrar"; }

  // Waits until a TearDown has started (true), or 10 s passed (false).
  bool WaitUntilEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return entered_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int teardowns() {
    std::lock_guard lock(mu_);
    return teardowns_;
  }

 private:
  RecordingHolder* holder_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
  int teardowns_ = 0;
};

class TeardownRaceTest : public LeaseTest {
 protected:
  void SetUp() override { Start(/*break_time_ms=*/100); }

  // A 64 KiB written file with a stubborn holder's RW layout over all of it
  // and a gated long-term pin on that layout.
  void GrantPinnedLayout() {
    ino_ = MakeFile("a", 64 * kKiB);
    auto id = Grant(holder_, ino_, 0, 64 * kKiB);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    layout_ = *id;
    ASSERT_TRUE(leases_->AddLongTermPin(layout_, &registrar_).ok());
    before_ = *fs_->GetExtents(ino_);
  }
  std::future<Status> Punch(uint64_t offset, uint64_t length) {
    return std::async(std::launch::async, [this, offset, length] {
      return fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, offset, length);
    });
  }
  void ExpectBlockMapUnchanged(const std::string& when) {
    auto now = fs_->GetExtents(ino_);
    ASSERT_TRUE(now.ok());
    ASSERT_EQ(now->size(), before_.size()) << "the block map changed " << when;
    for (size_t i = 0; i < now->size(); ++i) {
      EXPECT_EQ((*now)[i].device_offset, before_[i].device_offset) << when;
      EXPECT_EQ((*now)[i].length, before_[i].length) << when;
    }
  }

  RecordingHolder holder_{"holder", /*release_on_recall=*/false};
  GatedRegistrar registrar_{&holder_};
  InodeNumber ino_ = 0;
  LayoutId layout_ = 0;
  std::vector<ExtentInfo> before_;
};

// The scenario of issue 14: breaker 1's recall is tearing the registration
// down; breaker 2, on another range of the same layout, must not revoke the
// layout and change the block map at lease_break_time while the device may
// still write.
TEST_F(TeardownRaceTest, ASecondBreakerWaitsForATeardownInProgressPastTheBreakTime) {
  GrantPinnedLayout();
  auto first = Punch(0, 4 * kKiB);
  ASSERT_TRUE(registrar_.WaitUntilEntered());
  auto second = Punch(8 * kKiB, 4 * kKiB);
  EXPECT_TRUE(StillBlocked(second));
  clock_.AdvanceNs(500 * kMs);  // far past lease_break_time
  EXPECT_TRUE(StillBlocked(second)) << "revoked while a teardown was still running";
  EXPECT_TRUE(StillBlocked(first));
  EXPECT_EQ(holder_.revokes.load(), 0);
  EXPECT_EQ(holder_.recalls.load(), 0) << "OnRecall before its registration was torn down";
  ExpectBlockMapUnchanged("while the teardown ran");
  EXPECT_EQ(StateOf(layout_), LayoutState::kRecalling);

  registrar_.Open();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(registrar_.teardowns(), 1) << "at most once";
  EXPECT_EQ(holder_.recalls.load(), 1);
  EXPECT_EQ(holder_.revokes.load(), 1);
  EXPECT_EQ(holder_.events,
            (std::vector<std::string>{"holder: teardown begins", "holder: teardown ends",
                                      "holder: recall 0", "holder: revoke 0"}));
  EXPECT_TRUE(leases_->ListLayouts().empty());
}

// The holder releasing while the teardown runs and a second breaker's
// deadline has passed: Release waits for the teardown and the recall, then
// succeeds (it used to answer "not held": the second breaker had revoked).
TEST_F(TeardownRaceTest, ReleaseDuringATeardownPastTheBreakTimeWaitsAndSucceeds) {
  GrantPinnedLayout();
  auto first = Punch(0, 4 * kKiB);
  ASSERT_TRUE(registrar_.WaitUntilEntered());
  auto second = Punch(8 * kKiB, 4 * kKiB);
  clock_.AdvanceNs(500 * kMs);
  EXPECT_TRUE(StillBlocked(second));
  auto release = std::async(std::launch::async, [&] { return leases_->Release(layout_); });
  EXPECT_TRUE(StillBlocked(release));
  registrar_.Open();
  Status released = release.get();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
  if (holder_.revokes.load() == 0) {
    EXPECT_TRUE(released.ok()) << released.ToString();
    EXPECT_EQ(holder_.events,
              (std::vector<std::string>{"holder: teardown begins", "holder: teardown ends",
                                        "holder: recall 0"}));
  } else {
    // The breaker's thread may revoke right after OnRecall returned, before
    // the releasing thread gets the lock: then Release finds it gone.
    EXPECT_EQ(released.code(), Code::kNotFound) << released.ToString();
    EXPECT_EQ(holder_.events.back(), "holder: revoke 0");
  }
  EXPECT_EQ(holder_.recalls.load(), 1);
}

// A non-blocking breaker arriving while the teardown runs, past the break
// time, is told to come back; it neither revokes nor changes anything.
TEST_F(TeardownRaceTest, RevocationRacingATeardownWaitsForIt) {
  GrantPinnedLayout();
  auto first = Punch(0, 4 * kKiB);
  ASSERT_TRUE(registrar_.WaitUntilEntered());
  clock_.AdvanceNs(500 * kMs);
  {
    BreakScope nonblocking({.nonblocking = true});
    Status status =
        fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, 16 * kKiB, 4 * kKiB);
    EXPECT_EQ(status.code(), Code::kWouldBlock) << status.ToString();
    EXPECT_NE(status.message().find("teardown"), std::string::npos) << status.ToString();
  }
  EXPECT_EQ(holder_.revokes.load(), 0);
  ExpectBlockMapUnchanged("after a non-blocking breaker past the break time");
  registrar_.Open();
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(holder_.events,
            (std::vector<std::string>{"holder: teardown begins", "holder: teardown ends",
                                      "holder: recall 0", "holder: revoke 0"}));
}

// Two breakers on disjoint ranges of one layout, no expiry: both wait for
// the teardown and then for the holder's release; one recall in all.
TEST_F(TeardownRaceTest, TwoBreakersOnDisjointRangesWaitForTheTeardownAndTheRelease) {
  GrantPinnedLayout();
  auto first = Punch(0, 4 * kKiB);
  ASSERT_TRUE(registrar_.WaitUntilEntered());
  auto second = Punch(32 * kKiB, 4 * kKiB);
  EXPECT_TRUE(StillBlocked(second));
  registrar_.Open();
  EXPECT_TRUE(StillBlocked(first)) << "the stubborn holder has not released yet";
  EXPECT_TRUE(StillBlocked(second));
  EXPECT_EQ(holder_.recalls.load(), 1) << "one recall for both breakers";
  ExpectBlockMapUnchanged("before the release");
  ASSERT_TRUE(leases_->Release(layout_).ok());
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(holder_.revokes.load(), 0);
  EXPECT_EQ(registrar_.teardowns(), 1);
}

// ReleaseHolder (holder death) and Release from other threads wait for a
// teardown and recall running on the breaker's thread: after they return
// the holder hears nothing more, so its owner may destroy it.
TEST_F(TeardownRaceTest, ReleaseHolderAndReleaseWaitForATeardownOnAnotherThread) {
  GrantPinnedLayout();
  auto first = Punch(0, 4 * kKiB);
  ASSERT_TRUE(registrar_.WaitUntilEntered());
  auto release = std::async(std::launch::async, [&] { return leases_->Release(layout_); });
  auto release_holder = std::async(std::launch::async, [&] { leases_->ReleaseHolder(&holder_); });
  EXPECT_TRUE(StillBlocked(release)) << "Release returned while the teardown ran";
  EXPECT_TRUE(StillBlocked(release_holder)) << "ReleaseHolder returned while the teardown ran";
  registrar_.Open();
  release_holder.get();
  Status released = release.get();
  size_t events_at_return = holder_.events.size();
  // Whichever of the two ran first released the layout; the other found it
  // gone. Release must not have answered "not held" before the recall ran.
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(holder_.recalls.load(), 1);
  EXPECT_EQ(holder_.revokes.load(), 0);
  EXPECT_EQ(holder_.events.size(), events_at_return) << "a callback after ReleaseHolder returned";
  EXPECT_EQ(holder_.events,
            (std::vector<std::string>{"holder: teardown begins", "holder: teardown ends",
                                      "holder: recall 0"}));
  EXPECT_TRUE(released.ok() || released.code() == Code::kNotFound) << released.ToString();
  EXPECT_TRUE(leases_->ListLayouts().empty());
}

// A registration cannot be added to a layout being recalled: kNotFound, as
// lease.h promises for any layout not granted (would-block would invite a
// retry that can never succeed: a recall is never cancelled).
TEST_F(TeardownRaceTest, LongTermPinOnARecallingLayoutIsNotFound) {
  GrantPinnedLayout();
  auto first = Punch(0, 4 * kKiB);
  ASSERT_TRUE(registrar_.WaitUntilEntered());
  GatedRegistrar late(&holder_);
  late.Open();
  Status status = leases_->AddLongTermPin(layout_, &late);
  EXPECT_EQ(status.code(), Code::kNotFound) << status.ToString();
  EXPECT_NE(status.message().find("being recalled"), std::string::npos) << status.ToString();
  registrar_.Open();
  ASSERT_TRUE(leases_->Release(layout_).ok());
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(late.teardowns(), 0);
}

}  // namespace
}  // namespace mdfs::lease_test
