#include "direct/persist.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace mdfs::direct_internal {
namespace {

constexpr size_t kRegionBytes = 4 << 20;

// A shared mapping of a fresh file in /tmp (msync has real work to do on
// a disk file system), unlinked at once.
class FileMapping {
 public:
  FileMapping() {
    char path[] = "/tmp/mdfs-persist-test-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    unlink(path);
    EXPECT_EQ(ftruncate(fd, kRegionBytes), 0);
    void* base = mmap(nullptr, kRegionBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT_NE(base, MAP_FAILED);
    base_ = static_cast<std::byte*>(base);
    fd_ = fd;
  }
  ~FileMapping() {
    munmap(base_, kRegionBytes);
    close(fd_);
  }
  std::byte* data() const { return base_; }
  int fd() const { return fd_; }

 private:
  std::byte* base_ = nullptr;
  int fd_ = -1;
};

std::vector<std::byte> Bytes(size_t size, uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 7 + seed) % 253 + 1);
  return bytes;
}

class PersistTest : public testing::TestWithParam<PersistenceMode> {
 protected:
  FileMapping mapping_;
};

INSTANTIATE_TEST_SUITE_P(AllModes, PersistTest,
                         testing::Values(PersistenceMode::kCpuCache, PersistenceMode::kMsync,
                                         PersistenceMode::kFdatasync, PersistenceMode::kVolatile),
                         [](const testing::TestParamInfo<PersistenceMode>& info) {
                           std::string name = PersistenceModeName(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST_P(PersistTest, FlushDrainAndPersistSucceedOnAnyAlignment) {
  std::memset(mapping_.data() + 4000, 0x11, 300);  // crosses a page boundary
  EXPECT_TRUE(FlushRange(GetParam(), mapping_.data() + 4000, 300).ok());
  DrainStores();
  EXPECT_TRUE(PersistRange(GetParam(), mapping_.data() + 1, 1).ok());
  EXPECT_TRUE(PersistRange(GetParam(), mapping_.data() + 4096, 0).ok());
  EXPECT_TRUE(PersistRange(GetParam(), mapping_.data(), kRegionBytes).ok());
}

// The persisted bytes are the file's bytes (read back with pread), for
// sizes around both non-temporal thresholds.
TEST_P(PersistTest, CopyPersistCopiesEverySizeAroundTheThreshold) {
  const size_t small = kNonTemporalCopyMinBytes, large = kNonTemporalCopyMinBytesWithoutFlush;
  for (size_t size : {size_t{1}, size_t{63}, small - 1, small, small + 1, size_t{4097}, large - 1,
                      large, large + 1, size_t{1} << 20}) {
    for (size_t misalign : {0, 8, 61}) {
      const auto source = Bytes(size, static_cast<uint8_t>(size + misalign));
      std::byte* destination = mapping_.data() + 8192 + misalign;
      ASSERT_TRUE(CopyPersistRange(GetParam(), destination, source.data(), size).ok());
      std::vector<std::byte> back(size);
      ASSERT_EQ(pread(mapping_.fd(), back.data(), size, 8192 + misalign),
                static_cast<ssize_t>(size));
      ASSERT_EQ(back, source) << "size " << size << " misaligned by " << misalign;
    }
  }
}

TEST(Persist, MsyncOfUnmappedAddressesNamesTheFailure) {
  void* hole = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(hole, MAP_FAILED);
  ASSERT_EQ(munmap(hole, 4096), 0);
  Status status = PersistRange(PersistenceMode::kMsync, hole, 100);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_NE(status.message().find("msync of 100 bytes at 0x"), std::string::npos)
      << status.message();
}

// The measurement behind kNonTemporalCopyMinBytes and
// kNonTemporalCopyMinBytesWithoutFlush: ns per copy + fence of memcpy +
// CLWB, of libpmem's non-temporal copy, and of plain memcpy, into one hot
// destination and streaming through 256 MiB. Run with
// --gtest_also_run_disabled_tests.
void PlainCopy(void* destination, const void* source, size_t length) {
  std::memcpy(destination, source, length);
}

double NsPerCopy(void (*copy)(void*, const void*, size_t), std::byte* region, size_t region_bytes,
                 const std::byte* source, size_t size, bool stream) {
  const size_t stride = std::max<size_t>(size, 4096);
  const size_t slots = region_bytes / stride;
  const size_t iterations = std::max<size_t>(200, (64u << 20) / size);
  double best = 1e30;
  for (int repetition = 0; repetition < 6; ++repetition) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < iterations; ++i) {
      copy(region + (stream ? (i % slots) * stride : 0), source, size);
      DrainStores();
    }
    const std::chrono::duration<double, std::nano> elapsed =
        std::chrono::steady_clock::now() - start;
    if (repetition > 0) best = std::min(best, elapsed.count() / iterations);  // 0 warms up
  }
  return best;
}

TEST(Persist, DISABLED_MeasureCopyThreshold) {
  constexpr size_t kRegion = 256u << 20;
  void* region = mmap(nullptr, kRegion, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  const auto source = Bytes(1 << 20, 3);
  auto* base = static_cast<std::byte*>(region);
  std::printf("%8s %10s %10s %10s %10s %10s %10s   (ns per copy + fence)\n", "bytes", "clwb hot",
              "nt hot", "copy hot", "clwb strm", "nt strm", "copy strm");
  for (size_t size = 64; size <= (size_t{1} << 20); size *= 2) {
    double ns[6];
    int column = 0;
    for (bool stream : {false, true}) {
      for (auto copy : {CopyWithCacheLineWriteBack, CopyNonTemporal, PlainCopy}) {
        ns[column++] = NsPerCopy(copy, base, kRegion, source.data(), size, stream);
      }
    }
    std::printf("%8zu %10.0f %10.0f %10.0f %10.0f %10.0f %10.0f\n", size, ns[0], ns[1], ns[2],
                ns[3], ns[4], ns[5]);
  }
  munmap(region, kRegion);
}

}  // namespace
}  // namespace mdfs::direct_internal
