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
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
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

std::string Ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f ms", ms);
  return text;
}

// One step of the cycle: its line says how long it took.
class Step {
 public:
  Step() : start_(std::chrono::steady_clock::now()) {}
  void Say(const std::string& line) {
    mdfs::Say("[" + Ms(MillisecondsSince(start_)) + "] " + line);
    start_ = std::chrono::steady_clock::now();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

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
  Step step;
  auto device = OpenFileDevice(path);  // device-dax: the mapped device
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  ASSERT_EQ((*device)->persistence_mode(), PersistenceMode::kCpuCache) << (*device)->Describe();
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto fs = FileSystem::Open(device->get());
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  auto leases = LeaseManager::Attach(fs->get(), {.lease_break_time_ms = 10000});
  ASSERT_TRUE(leases.ok());
  step.Say("mkfs + open mdfs on " + (*device)->Describe() + ", " +
           std::to_string((*device)->size_bytes() >> 20) + " MiB; verbs device " +
           verbs.device_name() + " (soft-RoCE), loopback RC queue pairs A (owner) and B (peer)");
  auto file = (*fs)->Create(kRootInode, "rdma.dat", 0644);
  ASSERT_TRUE(file.ok());
  const InodeNumber ino = file->ino;

  // Times of the recall's steps, in ms after the truncate started.
  std::atomic<double> teardown_ms{-1}, recall_ms{-1};
  std::chrono::steady_clock::time_point truncate_start;
  auto mapping = MapDirect(
      fs->get(), leases->get(), ino, 0, kFileBytes, PROT_READ | PROT_WRITE, kMapDirectAllocate,
      {.on_recall = [&] { recall_ms = MillisecondsSince(truncate_start); }, .on_revoke = {}});
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  const std::vector<ExtentInfo> old_extents = Extents(fs->get(), ino);
  step.Say("MapDirect(kMapDirectAllocate) /rdma.dat [0, 8 MiB): " +
           std::to_string(old_extents.size()) + " extent(s) at device offset " +
           (old_extents.empty() ? "?" : std::to_string(old_extents[0].device_offset)) +
           ", persistence " + PersistenceModeName((*mapping)->persistence_mode()));
  std::atomic<bool> freed_before_teardown{false};
  RdmaRegistrationOptions options;
  options.on_teardown = [&] {
    // After ibv_dereg_mr. Still allocated: the breaker frees only after
    // every teardown returned.
    teardown_ms = MillisecondsSince(truncate_start);
    auto now = (*fs)->GetExtents(ino);
    if (!now.ok() || now->empty()) freed_before_teardown = true;
  };
  auto reg = RdmaMemoryRegistration::Register(leases->get(), **mapping, verbs.pd_a(), options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  step.Say("ibv_reg_mr of the MAP_DIRECT range as a long-term pin on its layout: OK, " +
           (*reg)->Describe());

  const uint64_t address = (*reg)->address();
  const uint32_t rkey = (*reg)->rkey();
  std::memset(verbs.peer_buffer(), kMarker, rdma_test::Loopback::kPeerBufferBytes);
  ASSERT_EQ(verbs.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, kMiB), IBV_WC_SUCCESS);
  step.Say("peer RDMA WRITE 1 MiB into the file: IBV_WC_SUCCESS");
  ASSERT_TRUE((*mapping)->Persist((*mapping)->data(), kMiB).ok());
  ASSERT_TRUE(std::all_of((*mapping)->data(), (*mapping)->data() + kMiB,
                          [](std::byte b) { return b == std::byte(kMarker); }));
  step.Say("Persist 1 MiB (cache-line write-back + fence); the mapping holds the peer's bytes");
  std::memset(verbs.peer_buffer(), 0, kMiB);
  ASSERT_EQ(verbs.PeerOp(IBV_WR_RDMA_READ, address, rkey, kMiB), IBV_WC_SUCCESS);
  ASSERT_EQ(verbs.peer_buffer()[kMiB - 1], kMarker);
  step.Say("peer RDMA READ 1 MiB back: IBV_WC_SUCCESS, bytes match");

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
  step.Say("peer thread keeps RDMA-writing 64 KiB pieces (" + std::to_string(writes_ok.load()) +
           " done so far)");
  truncate_start = std::chrono::steady_clock::now();
  std::thread truncater([&] { EXPECT_TRUE((*fs)->Truncate(ino, 0).ok()); });
  truncater.join();
  const double truncate_ms = MillisecondsSince(truncate_start);
  const uint64_t writes_before = writes_ok;
  peer.join();
  EXPECT_GE(teardown_ms.load(), 0) << "the registrar's TearDown did not run";
  EXPECT_GE(recall_ms.load(), teardown_ms.load())
      << "the holder heard of the recall before the teardown";
  EXPECT_FALSE(freed_before_teardown);
  EXPECT_TRUE((*mapping)->torn_down());
  EXPECT_TRUE((*reg)->torn_down());
  EXPECT_EQ((*reg)->dereg_errno(), 0);
  EXPECT_EQ(first_failure, IBV_WC_REM_ACCESS_ERR);
  step.Say(
      "Truncate(0) from another thread returned after " + Ms(truncate_ms) +
      ": TearDown (stop posting, drain, ibv_dereg_mr = " + std::to_string((*reg)->dereg_errno()) +
      ") done at +" + Ms(teardown_ms) + " with the blocks still allocated (" +
      (freed_before_teardown ? "NO" : "yes") + "), then the holder recalled (on_recall) at +" +
      Ms(recall_ms) +
      ", then the blocks freed; peer writes completed: " + std::to_string(writes_before) +
      ", its next one: " + ibv_wc_status_str(static_cast<ibv_wc_status>(first_failure.load())));
  ASSERT_TRUE(verbs.Reconnect());
  const int late = verbs.PeerOp(IBV_WR_RDMA_WRITE, address, rkey, 4096);
  EXPECT_EQ(late, IBV_WC_REM_ACCESS_ERR);
  step.Say(std::string("peer reconnected; RDMA WRITE with the old rkey: ") +
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
  step.Say("new file /new-owner.dat on the freed blocks (reuses them: " +
           std::string(reuses ? "yes" : "NO") + "): " + std::to_string(markers) +
           " bytes of the peer's pattern in its 8 MiB");
  fresh->reset();
  reg->reset();
  mapping->reset();
  leases->reset();
  fs->reset();
  auto report = CheckFileSystem(device->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty());
  step.Say("fsck: " + std::string(report->problems.empty()
                                      ? "clean"
                                      : std::to_string(report->problems.size()) + " problems"));
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

// mdfs in an image on a file system without DAX (ext4 -o dax=never in the
// lane): the MAP_DIRECT range is page cache of the image file, MAP_SHARED
// and writable. Linux 6.5 and later refuse long-term pins of such memory
// (EFAULT: the file system tracks its dirty pages); earlier kernels pin it.
// Either way the answer is by cause: kNotSupported naming EFAULT, or a
// registration that a truncate tears down like any other.
TEST(RdmaCycle, PageCacheImageIsRefusedWithEfaultFromLinux65) {
  const std::string directory = Env("MDFS_TEST_PAGECACHE_DIR");
  if (directory.empty())
    GTEST_SKIP() << "no page-cache mount: set MDFS_TEST_PAGECACHE_DIR (the qemu lane does)";
  rdma_test::Loopback verbs;
  if (!verbs.skip().empty()) GTEST_SKIP() << verbs.skip();
  const std::string image = directory + "/mdfs-rdma-pagecache.img";
  unlink(image.c_str());
  auto device = OpenMappedDevice(image, {.create = true, .create_size = 64 * kMiB});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  ASSERT_EQ((*device)->persistence_mode(), PersistenceMode::kMsync) << (*device)->Describe();
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
  utsname host{};
  uname(&host);
  int major = 0, minor = 0;
  std::sscanf(host.release, "%d.%d", &major, &minor);
  const bool refuses = major > 6 || (major == 6 && minor >= 5);
  if (refuses) {
    ASSERT_FALSE(reg.ok()) << "Linux " << host.release << " registered page cache";
    EXPECT_EQ(reg.status().code(), Code::kNotSupported) << reg.status().ToString();
    EXPECT_NE(reg.status().message().find("EFAULT"), std::string::npos) << reg.status().ToString();
    Say("registration on mdfs in an image on non-dax ext4 (" + (*device)->Describe() + "), Linux " +
        host.release + ": " + reg.status().ToString());
  } else {
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    EXPECT_TRUE((*fs)->Truncate(file->ino, 0).ok());
    EXPECT_TRUE((*reg)->torn_down());
    Say("registration on mdfs in an image on non-dax ext4 (" + (*device)->Describe() + "), Linux " +
        host.release +
        " (< 6.5 pins page cache): OK, and a truncate tore it down (ibv_dereg_mr = " +
        std::to_string((*reg)->dereg_errno()) + ")");
  }
  if (reg.ok()) reg->reset();
  mapping->reset();
  leases->reset();
  fs->reset();
  device->reset();
  unlink(image.c_str());
}

}  // namespace
}  // namespace mdfs
