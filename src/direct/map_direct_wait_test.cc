// MapDirect while a breaker holds the range (the kWouldBlock → WaitForRange
// → retry loop), and on wrapping devices (CrashDevice, a device that cannot
// be mapped).
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "direct/map_direct_engine.h"
#include "direct/map_direct_test_fixture.h"
#include "gtest/gtest.h"
#include "lease/leases.h"

namespace mdfs::direct_test {
namespace {

// A one-shot event between threads.
class Latch {
 public:
  void Set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    changed_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool set_ = false;
};

class MapDirectWaitTest : public MapDirectTest {
 protected:
  // A 16 KiB file with a mapping of [8192, 12288) whose on_recall blocks
  // until `release_` is set, and a thread punching that block: when this
  // returns, the puncher is a registered breaker on the block, waiting.
  void StartBlockedPunch() {
    ino_ = CreateFile("a", Pattern(16384, 1));
    MapDirectOptions options;
    options.on_recall = [this] {
      recall_entered_.Set();
      release_.Wait();
    };
    holder_ = MapOrDie(ino_, 8192, 4096, PROT_READ | PROT_WRITE, 0, std::move(options));
    ASSERT_NE(holder_, nullptr);
    puncher_ = std::thread([this] {
      EXPECT_TRUE(fs_->Fallocate(ino_, kFallocatePunchHole | kFallocateKeepSize, 8192, 4096).ok());
    });
    recall_entered_.Wait();
  }
  void FinishPunch() {
    release_.Set();
    if (puncher_.joinable()) puncher_.join();
  }
  void TearDown() override {
    FinishPunch();
    holder_.reset();
    MapDirectTest::TearDown();
  }

  InodeNumber ino_ = 0;
  std::unique_ptr<DirectMapping> holder_;
  std::thread puncher_;
  Latch recall_entered_, release_;
};

INSTANTIATE_TEST_SUITE_P(MemoryDevice, MapDirectWaitTest, testing::Values(DeviceKind::kMemory),
                         DeviceKindName);

// The range has no hole yet (the punch waits for the recall), so the
// engine grants at once and the lease manager answers kWouldBlock.
TEST_P(MapDirectWaitTest, NonblockingMapWhileABreakerHoldsTheRangeWouldBlock) {
  StartBlockedPunch();
  {
    BreakScope nonblocking({.nonblocking = true});
    auto mapping = MapDirect(fs_.get(), leases_.get(), ino_, 0, 16384, PROT_READ, 0);
    EXPECT_EQ(mapping.status().code(), Code::kWouldBlock) << mapping.status().ToString();
  }
  // A range the breaker does not hold is mapped at once.
  auto elsewhere = MapOrDie(ino_, 0, 8192, PROT_READ);
  EXPECT_NE(elsewhere, nullptr);
  FinishPunch();
  EXPECT_TRUE(holder_->torn_down());
}

// Blocking: MapDirect waits for the punch, retries, and sees its result —
// a hole (kHole), or with kMapDirectAllocate a fresh zeroed block.
TEST_P(MapDirectWaitTest, BlockingMapWaitsForTheBreakerThenSeesTheNewBlockMap) {
  StartBlockedPunch();
  std::thread releaser([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release_.Set();
  });
  auto refused = MapDirect(fs_.get(), leases_.get(), ino_, 0, 16384, PROT_READ, 0);
  releaser.join();
  FinishPunch();
  EXPECT_EQ(refused.status().code(), Code::kHole) << refused.status().ToString();
  auto mapping = MapOrDie(ino_, 0, 16384, PROT_READ, kMapDirectAllocate);
  ASSERT_NE(mapping, nullptr);
  const std::vector<std::byte> zeros(4096);
  EXPECT_EQ(std::memcmp(mapping->data() + 8192, zeros.data(), 4096), 0);
  EXPECT_EQ(std::memcmp(mapping->data() + 12288, Pattern(16384, 1).data() + 12288, 4096), 0);
}

// A device that cannot be mapped: everything but MapAt passes through.
class UnmappableDevice : public Device {
 public:
  explicit UnmappableDevice(Device* base) : base_(base) {}
  uint64_t size_bytes() const override { return base_->size_bytes(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return base_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    return base_->Write(offset, data);
  }
  Status Flush() override { return base_->Flush(); }
  PersistenceMode persistence_mode() const override { return base_->persistence_mode(); }
  std::string Describe() const override { return "unmappable test device"; }

 private:
  Device* base_;
};

// A file system and lease manager on `device` (which the caller owns).
struct FileSystemOn {
  explicit FileSystemOn(Device* device) {
    EXPECT_TRUE(FileSystem::Format(device).ok());
    auto opened = FileSystem::Open(device);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return;
    fs = std::move(opened).value();
    auto attached = LeaseManager::Attach(fs.get());
    EXPECT_TRUE(attached.ok());
    if (attached.ok()) leases = std::move(attached).value();
  }
  ~FileSystemOn() {
    leases.reset();
    fs.reset();
  }
  InodeNumber CreateFile(const std::vector<std::byte>& bytes) {
    auto file = fs->Create(kRootInode, "f", S_IFREG | 0644);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return 0;
    if (!bytes.empty()) {
      EXPECT_TRUE(fs->Write(file->ino, 0, bytes).ok());
    }
    return file->ino;
  }
  std::unique_ptr<FileSystem> fs;
  std::unique_ptr<LeaseManager> leases;
};

TEST(MapDirectDevices, UnmappableDeviceIsNotSupportedNamingIt) {
  auto memory = CreateMemoryDevice(kDeviceBytes);
  ASSERT_TRUE(memory.ok());
  UnmappableDevice device(memory->get());
  FileSystemOn on(&device);
  ASSERT_NE(on.fs, nullptr);
  const InodeNumber ino = on.CreateFile(Pattern(8192, 1));
  auto mapping = MapDirect(on.fs.get(), on.leases.get(), ino, 0, 8192, PROT_READ, 0);
  EXPECT_EQ(mapping.status().code(), Code::kNotSupported);
  EXPECT_NE(mapping.status().message().find("unmappable test device cannot be mapped"),
            std::string::npos)
      << mapping.status().message();
  EXPECT_TRUE(on.leases->ListLayouts().empty());
}

// PrepareDirectAccess flushes what it wrote before the grant, so the
// CrashDevice holds no write over the mapped blocks; stores through the
// mapping go straight to the base device and survive a crash.
TEST(MapDirectDevices, CrashDeviceMapsAndStoresSurviveACrash) {
  auto memory = CreateMemoryDevice(kDeviceBytes);
  ASSERT_TRUE(memory.ok());
  CrashDevice device(memory->get());
  std::vector<ExtentInfo> extents;
  {
    FileSystemOn on(&device);
    ASSERT_NE(on.fs, nullptr);
    auto file = on.fs->Create(kRootInode, "f", S_IFREG | 0644);
    ASSERT_TRUE(file.ok());
    auto mapping = MapDirect(on.fs.get(), on.leases.get(), file->ino, 0, 8192,
                             PROT_READ | PROT_WRITE, kMapDirectAllocate);
    ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
    std::memset((*mapping)->data(), 0x6d, 8192);
    ASSERT_TRUE((*mapping)->Persist((*mapping)->data(), 8192).ok());
    extents = *on.fs->GetExtents(file->ino);
    device.Crash({.seed = 7, .keep_probability = 0, .drop_probability = 1});
  }
  device.Reset();
  auto reopened = FileSystem::Open(&device);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto found = (*reopened)->LookupPath("/f");
  ASSERT_TRUE(found.ok()) << "the allocation was durable before MapDirect returned";
  EXPECT_EQ(found->size, 8192u);
  std::vector<std::byte> back(8192);
  ASSERT_TRUE((*reopened)->Read(found->ino, 0, back).ok());
  EXPECT_EQ(back, std::vector<std::byte>(8192, std::byte{0x6d}));
}

}  // namespace
}  // namespace mdfs::direct_test
