// Transient pins, long-term pins (registrations), and sealed files.
#include <chrono>
#include <future>
#include <thread>

#include "lease/lease_test_util.h"
#include "lease/leases.h"

namespace mdfs::lease_test {
namespace {

using namespace std::chrono_literals;

template <typename T>
bool StillBlocked(std::future<T>& future) {
  return future.wait_for(100ms) == std::future_status::timeout;
}

// A registrar that logs its teardown into the holders' shared log.
class LoggingRegistrar : public LongTermRegistrar {
 public:
  LoggingRegistrar(std::string name, std::vector<std::string>* log, bool can_tear_down = true)
      : name_(std::move(name)), log_(log), can_tear_down_(can_tear_down) {}
  bool CanTearDown() const override { return can_tear_down_; }
  void TearDown() override {
    log_->push_back(name_ + ": teardown");
    ++teardowns;
  }
  std::string Describe() const override { return "registrar " + name_; }
  int teardowns = 0;

 private:
  std::string name_;
  std::vector<std::string>* log_;
  bool can_tear_down_;
};

TEST_F(LeaseTest, BreakerWaitsUntilNoPinnedBlockRemainsInItsRange) {
  InodeNumber ino = MakeFile("f", 2 * kMiB);
  auto pin = leases_->Pin(ino, kMiB, 4096);
  ASSERT_TRUE(pin.ok());
  auto outside = leases_->Pin(ino, 0, 4096);
  ASSERT_TRUE(outside.ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, kMiB); });
  EXPECT_TRUE(StillBlocked(truncate));
  ASSERT_TRUE(leases_->Unpin(*pin).ok());
  EXPECT_TRUE(truncate.get().ok()) << "the pin at 0 is outside the range";
  ASSERT_TRUE(leases_->Unpin(*outside).ok());
  EXPECT_EQ(leases_->Unpin(*outside).code(), Code::kNotFound);
}

TEST_F(LeaseTest, PinsAreNeverRevoked) {
  InodeNumber ino = MakeFile("f", kMiB);
  auto pin = leases_->Pin(ino, 0, 4096);
  ASSERT_TRUE(pin.ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  clock_.AdvanceNs(int64_t{3600} * 1'000'000'000);
  EXPECT_TRUE(StillBlocked(truncate)) << "DMA in flight is waited for, whatever the time";
  ASSERT_TRUE(leases_->Unpin(*pin).ok());
  EXPECT_TRUE(truncate.get().ok());
}

TEST_F(LeaseTest, NewPinsWaitBehindAWaitingBreaker) {
  InodeNumber ino = MakeFile("f", kMiB);
  auto held = leases_->Pin(ino, 0, 4096);
  ASSERT_TRUE(held.ok());
  auto truncate = std::async(std::launch::async, [&] { return fs_->Truncate(ino, 0); });
  EXPECT_TRUE(StillBlocked(truncate));
  auto late_pin = std::async(std::launch::async, [&] { return leases_->Pin(ino, 4096, 4096); });
  EXPECT_TRUE(StillBlocked(late_pin)) << "a new pin in the breaker's range waits";
  {
    BreakScope nonblocking({.nonblocking = true});
    EXPECT_EQ(leases_->Pin(ino, 8192, 4096).status().code(), Code::kWouldBlock);
  }
  ASSERT_TRUE(leases_->Unpin(*held).ok());
  EXPECT_TRUE(truncate.get().ok());
  auto pinned = late_pin.get();
  ASSERT_TRUE(pinned.ok()) << "granted once the breaker is done";
  EXPECT_GE(leases_->counters().pin_waits, 1u);
  ASSERT_TRUE(leases_->Unpin(*pinned).ok());
}

TEST_F(LeaseTest, LongTermPinWithoutALayoutIsRefused) {
  std::vector<std::string> log;
  LoggingRegistrar registrar("r", &log);
  Status status = leases_->AddLongTermPin(12345, &registrar);
  EXPECT_EQ(status.code(), Code::kNotFound) << status.ToString();
  EXPECT_NE(status.message().find("needs a held layout"), std::string::npos);
}

TEST_F(LeaseTest, RegistrarThatCannotTearDownIsRefused) {
  InodeNumber ino = MakeFile("f", kMiB);
  RecordingHolder holder("h");
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  std::vector<std::string> log;
  LoggingRegistrar no_iommu("no-iommu", &log, /*can_tear_down=*/false);
  Status status = leases_->AddLongTermPin(*id, &no_iommu);
  EXPECT_EQ(status.code(), Code::kNotSupported) << status.ToString();
  EXPECT_NE(status.message().find("registrar no-iommu"), std::string::npos);
}

TEST_F(LeaseTest, TeardownsRunNewestFirstBeforeTheHolderHearsOfTheRecall) {
  InodeNumber ino = MakeFile("f", kMiB);
  std::vector<std::string> log;
  RecordingHolder holder("holder");
  holder.shared_log = &log;
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  LoggingRegistrar first("first", &log), second("second", &log);
  ASSERT_TRUE(leases_->AddLongTermPin(*id, &first).ok());
  ASSERT_TRUE(leases_->AddLongTermPin(*id, &second).ok());
  EXPECT_EQ(leases_->ListLayouts()[0].long_term_pins, 2u);
  ASSERT_TRUE(fs_->Truncate(ino, 0).ok());
  EXPECT_EQ(log,
            (std::vector<std::string>{"second: teardown", "first: teardown", "holder: recall 0"}));
  EXPECT_EQ(first.teardowns, 1) << "at most once";
}

TEST_F(LeaseTest, ReleaseTearsDownRegistrationsToo) {
  InodeNumber ino = MakeFile("f", kMiB);
  std::vector<std::string> log;
  RecordingHolder holder("holder");
  auto id = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(id.ok());
  LoggingRegistrar registrar("r", &log);
  ASSERT_TRUE(leases_->AddLongTermPin(*id, &registrar).ok());
  ASSERT_TRUE(leases_->Release(*id).ok());
  EXPECT_EQ(registrar.teardowns, 1);
  LoggingRegistrar removed("removed", &log);
  auto other = Grant(holder, ino, 0, kMiB);
  ASSERT_TRUE(leases_->AddLongTermPin(*other, &removed).ok());
  ASSERT_TRUE(leases_->RemoveLongTermPin(*other, &removed).ok());
  ASSERT_TRUE(leases_->Release(*other).ok());
  EXPECT_EQ(removed.teardowns, 0) << "removed by its registrar: not torn down again";
}

TEST_F(LeaseTest, SealedFileMappingsBlockUnsealButNeverRecall) {
  InodeNumber ino = MakeFile("f", kMiB);
  ASSERT_TRUE(fs_->Seal(ino).ok());
  ASSERT_TRUE(leases_->AddSealedMapping(ino).ok());
  Status unseal = fs_->Unseal(ino);
  EXPECT_EQ(unseal.code(), Code::kTextFileBusy) << unseal.ToString();
  EXPECT_NE(unseal.message().find("1 lease-free mapping"), std::string::npos);
  EXPECT_EQ(fs_->Truncate(ino, 0).code(), Code::kTextFileBusy);
  leases_->RemoveSealedMapping(ino);
  EXPECT_TRUE(fs_->Unseal(ino).ok());
  EXPECT_TRUE(fs_->Truncate(ino, 0).ok());
}

}  // namespace
}  // namespace mdfs::lease_test
