// (In mdfs_rdma_test because that is the binary the qemu lane runs.)
// Persistence costs on real persistent memory, measured in the qemu lane's
// guest (scripts/qemu-lane.sh): a 64 B and a 4 KiB durable update through a
// MAP_DIRECT mapping (store + Persist: CLWB/CLFLUSHOPT + SFENCE) against
//   - pwrite + fdatasync of a file on the same ext4 -o dax (fs-dax only:
//     device-dax has no write(2));
//   - PMDK pmem_persist after the same store, on the same mapped bytes.
// Under TCG every instruction is emulated, so the figures are ratios of
// emulated costs, not hardware timings. Lines "PERSIST:" are the report.
// Skips, saying why, without MDFS_TEST_FSDAX_DIR / MDFS_TEST_DEVICE_DAX.
#include <fcntl.h>
#include <libpmem.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "direct/map_direct_engine.h"
#include "gtest/gtest.h"
#include "lease/leases.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"

namespace mdfs {
namespace {

constexpr int kRounds = 2000;
constexpr uint64_t kMiB = 1 << 20;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// Median ns of `op(i)` over kRounds calls.
double MedianNs(const std::function<void(int)>& op) {
  std::vector<double> ns(kRounds);
  for (int i = 0; i < kRounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    op(i);
    ns[i] =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  }
  std::nth_element(ns.begin(), ns.begin() + kRounds / 2, ns.end());
  return ns[kRounds / 2];
}

struct Mdfs {
  std::unique_ptr<Device> device;
  std::unique_ptr<FileSystem> fs;
  std::unique_ptr<LeaseManager> leases;
  std::unique_ptr<DirectMapping> mapping;
};

void OpenMdfs(Result<std::unique_ptr<Device>> device, Mdfs& out) {
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  out.device = std::move(device).value();
  ASSERT_EQ(out.device->persistence_mode(), PersistenceMode::kCpuCache) << out.device->Describe();
  ASSERT_TRUE(FileSystem::Format(out.device.get()).ok());
  auto fs = FileSystem::Open(out.device.get());
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  out.fs = std::move(fs).value();
  auto leases = LeaseManager::Attach(out.fs.get());
  ASSERT_TRUE(leases.ok());
  out.leases = std::move(leases).value();
  auto file = out.fs->Create(kRootInode, "log", 0644);
  ASSERT_TRUE(file.ok());
  auto mapping = MapDirect(out.fs.get(), out.leases.get(), file->ino, 0, 4 * kMiB,
                           PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  out.mapping = std::move(mapping).value();
}

// store + Persist and store + pmem_persist into the mapping, per size.
void MeasureMapping(DirectMapping& m, size_t bytes, double& persist_ns, double& pmem_ns) {
  std::vector<char> record(bytes, 'r');
  const size_t slots = m.size() / 4096;
  persist_ns = MedianNs([&](int i) {
    std::byte* at = m.data() + (i % slots) * 4096;
    std::memcpy(at, record.data(), bytes);
    ASSERT_TRUE(m.Persist(at, bytes).ok());
  });
  pmem_ns = MedianNs([&](int i) {
    std::byte* at = m.data() + (i % slots) * 4096;
    std::memcpy(at, record.data(), bytes);
    pmem_persist(at, bytes);
  });
}

void Report(const std::string& where, size_t bytes, double persist_ns, double pmem_ns,
            double fdatasync_ns) {
  char line[400];
  if (fdatasync_ns > 0) {
    std::snprintf(line, sizeof(line),
                  "PERSIST: %s %4zu B: MAP_DIRECT+Persist %.0f ns, pmem_persist %.0f ns, "
                  "pwrite+fdatasync %.0f ns (TCG medians of %d) -> Persist/pmem_persist %.2fx, "
                  "Persist/fdatasync %.4fx",
                  where.c_str(), bytes, persist_ns, pmem_ns, fdatasync_ns, kRounds,
                  persist_ns / pmem_ns, persist_ns / fdatasync_ns);
  } else {
    std::snprintf(line, sizeof(line),
                  "PERSIST: %s %4zu B: MAP_DIRECT+Persist %.0f ns, pmem_persist %.0f ns "
                  "(TCG medians of %d) -> Persist/pmem_persist %.2fx (no pwrite on device-dax)",
                  where.c_str(), bytes, persist_ns, pmem_ns, kRounds, persist_ns / pmem_ns);
  }
  std::cout << line << std::endl;
}

TEST(LanePersist, FsDaxMapDirectVsFdatasyncVsPmemPersist) {
  const std::string directory = Env("MDFS_TEST_FSDAX_DIR");
  if (directory.empty())
    GTEST_SKIP() << "no fs-dax mount: set MDFS_TEST_FSDAX_DIR (the qemu lane does)";
  const std::string image = directory + "/lane-persist.img";
  const std::string plain = directory + "/lane-persist-plain.dat";
  unlink(image.c_str());
  Mdfs mdfs;
  OpenMdfs(OpenMappedDevice(image, {.create = true, .create_size = 64 * kMiB}), mdfs);
  if (HasFatalFailure()) return;
  const int fd = open(plain.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4 * kMiB), 0);
  ASSERT_EQ(fsync(fd), 0);
  for (size_t bytes : {size_t{64}, size_t{4096}}) {
    double persist_ns = 0, pmem_ns = 0;
    MeasureMapping(*mdfs.mapping, bytes, persist_ns, pmem_ns);
    std::vector<char> record(bytes, 'w');
    const double fdatasync_ns = MedianNs([&](int i) {
      ASSERT_EQ(pwrite(fd, record.data(), bytes, (i % 1024) * 4096), static_cast<ssize_t>(bytes));
      ASSERT_EQ(fdatasync(fd), 0);
    });
    Report("ext4-dax", bytes, persist_ns, pmem_ns, fdatasync_ns);
  }
  close(fd);
  unlink(plain.c_str());
  mdfs = Mdfs{};
  unlink(image.c_str());
}

TEST(LanePersist, DeviceDaxMapDirectVsPmemPersist) {
  const std::string path = Env("MDFS_TEST_DEVICE_DAX");
  if (path.empty()) GTEST_SKIP() << "no device-dax: set MDFS_TEST_DEVICE_DAX (the qemu lane does)";
  Mdfs mdfs;
  OpenMdfs(OpenFileDevice(path), mdfs);
  if (HasFatalFailure()) return;
  EXPECT_EQ(pmem_is_pmem(mdfs.mapping->data(), mdfs.mapping->size()), 1)
      << "libpmem does not see the MAP_DIRECT range of device-dax as persistent memory";
  for (size_t bytes : {size_t{64}, size_t{4096}}) {
    double persist_ns = 0, pmem_ns = 0;
    MeasureMapping(*mdfs.mapping, bytes, persist_ns, pmem_ns);
    Report("device-dax", bytes, persist_ns, pmem_ns, 0);
  }
}

}  // namespace
}  // namespace mdfs
