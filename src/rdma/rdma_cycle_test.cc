// The cycle of issue 10 on real persistent memory (run in the qemu lane's
// guest by scripts/qemu-lane.sh; skips, saying why, elsewhere):
//   mdfs on device-dax (MDFS_TEST_DEVICE_DAX=/dev/dax0.0): MapDirect a file,
//   register the range with the NIC, the peer RDMA-WRITEs and -READs it,
//   persist; a peer thread keeps writing while another thread truncates:
//   the recall deregisters the MR before the blocks are freed; the old rkey
//   then fails with a remote access error; the file that gets the freed
//   blocks holds none of the peer's bytes; fsck is clean.
//   Next to it (MDFS_TEST_FSDAX_DIR=<ext4 -o dax>): the same registration
//   on mdfs in an image on fs-dax fails with kNotSupported naming EOPNOTSUPP.
// Lines starting "RDMA-CYCLE:" are the lane's report.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include "direct/map_direct_engine.h"
#include "gtest/gtest.h"
#include "lease/leases.h"
#include "mdfs/file_system.h"
#include "mdfs/fsck.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "mdfs/rdma_registration.h"
#include "rdma/rdma_test_util.h"

namespace mdfs {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kFileBytes = 8 * kMiB;
constexpr char kMarker = '\xA5';  // every byte the peer writes

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void Say(const std::string& line) { std::cout << "RDMA-CYCLE: " << line << std::endl; }

std::vector<ExtentInfo> Extents(FileSystem* fs, InodeNumber ino) {
  auto extents = fs->GetExtents(ino);
  EXPECT_TRUE(extents.ok()) << extents.status().ToString();
  return extents.ok() ? *extents : std::vector<ExtentInfo>{};
}

bool Overlaps(const std::vector<ExtentInfo>& a, const std::vector<ExtentInfo>& b) {
  for (const ExtentInfo& x : a) {
    for (const ExtentInfo& y : b) {
      if (x.device_offset < y.device_offset + y.length &&
          y.device_offset < x.device_offset + x.length) {
        return true;
      }
    }
  }
  return false;
}

TEST(RdmaCycle, DeviceDaxRegisterWriteReadTruncateRecall) {
  const std::string path = Env("MDFS_TEST_DEVICE_DAX");
  if (path.empty())
    GTEST_SKIP() << "no device-dax: set MDFS_TEST_DEVICE_DAX=/dev/daxN.M (the qemu lane does)";
  rdma_test::Loopback verbs;
  if (!verbs.skip().empty()) GTEST_SKIP() << verbs.skip();
  auto device = OpenFileDevice(path);  // device-dax: the mapped device
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  Say("device " + (*device)->Describe() + ", " + std::to_string((*device)->size_bytes() >> 20) +
      " MiB, verbs device " + verbs.device_name());
  ASSERT_EQ((*device)->persistence_mode(), PersistenceMode::kCpuCache);
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto fs = FileSystem::Open(device->get());
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  auto leases = LeaseManager::Attach(fs->get(), {.lease_break_time_ms = 10000});
  ASSERT_TRUE(leases.ok());
  auto file = (*fs)->Create(kRootInode, "rdma.dat", 0644);
  ASSERT_TRUE(file.ok());
  const InodeNumber ino = file->ino;

  std::atomic<bool> stop{false};
  auto mapping =
      MapDirect(fs->get(), leases->get(), ino, 0, kFileBytes, PROT_READ | PROT_WRITE,
                kMapDirectAllocate, {.on_recall = [&] { stop = true; }, .on_revoke = {}});
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  const std::vector<ExtentInfo> old_extents = Extents(fs->get(), ino);
  Say("MapDirect /rdma.dat [0, 8 MiB): " + std::to_string(old_extents.size()) + " extent(s), " +
      PersistenceModeName((*mapping)->persistence_mode()));
  std::atomic<bool> torn_down{false};
  std::atomic<bool> freed_before_teardown{false};
  RdmaRegistrationOptions options;
  options.on_teardown = [&] {
    // Still allocated: the breaker frees only after every teardown returned.
    auto now = (*fs)->GetExtents(ino);
    if (!now.ok() || now->empty()) freed_before_teardown = true;
    torn_down = true;
  };
  auto reg = RdmaMemoryRegistration::Register(leases->get(), **mapping, verbs.pd_a(), options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  Say("ibv_reg_mr of the MAP_DIRECT range: OK, " + (*reg)->Describe());

  const uint64_t address = (*reg)->address();
  const uint32_t rkey = (*reg)->rkey();
  std::memset(verbs.peer_buffer(), kMarker, rdma_test::Loopback::kPeerBufferBytes);
  ASSERT_EQ(verbs.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, kMiB), IBV_WC_SUCCESS);
  ASSERT_TRUE((*mapping)->Persist((*mapping)->data(), kMiB).ok());
  ASSERT_TRUE(std::all_of((*mapping)->data(), (*mapping)->data() + kMiB,
                          [](std::byte b) { return b == std::byte(kMarker); }));
  std::memset(verbs.peer_buffer(), 0, kMiB);
  ASSERT_EQ(verbs.PeerOp(IBV_WR_RDMA_READ, address, rkey, kMiB), IBV_WC_SUCCESS);
  ASSERT_EQ(verbs.peer_buffer()[kMiB - 1], kMarker);
  Say("peer RDMA WRITE 1 MiB + Persist + RDMA READ 1 MiB: OK (verified through the mapping)");

  // The peer keeps writing while another thread truncates the file to 0.
  std::memset(verbs.peer_buffer(), kMarker, kMiB);
  std::atomic<uint64_t> writes_ok{0};
  std::atomic<int> first_failure{IBV_WC_SUCCESS};
  std::thread peer([&] {
    uint64_t offset = 0;
    while (true) {
      const int status = verbs.PeerOp(IBV_WR_RDMA_WRITE, address + offset, rkey, 65536);
      if (status != IBV_WC_SUCCESS) {
        first_failure = status;
        return;
      }
      ++writes_ok;
      offset = (offset + 65536) % kFileBytes;
    }
  });
  while (writes_ok < 8) std::this_thread::yield();
  const auto truncate_start = std::chrono::steady_clock::now();
  std::thread truncater([&] { EXPECT_TRUE((*fs)->Truncate(ino, 0).ok()); });
  truncater.join();
  const double truncate_ms = MillisecondsSince(truncate_start);
  const uint64_t writes_before = writes_ok;
  peer.join();
  EXPECT_TRUE(torn_down);
  EXPECT_FALSE(freed_before_teardown);
  EXPECT_TRUE((*mapping)->torn_down());
  EXPECT_EQ(first_failure, IBV_WC_REM_ACCESS_ERR);
  Say("truncate to 0 from another thread: recall deregistered the MR before the blocks were "
      "freed (on_teardown saw them allocated: " +
      std::string(freed_before_teardown ? "NO" : "yes") + "); Truncate took " +
      std::to_string(truncate_ms) + " ms; peer writes completed: " + std::to_string(writes_before) +
      ", then " + ibv_wc_status_str(static_cast<ibv_wc_status>(first_failure.load())));
  ASSERT_TRUE(verbs.Reconnect());
  const int late = verbs.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, 4096);
  EXPECT_EQ(late, IBV_WC_REM_ACCESS_ERR);
  Say(std::string("RDMA WRITE to the old rkey after truncate: ") +
      ibv_wc_status_str(static_cast<ibv_wc_status>(late)));

  // The freed blocks' new owner never sees the peer's bytes.
  auto other = (*fs)->Create(kRootInode, "new-owner.dat", 0644);
  ASSERT_TRUE(other.ok());
  auto fresh = MapDirect(fs->get(), leases->get(), other->ino, 0, kFileBytes,
                         PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  const bool reuses = Overlaps(old_extents, Extents(fs->get(), other->ino));
  const auto markers =
      std::count((*fresh)->data(), (*fresh)->data() + kFileBytes, std::byte(kMarker));
  EXPECT_TRUE(reuses) << "the new file did not get the freed blocks: the check proves nothing";
  EXPECT_EQ(markers, 0);
  Say("new file on the freed blocks (reuses them: " + std::string(reuses ? "yes" : "NO") +
      "): " + std::to_string(markers) + " bytes of the peer's pattern in 8 MiB");
  fresh->reset();
  reg->reset();
  mapping->reset();
  leases->reset();
  fs->reset();
  auto report = CheckFileSystem(device->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty());
  Say("fsck: " + std::string(report->problems.empty() ? "clean" : "PROBLEMS"));
}

TEST(RdmaCycle, FsDaxRegistrationFailsWithEopnotsupp) {
  const std::string directory = Env("MDFS_TEST_FSDAX_DIR");
  if (directory.empty())
    GTEST_SKIP() << "no fs-dax mount: set MDFS_TEST_FSDAX_DIR (the qemu lane does)";
  rdma_test::Loopback verbs;
  if (!verbs.skip().empty()) GTEST_SKIP() << verbs.skip();
  const std::string image = directory + "/mdfs-rdma-cycle.img";
  unlink(image.c_str());
  auto device = OpenMappedDevice(image, {.create = true, .create_size = 64 * kMiB});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  ASSERT_EQ((*device)->persistence_mode(), PersistenceMode::kCpuCache) << (*device)->Describe();
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto fs = FileSystem::Open(device->get());
  ASSERT_TRUE(fs.ok());
  auto leases = LeaseManager::Attach(fs->get());
  ASSERT_TRUE(leases.ok());
  auto file = (*fs)->Create(kRootInode, "rdma.dat", 0644);
  ASSERT_TRUE(file.ok());
  auto mapping = MapDirect(fs->get(), leases->get(), file->ino, 0, 4 * kMiB, PROT_READ | PROT_WRITE,
                           kMapDirectAllocate);
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  auto reg = RdmaMemoryRegistration::Register(leases->get(), **mapping, verbs.pd_a());
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), Code::kNotSupported);
  EXPECT_NE(reg.status().message().find("EOPNOTSUPP"), std::string::npos)
      << reg.status().ToString();
  Say("same registration on mdfs in an image on ext4 -o dax (" + (*device)->Describe() +
      "): " + reg.status().ToString());
  // The mapping is untouched by the refusal, and a truncate still works.
  EXPECT_FALSE((*mapping)->torn_down());
  EXPECT_TRUE((*fs)->Truncate(file->ino, 0).ok());
  mapping->reset();
  leases->reset();
  fs->reset();
  device->reset();
  unlink(image.c_str());
}

}  // namespace
}  // namespace mdfs
