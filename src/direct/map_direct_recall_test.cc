// MapDirect and the lease layer: recall on truncate (SIGBUS afterwards),
// range granularity, sealed files, revocation when the manager goes away.
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "direct/direct_test_util.h"
#include "direct/map_direct_engine.h"
#include "direct/map_direct_test_fixture.h"
#include "gtest/gtest.h"
#include "lease/leases.h"

namespace mdfs::direct_test {
namespace {

using MapDirectRecallTest = MapDirectTest;

INSTANTIATE_TEST_SUITE_P(AllDevices, MapDirectRecallTest,
                         testing::Values(DeviceKind::kMemory, DeviceKind::kFile), DeviceKindName);

// What the on_recall callback saw when it ran.
struct RecallObservation {
  std::atomic<int> recalls{0};
  std::atomic<bool> torn_down_during_callback{false};
  std::atomic<int> revokes{0};
};

MapDirectOptions Observe(RecallObservation& seen, const std::unique_ptr<DirectMapping>* mapping) {
  MapDirectOptions options;
  options.on_recall = [&seen, mapping] {
    seen.torn_down_during_callback = (*mapping)->torn_down();
    ++seen.recalls;
  };
  options.on_revoke = [&seen] { ++seen.revokes; };
  return options;
}

TEST_P(MapDirectRecallTest, TruncateFromAnotherThreadRecallsThenAccessRaisesSigbus) {
  const InodeNumber ino = CreateFile("a", Pattern(16384, 1));
  RecallObservation seen;
  std::unique_ptr<DirectMapping> mapping;
  mapping = MapOrDie(ino, 0, 16384, PROT_READ | PROT_WRITE, 0, Observe(seen, &mapping));
  ASSERT_NE(mapping, nullptr);
  std::byte* data = mapping->data();
  data[100] = std::byte{1};  // live: no fault
  std::thread breaker([&] { EXPECT_TRUE(fs_->Truncate(ino, 4096).ok()); });
  breaker.join();
  EXPECT_EQ(seen.recalls.load(), 1);
  EXPECT_FALSE(seen.torn_down_during_callback.load()) << "on_recall must run before teardown";
  EXPECT_TRUE(mapping->torn_down());
  EXPECT_FALSE(mapping->revoked());
  EXPECT_EQ(seen.revokes.load(), 0);
  EXPECT_EQ(SignalOnLoad(data + 100), SIGBUS);
  EXPECT_EQ(SignalOnStore(data + 8192), SIGBUS);
  EXPECT_EQ(mapping->Persist(data, 10).code(), Code::kLeaseRevoked);
  EXPECT_TRUE(leases_->ListLayouts().empty());
  EXPECT_EQ(fs_->GetAttributes(ino)->size, 4096u);
}

TEST_P(MapDirectRecallTest, ChangesElsewhereInTheFileDoNotRecall) {
  const InodeNumber ino = CreateFile("a", Pattern(64 * 1024, 1));
  RecallObservation seen;
  std::unique_ptr<DirectMapping> mapping;
  mapping = MapOrDie(ino, 0, 8192, PROT_READ | PROT_WRITE, 0, Observe(seen, &mapping));
  ASSERT_NE(mapping, nullptr);
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, 32768, 8192).ok());
  ASSERT_TRUE(fs_->Truncate(ino, 16384).ok());
  EXPECT_EQ(seen.recalls.load(), 0);
  EXPECT_FALSE(mapping->torn_down());
  mapping->data()[10] = std::byte{3};
  EXPECT_TRUE(mapping->Persist(mapping->data() + 10, 1).ok());
  EXPECT_EQ(ReadFile(ino, 10, 1)[0], std::byte{3});
}

TEST_P(MapDirectRecallTest, RemappingAfterARecallSeesTheNewBlockMap) {
  const InodeNumber ino = CreateFile("a", Pattern(8192, 1));
  auto first = MapOrDie(ino, 0, 8192);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, 0, 4096).ok());
  EXPECT_TRUE(first->torn_down());
  EXPECT_EQ(MapDirect(fs_.get(), leases_.get(), ino, 0, 8192, PROT_READ, 0).status().code(),
            Code::kHole);
  auto second = MapOrDie(ino, 0, 8192, PROT_READ, kMapDirectAllocate);
  ASSERT_NE(second, nullptr);
  const std::vector<std::byte> zeros(4096);
  EXPECT_EQ(std::memcmp(second->data(), zeros.data(), 4096), 0);
  EXPECT_EQ(std::memcmp(second->data() + 4096, Pattern(8192, 1).data() + 4096, 4096), 0);
}

TEST_P(MapDirectRecallTest, SealedFileMappingTakesNoLayoutAndBlocksUnseal) {
  const InodeNumber ino = CreateFile("sealed", Pattern(8192, 5));
  ASSERT_TRUE(fs_->Seal(ino).ok());
  auto mapping = MapOrDie(ino, 0, 8192);
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(mapping->layout(), 0u);
  EXPECT_TRUE(leases_->ListLayouts().empty());
  EXPECT_EQ(std::memcmp(mapping->data(), Pattern(8192, 5).data(), 8192), 0);
  mapping->data()[0] = std::byte{7};  // data may change; the block map may not
  ASSERT_TRUE(mapping->Persist(mapping->data(), 1).ok());
  EXPECT_EQ(fs_->Truncate(ino, 0).code(), Code::kTextFileBusy);
  EXPECT_EQ(fs_->Unseal(ino).code(), Code::kTextFileBusy);
  EXPECT_FALSE(mapping->torn_down());
  mapping.reset();
  EXPECT_TRUE(fs_->Unseal(ino).ok());
  EXPECT_EQ(ReadFile(ino, 0, 1)[0], std::byte{7});
}

TEST_P(MapDirectRecallTest, SealRecallsExistingMappings) {
  const InodeNumber ino = CreateFile("a", Pattern(8192, 1));
  auto mapping = MapOrDie(ino, 0, 8192);
  ASSERT_NE(mapping, nullptr);
  ASSERT_TRUE(fs_->Seal(ino).ok());
  EXPECT_TRUE(mapping->torn_down());
  EXPECT_EQ(SignalOnLoad(mapping->data()), SIGBUS);
}

TEST_P(MapDirectRecallTest, LeaseManagerGoingAwayRevokesTheMapping) {
  const InodeNumber ino = CreateFile("a", Pattern(4096, 1));
  RecallObservation seen;
  std::unique_ptr<DirectMapping> mapping;
  mapping = MapOrDie(ino, 0, 4096, PROT_READ | PROT_WRITE, 0, Observe(seen, &mapping));
  ASSERT_NE(mapping, nullptr);
  leases_.reset();
  EXPECT_EQ(seen.revokes.load(), 1);
  EXPECT_TRUE(mapping->revoked());
  EXPECT_TRUE(mapping->torn_down());
  EXPECT_EQ(SignalOnLoad(mapping->data()), SIGBUS);
  Status status = mapping->Persist(mapping->data(), 1);
  EXPECT_EQ(status.code(), Code::kLeaseRevoked);
  EXPECT_NE(status.message().find("revoked"), std::string::npos) << status.message();
  mapping.reset();  // must not touch the destroyed lease manager
}

TEST_P(MapDirectRecallTest, UnmapFromInsideOnRecallDoesNotDeadlock) {
  const InodeNumber ino = CreateFile("a", Pattern(8192, 1));
  std::unique_ptr<DirectMapping> mapping;
  MapDirectOptions options;
  options.on_recall = [&mapping] { mapping->Unmap(); };
  mapping = MapOrDie(ino, 0, 8192, PROT_READ | PROT_WRITE, 0, std::move(options));
  ASSERT_NE(mapping, nullptr);
  ASSERT_TRUE(fs_->Truncate(ino, 0).ok());
  EXPECT_TRUE(leases_->ListLayouts().empty());
  EXPECT_EQ(mapping->Persist(mapping->data(), 1).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace mdfs::direct_test
