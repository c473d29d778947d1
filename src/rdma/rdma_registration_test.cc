// RdmaMemoryRegistration over real libibverbs: MAP_DIRECT ranges of an mdfs
// on a memory device (memfd: the kernel registers it), a loopback RC pair
// on the first verbs device. Without a verbs device every test skips and
// says why; the qemu lane (scripts/qemu-lane.sh) runs them over rdma_rxe.
#include "direct/map_direct_engine.h"
#include "lease/leases.h"
#include "mdfs/rdma_registration.h"

#include <sys/mman.h>
#include <sys/utsname.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "rdma/rdma_test_util.h"

namespace mdfs {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class RdmaRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!verbs_.skip().empty()) GTEST_SKIP() << verbs_.skip();
    auto device = CreateMemoryDevice(64 * kMiB);
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    ASSERT_TRUE(FileSystem::Format(device_.get()).ok());
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    auto leases = LeaseManager::Attach(fs_.get(), {.lease_break_time_ms = 5000});
    ASSERT_TRUE(leases.ok()) << leases.status().ToString();
    leases_ = std::move(leases).value();
    auto file = fs_->Create(kRootInode, "f", 0644);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ino_ = file->ino;
  }
  void TearDown() override {
    leases_.reset();
    fs_.reset();
  }

  std::unique_ptr<DirectMapping> Map(uint64_t length, int prot = PROT_READ | PROT_WRITE) {
    auto mapping = MapDirect(fs_.get(), leases_.get(), ino_, 0, length, prot, kMapDirectAllocate);
    EXPECT_TRUE(mapping.ok()) << mapping.status().ToString();
    return mapping.ok() ? std::move(mapping).value() : nullptr;
  }

  rdma_test::Loopback verbs_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<LeaseManager> leases_;
  InodeNumber ino_ = 0;
};

TEST_F(RdmaRegistrationTest, PeerWritesAndReadsTheMappedBlocks) {
  auto mapping = Map(2 * kMiB);
  ASSERT_NE(mapping, nullptr);
  auto reg = RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_TRUE((*reg)->registered());
  for (size_t i = 0; i < 65536; ++i) verbs_.peer_buffer()[i] = static_cast<char>(i * 7 + 3);
  EXPECT_EQ(verbs_.PeerOp(IBV_WR_RDMA_WRITE, (*reg)->address() + 4096, (*reg)->rkey(), 65536),
            IBV_WC_SUCCESS);
  EXPECT_EQ(std::memcmp(mapping->data() + 4096, verbs_.peer_buffer(), 65536), 0);
  ASSERT_TRUE(mapping->Persist(mapping->data() + 4096, 65536).ok());
  // The bytes are the file's: the engine reads them back from the device.
  std::vector<std::byte> back(65536);
  ASSERT_TRUE(fs_->Read(ino_, 4096, back).ok());
  EXPECT_EQ(std::memcmp(back.data(), verbs_.peer_buffer(), 65536), 0);
  std::memset(verbs_.peer_buffer(), 0, 65536);
  EXPECT_EQ(verbs_.PeerOp(IBV_WR_RDMA_READ, (*reg)->address() + 4096, (*reg)->rkey(), 65536),
            IBV_WC_SUCCESS);
  EXPECT_EQ(std::memcmp(mapping->data() + 4096, verbs_.peer_buffer(), 65536), 0);
}

TEST_F(RdmaRegistrationTest, TruncateDeregistersBeforeReturningAndTheOldRkeyFails) {
  auto mapping = Map(2 * kMiB);
  ASSERT_NE(mapping, nullptr);
  std::atomic<bool> torn_down{false};
  RdmaRegistrationOptions options;
  options.on_teardown = [&] { torn_down = true; };
  auto reg = RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a(), options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const uint64_t address = (*reg)->address();
  const uint32_t rkey = (*reg)->rkey();
  ASSERT_EQ(verbs_.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, 4096), IBV_WC_SUCCESS);
  std::thread truncater([&] { EXPECT_TRUE(fs_->Truncate(ino_, 0).ok()); });
  truncater.join();
  EXPECT_TRUE(torn_down);
  EXPECT_TRUE((*reg)->torn_down());
  EXPECT_FALSE((*reg)->registered());
  EXPECT_EQ((*reg)->dereg_errno(), 0);
  EXPECT_TRUE(mapping->torn_down());
  EXPECT_EQ(verbs_.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, 4096), IBV_WC_REM_ACCESS_ERR);
  EXPECT_EQ((*reg)->BeginWork(1).code(), Code::kLeaseRevoked);
}

// A receive posted into the range stays outstanding until a SEND arrives:
// the teardown waits drain_timeout_ms, flushes the QP to the error state,
// and deregisters only after the flushed completion was ended.
TEST_F(RdmaRegistrationTest, OutstandingWorkIsFlushedBeforeDeregistration) {
  auto mapping = Map(2 * kMiB);
  ASSERT_NE(mapping, nullptr);
  RdmaRegistrationOptions options;
  options.queue_pairs = {verbs_.qp_a()};
  options.drain_timeout_ms = 50;
  auto reg = RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a(), options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  ASSERT_TRUE((*reg)->BeginWork(77).ok());
  ibv_sge sge{(*reg)->address(), 4096, (*reg)->lkey()};
  ibv_recv_wr wr{};
  wr.wr_id = 77;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  ASSERT_EQ(ibv_post_recv(verbs_.qp_a(), &wr, &bad), 0);
  std::atomic<int> flushed_status{-1};
  std::thread poller([&] {
    ibv_wc wc{};
    if (rdma_test::Loopback::Poll(verbs_.cq_a(), wc, std::chrono::seconds(20))) {
      flushed_status = wc.status;
      (*reg)->EndWork(wc.wr_id);
    }
  });
  EXPECT_TRUE(fs_->Truncate(ino_, 0).ok());
  poller.join();
  EXPECT_EQ(flushed_status, IBV_WC_WR_FLUSH_ERR);
  EXPECT_EQ((*reg)->outstanding_at_teardown(), 1u);
  EXPECT_EQ((*reg)->queue_pairs_flushed(), 1u);
  EXPECT_TRUE((*reg)->torn_down());
  EXPECT_EQ((*reg)->dereg_errno(), 0);
}

TEST_F(RdmaRegistrationTest, BadRangesAndUnregister) {
  auto mapping = Map(2 * kMiB);
  ASSERT_NE(mapping, nullptr);
  auto outside = RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a(),
                                                  mapping->data() + kMiB, 2 * kMiB);
  EXPECT_EQ(outside.status().code(), Code::kInvalidArgument) << outside.status().ToString();
  auto empty =
      RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a(), mapping->data(), 0);
  EXPECT_EQ(empty.status().code(), Code::kInvalidArgument);
  auto null_pd = RdmaMemoryRegistration::Register(leases_.get(), *mapping, nullptr);
  EXPECT_EQ(null_pd.status().code(), Code::kInvalidArgument);
  auto reg = RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const uint64_t address = (*reg)->address();
  const uint32_t rkey = (*reg)->rkey();
  (*reg)->Unregister();
  (*reg)->Unregister();  // idempotent
  EXPECT_TRUE((*reg)->torn_down());
  EXPECT_FALSE(mapping->torn_down());  // the layout is the mapping's, not ours
  EXPECT_EQ(verbs_.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, 4096), IBV_WC_REM_ACCESS_ERR);
  // A truncate now recalls the mapping only.
  EXPECT_TRUE(fs_->Truncate(ino_, 0).ok());
  EXPECT_TRUE(mapping->torn_down());
  auto late = RdmaMemoryRegistration::Register(leases_.get(), *mapping, verbs_.pd_a());
  EXPECT_EQ(late.status().code(), Code::kLeaseRevoked) << late.status().ToString();
}

TEST_F(RdmaRegistrationTest, ReadOnlyMappingWithWriteAccessIsRefusedByCause) {
  auto writable = Map(2 * kMiB);  // allocate the blocks
  ASSERT_NE(writable, nullptr);
  writable.reset();
  auto mapping = MapDirect(fs_.get(), leases_.get(), ino_, 0, 2 * kMiB, PROT_READ, 0);
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  auto reg = RdmaMemoryRegistration::Register(leases_.get(), **mapping, verbs_.pd_a());
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), Code::kInvalidArgument) << reg.status().ToString();
  EXPECT_NE(reg.status().message().find("not writable"), std::string::npos)
      << reg.status().ToString();
  // Read access only registers from Linux 6.2; before, the kernel pinned
  // it for writing too (FOLL_FORCE), and the refusal says so.
  RdmaRegistrationOptions read_only;
  read_only.access = IBV_ACCESS_REMOTE_READ;
  auto readable =
      RdmaMemoryRegistration::Register(leases_.get(), **mapping, verbs_.pd_a(), read_only);
  utsname host{};
  uname(&host);
  int major = 0, minor = 0;
  std::sscanf(host.release, "%d.%d", &major, &minor);
  if (major > 6 || (major == 6 && minor >= 2)) {
    EXPECT_TRUE(readable.ok()) << readable.status().ToString();
  } else {
    ASSERT_FALSE(readable.ok()) << "Linux " << host.release;
    EXPECT_EQ(readable.status().code(), Code::kNotSupported) << readable.status().ToString();
    EXPECT_NE(readable.status().message().find("before 6.2"), std::string::npos)
        << readable.status().ToString();
  }
}

}  // namespace
}  // namespace mdfs
