// UringBufferRegistration: real io_uring fixed-buffer I/O on MAP_DIRECT
// ranges of a memory device, torn down by breakers before they free blocks.
#include "direct/map_direct_engine.h"
#include "lease/leases.h"
#include "mdfs/uring_registration.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "device/device_test_util.h"
#include "gtest/gtest.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"

namespace mdfs {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

using device_test::Pattern;

// An io_uring instance, closed on destruction.
class Ring {
 public:
  explicit Ring(unsigned flags = 0) {
    io_uring_params params{};
    params.flags = flags;
    status_ = io_uring_queue_init_params(8, &ring_, &params);
  }
  ~Ring() {
    if (status_ == 0) io_uring_queue_exit(&ring_);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  int status() const { return status_; }
  io_uring* get() { return &ring_; }

  // Submits one fixed-buffer read or write and returns its CQE result.
  int FixedIo(bool read, int fd, void* buffer, unsigned length, uint64_t offset, int index,
              uint64_t user_data = 1) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (read) {
      io_uring_prep_read_fixed(sqe, fd, buffer, length, offset, index);
    } else {
      io_uring_prep_write_fixed(sqe, fd, buffer, length, offset, index);
    }
    sqe->user_data = user_data;
    int submitted = io_uring_submit(&ring_);
    if (submitted != 1) return submitted < 0 ? submitted : -EIO;
    return Reap(nullptr);
  }
  int Reap(uint64_t* user_data) {
    io_uring_cqe* cqe = nullptr;
    int waited = io_uring_wait_cqe(&ring_, &cqe);
    if (waited < 0) return waited;
    int result = cqe->res;
    if (user_data != nullptr) *user_data = cqe->user_data;
    io_uring_cqe_seen(&ring_, cqe);
    return result;
  }

 private:
  io_uring ring_{};
  int status_ = -1;
};

// An unlinked regular file in /tmp: the "regular fd" end of the transfers.
class ScratchFile {
 public:
  ScratchFile() {
    fd_ = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    if (fd_ < 0) {
      char path[] = "/tmp/mdfs-uring-test-XXXXXX";
      fd_ = mkstemp(path);
      if (fd_ >= 0) unlink(path);
    }
  }
  ~ScratchFile() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

std::vector<ExtentInfo> ExtentsOrDie(FileSystem* fs, InodeNumber ino, uint64_t offset,
                                     uint64_t length) {
  auto extents = fs->GetExtents(ino, offset, length);
  EXPECT_TRUE(extents.ok()) << extents.status().ToString();
  return extents.ok() ? *extents : std::vector<ExtentInfo>{};
}

// True when every block of `recorded` (extents of the file) is still mapped
// to the same device bytes in `now`.
bool StillMapped(const std::vector<ExtentInfo>& recorded, const std::vector<ExtentInfo>& now) {
  for (const ExtentInfo& old_extent : recorded) {
    for (uint64_t at = 0; at < old_extent.length; at += kBlockSize) {
      const uint64_t file_offset = old_extent.file_offset + at;
      bool found = false;
      for (const ExtentInfo& e : now) {
        if (file_offset >= e.file_offset && file_offset < e.file_offset + e.length) {
          found = e.device_offset + (file_offset - e.file_offset) == old_extent.device_offset + at;
          break;
        }
      }
      if (!found) return false;
    }
  }
  return true;
}

class UringRegistrationTest : public testing::Test {
 protected:
  void SetUp() override { Start(CreateMemoryDevice(64 * kMiB)); }

  void Start(Result<std::unique_ptr<Device>> device) {
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    ASSERT_TRUE(FileSystem::Format(device_.get()).ok());
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    auto leases = LeaseManager::Attach(fs_.get());
    ASSERT_TRUE(leases.ok()) << leases.status().ToString();
    leases_ = std::move(leases).value();
  }

  void TearDown() override {
    leases_.reset();
    fs_.reset();
  }

  InodeNumber CreateFile(const std::string& name, uint64_t size, uint8_t seed = 1) {
    auto file = fs_->Create(kRootInode, name, S_IFREG | 0644);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return 0;
    if (size > 0) {
      auto written = fs_->Write(file->ino, 0, Pattern(size, seed));
      EXPECT_TRUE(written.ok()) << written.status().ToString();
    }
    return file->ino;
  }

  std::unique_ptr<DirectMapping> Map(InodeNumber ino, uint64_t offset, uint64_t length,
                                     MapDirectOptions options = {},
                                     int prot = PROT_READ | PROT_WRITE) {
    auto mapping = MapDirect(fs_.get(), leases_.get(), ino, offset, length, prot, 0,
                             std::move(options));
    EXPECT_TRUE(mapping.ok()) << mapping.status().ToString();
    return mapping.ok() ? std::move(mapping).value() : nullptr;
  }

  uint32_t LongTermPinsOf(LayoutId id) {
    for (const LayoutInfo& info : leases_->ListLayouts()) {
      if (info.id == id) return info.long_term_pins;
    }
    return 0;
  }

  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<LeaseManager> leases_;
};

TEST_F(UringRegistrationTest, ReadFixedAndWriteFixedMoveBytesBetweenAFileAndTheMapping) {
  const InodeNumber ino = CreateFile("a", 1 * kMiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  Ring ring;
  ASSERT_EQ(ring.status(), 0);
  iovec iovecs[2] = {{mapping->data(), 64 * kKiB}, {mapping->data() + 128 * kKiB, 64 * kKiB}};
  auto registration =
      UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), iovecs);
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  UringBufferRegistration& reg = **registration;
  EXPECT_TRUE(reg.registered());
  EXPECT_EQ(reg.layout(), mapping->layout());
  EXPECT_EQ(LongTermPinsOf(mapping->layout()), 1u);
  EXPECT_EQ(reg.file_offset_of(1), 128 * kKiB);
  EXPECT_NE(reg.Describe().find("2 iovecs"), std::string::npos) << reg.Describe();

  ScratchFile scratch;
  ASSERT_GE(scratch.fd(), 0);
  const std::vector<std::byte> incoming = Pattern(64 * kKiB, 9);
  ASSERT_EQ(pwrite(scratch.fd(), incoming.data(), incoming.size(), 0),
            static_cast<ssize_t>(incoming.size()));

  // READ_FIXED: the regular file's bytes land in the file's own blocks.
  ASSERT_TRUE(reg.BeginFixedIo(1).ok());
  EXPECT_EQ(ring.FixedIo(true, scratch.fd(), mapping->data(), 64 * kKiB, 0, 0, 1),
            static_cast<int>(64 * kKiB));
  reg.EndFixedIo(1);
  EXPECT_EQ(std::memcmp(mapping->data(), incoming.data(), incoming.size()), 0);
  std::vector<std::byte> through_fs(64 * kKiB);
  ASSERT_TRUE(fs_->Read(ino, 0, through_fs).ok());
  EXPECT_EQ(through_fs, incoming) << "the engine reads the same device blocks";

  // WRITE_FIXED: the blocks' bytes go out to the regular file.
  ASSERT_TRUE(reg.BeginFixedIo(2).ok());
  EXPECT_EQ(ring.FixedIo(false, scratch.fd(), mapping->data() + 128 * kKiB, 64 * kKiB,
                         64 * kKiB, 1, 2),
            static_cast<int>(64 * kKiB));
  reg.EndFixedIo(2);
  std::vector<std::byte> outgoing(64 * kKiB);
  ASSERT_EQ(pread(scratch.fd(), outgoing.data(), outgoing.size(), 64 * kKiB),
            static_cast<ssize_t>(outgoing.size()));
  const std::vector<std::byte> original = Pattern(1 * kMiB, 1);
  EXPECT_TRUE(std::equal(outgoing.begin(), outgoing.end(), original.begin() + 128 * kKiB));
}

TEST_F(UringRegistrationTest, TruncateTearsTheRegistrationDownBeforeTheBlocksAreFreed) {
  const InodeNumber ino = CreateFile("a", 1 * kMiB);
  std::vector<std::string> order;  // written on the breaker's thread, read after join
  auto mapping = Map(ino, 0, 256 * kKiB, {.on_recall = [&] { order.push_back("on_recall"); }, .on_revoke = {}});
  ASSERT_NE(mapping, nullptr);
  const std::vector<ExtentInfo> recorded = ExtentsOrDie(fs_.get(), ino, 0, 256 * kKiB);
  ASSERT_FALSE(recorded.empty());

  Ring ring;
  ASSERT_EQ(ring.status(), 0);
  iovec iov{mapping->data(), 256 * kKiB};
  std::atomic<bool> still_mapped_at_teardown{false};
  std::atomic<bool> registered_in_hook{true};
  std::thread::id teardown_thread;
  UringBufferRegistration* self = nullptr;
  UringRegistrationOptions options;
  options.on_teardown = [&] {
    order.push_back("teardown");
    teardown_thread = std::this_thread::get_id();
    registered_in_hook = self->registered();
    // No lock of the engine is held here: the breaker waits outside it, so
    // reading the block map from the callback is allowed (and it must
    // still show the registered blocks, since nothing was freed yet).
    auto now = fs_->GetExtents(ino);
    still_mapped_at_teardown = now.ok() && StillMapped(recorded, *now);
  };
  auto registration = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(),
                                                        {&iov, 1}, std::move(options));
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  UringBufferRegistration& reg = **registration;
  self = &reg;

  ScratchFile scratch;
  const std::vector<std::byte> incoming = Pattern(16 * kKiB, 5);
  ASSERT_EQ(pwrite(scratch.fd(), incoming.data(), incoming.size(), 0),
            static_cast<ssize_t>(incoming.size()));
  ASSERT_TRUE(reg.BeginFixedIo(1).ok());
  ASSERT_EQ(ring.FixedIo(true, scratch.fd(), mapping->data(), 16 * kKiB, 0, 0),
            static_cast<int>(16 * kKiB));
  reg.EndFixedIo(1);

  std::thread breaker([&] { EXPECT_TRUE(fs_->Truncate(ino, 0).ok()); });
  const std::thread::id breaker_id = breaker.get_id();
  breaker.join();

  EXPECT_TRUE(still_mapped_at_teardown) << "TearDown ran after the blocks were freed";
  EXPECT_FALSE(registered_in_hook);
  EXPECT_EQ(teardown_thread, breaker_id) << "the breaker tears the registration down";
  EXPECT_EQ(order, (std::vector<std::string>{"teardown", "on_recall"}));
  EXPECT_FALSE(reg.registered());
  EXPECT_TRUE(reg.torn_down());
  EXPECT_EQ(reg.unregister_errno(), 0);
  EXPECT_TRUE(mapping->torn_down());
  EXPECT_TRUE(ExtentsOrDie(fs_.get(), ino, 0, UINT64_MAX).empty());

  // The registration is gone: counted I/O is refused, and the kernel
  // refuses fixed-buffer I/O on the old index.
  Status refused = reg.BeginFixedIo(2);
  EXPECT_EQ(refused.code(), Code::kLeaseRevoked) << refused.ToString();
  std::vector<std::byte> bounce(16 * kKiB);
  EXPECT_EQ(ring.FixedIo(true, scratch.fd(), bounce.data(), 16 * kKiB, 0, 0), -EFAULT);
  EXPECT_EQ(ring.FixedIo(false, scratch.fd(), bounce.data(), 16 * kKiB, 0, 0), -EFAULT);
}

// A fixed-buffer read that would block (a pipe with no writer activity) is
// in flight when the file is truncated: TearDown cancels it and waits for
// its completion to be reaped before the breaker may free the blocks. (On
// Linux >= 6.13, io_uring_unregister_buffers alone does not wait: the read
// would complete into the freed blocks later.)
TEST_F(UringRegistrationTest, AnInFlightFixedReadIsCancelledBeforeTheBreakerProceeds) {
  const InodeNumber ino = CreateFile("a", 256 * kKiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  const std::vector<ExtentInfo> recorded = ExtentsOrDie(fs_.get(), ino, 0, 256 * kKiB);
  Ring ring;
  ASSERT_EQ(ring.status(), 0);
  iovec iov{mapping->data(), 256 * kKiB};
  auto registration =
      UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {&iov, 1});
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  UringBufferRegistration& reg = **registration;

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  ASSERT_TRUE(reg.BeginFixedIo(77).ok());
  io_uring_sqe* sqe = io_uring_get_sqe(ring.get());
  io_uring_prep_read_fixed(sqe, pipe_fds[0], mapping->data(), 4096, 0, 0);
  sqe->user_data = 77;
  ASSERT_EQ(io_uring_submit(ring.get()), 1);

  std::atomic<int> sequence{0};
  std::atomic<int> reaped_at{0}, truncated_at{0};
  std::atomic<int> result{0};
  std::thread reaper([&] {
    uint64_t user_data = 0;
    result = ring.Reap(&user_data);
    EXPECT_EQ(user_data, 77u);
    reaped_at = ++sequence;
    reg.EndFixedIo(77);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the read is parked
  std::thread breaker([&] {
    EXPECT_TRUE(fs_->Truncate(ino, 0).ok());
    truncated_at = ++sequence;
  });
  breaker.join();
  reaper.join();
  EXPECT_EQ(result, -ECANCELED);
  EXPECT_LT(reaped_at, truncated_at) << "the truncate finished before the read was reaped";
  EXPECT_EQ(reg.cancelled_at_teardown(), 1u);
  EXPECT_EQ(reg.waited_at_teardown(), 1u);

  // Bytes written to the pipe now reach nobody's blocks.
  ASSERT_EQ(write(pipe_fds[1], "HELLO", 5), 5);
  std::vector<std::byte> old_block(4096);
  ASSERT_TRUE(device_->Read(recorded.front().device_offset, old_block).ok());
  EXPECT_NE(std::memcmp(old_block.data(), "HELLO", 5), 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_F(UringRegistrationTest, PunchAndCollapseRecallOnlyOverlappingRegistrations) {
  const InodeNumber ino = CreateFile("a", 2 * kMiB);
  auto low = Map(ino, 0, 256 * kKiB);
  auto high = Map(ino, 1 * kMiB, 256 * kKiB);
  ASSERT_NE(low, nullptr);
  ASSERT_NE(high, nullptr);
  Ring ring_low, ring_high;
  iovec iov_low{low->data(), 256 * kKiB}, iov_high{high->data(), 256 * kKiB};
  auto reg_low = UringBufferRegistration::Register(leases_.get(), *low, ring_low.get(),
                                                   {&iov_low, 1});
  auto reg_high = UringBufferRegistration::Register(leases_.get(), *high, ring_high.get(),
                                                    {&iov_high, 1});
  ASSERT_TRUE(reg_low.ok()) << reg_low.status().ToString();
  ASSERT_TRUE(reg_high.ok()) << reg_high.status().ToString();

  ASSERT_TRUE(fs_->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, 1 * kMiB + 4096,
                             4096)
                  .ok());
  EXPECT_TRUE((*reg_low)->registered()) << "a punch elsewhere left it alone";
  EXPECT_FALSE((*reg_high)->registered());

  // A collapse shifts everything after it: the low range is below it.
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocateCollapseRange, 512 * kKiB, 64 * kKiB).ok());
  EXPECT_TRUE((*reg_low)->registered());
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocateCollapseRange, 128 * kKiB, 64 * kKiB).ok());
  EXPECT_FALSE((*reg_low)->registered());
}

TEST_F(UringRegistrationTest, UnregisterAndDestructionRemoveTheLongTermPin) {
  const InodeNumber ino = CreateFile("a", 1 * kMiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  Ring ring;
  iovec iov{mapping->data(), 4096};
  int teardowns = 0;
  UringRegistrationOptions options;
  options.on_teardown = [&] { ++teardowns; };
  {
    auto registration = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(),
                                                          {&iov, 1}, options);
    ASSERT_TRUE(registration.ok()) << registration.status().ToString();
    EXPECT_EQ(LongTermPinsOf(mapping->layout()), 1u);
    (*registration)->Unregister();
    EXPECT_FALSE((*registration)->registered());
    EXPECT_EQ(LongTermPinsOf(mapping->layout()), 0u);
    (*registration)->Unregister();  // idempotent
    (*registration)->TearDown();    // at most once
  }
  EXPECT_EQ(teardowns, 1);
  {
    // The ring can take a new table once the old one is gone.
    auto registration = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(),
                                                          {&iov, 1}, options);
    ASSERT_TRUE(registration.ok()) << registration.status().ToString();
    EXPECT_EQ(LongTermPinsOf(mapping->layout()), 1u);
  }  // destroyed without Unregister
  EXPECT_EQ(teardowns, 2);
  EXPECT_EQ(LongTermPinsOf(mapping->layout()), 0u);
  EXPECT_FALSE(mapping->torn_down()) << "the mapping keeps its layout";
}

TEST_F(UringRegistrationTest, UnmappingTheMappingTearsTheRegistrationDown) {
  const InodeNumber ino = CreateFile("a", 1 * kMiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  Ring ring;
  iovec iov{mapping->data(), 8192};
  auto registration =
      UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {&iov, 1});
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  mapping->Unmap();  // releases the layout: its long-term pins go first
  EXPECT_FALSE((*registration)->registered());
  EXPECT_TRUE((*registration)->torn_down());
  registration->reset();
}

TEST_F(UringRegistrationTest, RefusesBadArgumentsRingsAndRecalledMappings) {
  const InodeNumber ino = CreateFile("a", 1 * kMiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  Ring ring;
  iovec outside{mapping->data() + 252 * kKiB, 8192};
  auto refused = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(),
                                                   {&outside, 1});
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not inside the mapping"), std::string::npos)
      << refused.status().ToString();
  refused = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {});
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LongTermPinsOf(mapping->layout()), 0u);

  Ring single_issuer(IORING_SETUP_SINGLE_ISSUER);
  if (single_issuer.status() == 0) {
    iovec iov{mapping->data(), 4096};
    refused = UringBufferRegistration::Register(leases_.get(), *mapping, single_issuer.get(),
                                                {&iov, 1});
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("SINGLE_ISSUER"), std::string::npos);
  }

  iovec iov{mapping->data(), 4096};
  auto first = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {&iov, 1});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {&iov, 1});
  EXPECT_EQ(second.status().code(), Code::kExists) << second.status().ToString();
  EXPECT_EQ(LongTermPinsOf(mapping->layout()), 1u) << "the refused one left no pin";
  EXPECT_TRUE((*first)->registered());

  auto read_only = Map(ino, 512 * kKiB, 64 * kKiB, {}, PROT_READ);
  ASSERT_NE(read_only, nullptr);
  Ring other;
  iovec ro{read_only->data(), 4096};
  refused = UringBufferRegistration::Register(leases_.get(), *read_only, other.get(), {&ro, 1});
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("PROT_WRITE"), std::string::npos);

  ASSERT_TRUE(fs_->Truncate(ino, 0).ok());
  ASSERT_TRUE(mapping->torn_down());
  Ring third;
  refused = UringBufferRegistration::Register(leases_.get(), *mapping, third.get(), {&iov, 1});
  EXPECT_EQ(refused.status().code(), Code::kLeaseRevoked) << refused.status().ToString();
}

// A sealed file's mapping has no layout: registering is allowed (the block
// map cannot change), and the registration keeps the file sealed by itself.
TEST_F(UringRegistrationTest, ASealedFileRegistersWithoutALayoutAndHoldsOffUnseal) {
  const InodeNumber ino = CreateFile("sealed", 256 * kKiB, 3);
  ASSERT_TRUE(fs_->Seal(ino).ok());
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  ASSERT_EQ(mapping->layout(), 0u);
  Ring ring;
  iovec iov{mapping->data(), 64 * kKiB};
  auto registration =
      UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {&iov, 1});
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  UringBufferRegistration& reg = **registration;
  EXPECT_EQ(reg.layout(), 0u);
  EXPECT_TRUE(reg.registered());

  ScratchFile scratch;
  ASSERT_TRUE(reg.BeginFixedIo(1).ok());
  EXPECT_EQ(ring.FixedIo(false, scratch.fd(), mapping->data(), 4096, 0, 0), 4096);
  reg.EndFixedIo(1);

  mapping.reset();  // the mapping goes; the kernel still pins the blocks
  EXPECT_EQ(fs_->Unseal(ino).code(), Code::kTextFileBusy);
  EXPECT_EQ(fs_->Truncate(ino, 0).code(), Code::kTextFileBusy);
  EXPECT_TRUE(reg.registered());
  reg.Unregister();
  EXPECT_FALSE(reg.registered());
  EXPECT_TRUE(fs_->Unseal(ino).ok());
  EXPECT_TRUE(fs_->Truncate(ino, 0).ok());
}

// Unregister (or destruction) racing with the recall that claims the same
// teardown: neither side may use the registration after it is gone, and
// the teardown runs exactly once.
TEST_F(UringRegistrationTest, DestructionRacingWithARecallIsSafe) {
  const InodeNumber ino = CreateFile("a", 256 * kKiB);
  for (int round = 0; round < 100; ++round) {
    ASSERT_TRUE(fs_->Write(ino, 0, Pattern(4096, 2)).ok());  // fills last round's hole
    auto mapping = Map(ino, 0, 256 * kKiB);
    ASSERT_NE(mapping, nullptr);
    Ring ring;
    iovec iov{mapping->data(), 64 * kKiB};
    std::atomic<int> teardowns{0};
    UringRegistrationOptions options;
    options.on_teardown = [&] { teardowns.fetch_add(1); };
    auto registration = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(),
                                                          {&iov, 1}, options);
    ASSERT_TRUE(registration.ok()) << registration.status().ToString();
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    std::thread breaker([&] {
      start.wait();
      EXPECT_TRUE(fs_->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, 0, 4096).ok());
    });
    std::thread destroyer([&] {
      start.wait();
      if (round % 2 == 0) std::this_thread::yield();
      registration->reset();
    });
    go.set_value();
    breaker.join();
    destroyer.join();
    EXPECT_EQ(teardowns.load(), 1) << "round " << round;
    EXPECT_TRUE(mapping->torn_down());
  }
}

// On a device file on ext4 (or xfs, ...) the kernel refuses long-term pins
// of the MAP_SHARED file pages: the error must say so.
TEST_F(UringRegistrationTest, AFileDeviceOnADiskFileSystemGivesAClearEfaultError) {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string directory = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  if (device_test::IsOnRamFileSystem(directory)) {
    GTEST_SKIP() << directory << " is tmpfs: file pages there register fine";
  }
  device_test::TempFile image(64 * kMiB, directory);
  leases_.reset();
  fs_.reset();
  Start(OpenFileDevice(image.path()));
  const InodeNumber ino = CreateFile("a", 256 * kKiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  Ring ring;
  iovec iov{mapping->data(), 64 * kKiB};
  auto refused =
      UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(), {&iov, 1});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kNotSupported);
  EXPECT_NE(refused.status().message().find(
                "the kernel refuses to register file-backed MAP_SHARED memory of this device "
                "(EFAULT); use a memory or tmpfs-backed device"),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(LongTermPinsOf(mapping->layout()), 0u) << "the refusal left no pin";
  mapping.reset();
}

// Found while writing the registrar, fixed in a7ff40f: LeaseManagerImpl::
// Release (and ReleaseHolder, and the revocation in RevokeExpiredOrSelf)
// erased the layout under its mutex and only then ran the long-term pins'
// TearDown outside it, so a breaker on another thread overlapping the layout
// saw no conflict and freed the blocks while TearDown was still running —
// while, per LongTermRegistrar's contract, the device may still reach them.
TEST_F(UringRegistrationTest, ABreakerWaitsForTheTeardownOfAReleasedLayout) {
  const InodeNumber ino = CreateFile("a", 256 * kKiB);
  auto mapping = Map(ino, 0, 256 * kKiB);
  ASSERT_NE(mapping, nullptr);
  Ring ring;
  iovec iov{mapping->data(), 64 * kKiB};
  std::promise<void> entered;
  std::atomic<bool> teardown_finished{false};
  UringRegistrationOptions options;
  options.on_teardown = [&] {
    entered.set_value();
    // A slow deregistration (an RDMA NIC can take milliseconds).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    teardown_finished = true;
  };
  auto registration = UringBufferRegistration::Register(leases_.get(), *mapping, ring.get(),
                                                        {&iov, 1}, options);
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  std::thread unmapper([&] { mapping->Unmap(); });  // Release -> TearDown (slow)
  entered.get_future().wait();
  ASSERT_TRUE(fs_->Truncate(ino, 0).ok());
  EXPECT_TRUE(teardown_finished) << "the truncate freed the blocks while TearDown was running";
  unmapper.join();
}

}  // namespace
}  // namespace mdfs
