// Device::MapAt on every device: coherence with Read/Write in both
// directions, protection, argument checks, and the wrapping devices.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "device/device_test_util.h"
#include "device/mapped_device.h"
#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_test::Pattern;
using device_test::ReadRange;
using device_test::TempFile;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kDeviceBytes = 64 * kPage;

// An inaccessible address range to map into; unmapped on destruction.
class Reservation {
 public:
  explicit Reservation(size_t bytes) : bytes_(bytes) {
    void* base =
        mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    EXPECT_NE(base, MAP_FAILED);
    base_ = static_cast<std::byte*>(base == MAP_FAILED ? nullptr : base);
  }
  ~Reservation() {
    if (base_ != nullptr) munmap(base_, bytes_);
  }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;

  std::byte* at(uint64_t offset) const { return base_ + offset; }

 private:
  std::byte* base_ = nullptr;
  size_t bytes_;
};

// Runs `touch` in a forked child; returns the signal that killed it, or 0
// if it exited. The child restores the default SIGSEGV/SIGBUS actions so a
// sanitizer's handler cannot turn the fault into an exit code.
int SignalThatKillsChild(const std::function<void()>& touch) {
  const pid_t child = fork();
  if (child == 0) {
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    touch();
    _exit(0);
  }
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

enum class Kind { kMemory, kFile, kMapped };

std::string KindName(const testing::TestParamInfo<Kind>& info) {
  switch (info.param) {
    case Kind::kMemory:
      return "Memory";
    case Kind::kFile:
      return "File";
    case Kind::kMapped:
      return "Mapped";
  }
  return "Unknown";
}

class MapAtTest : public testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    auto device = Open(GetParam(), {});
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
  }

  Result<std::unique_ptr<Device>> Open(Kind kind, const FileDeviceOptions& options) {
    switch (kind) {
      case Kind::kMemory:
        return CreateMemoryDevice(kDeviceBytes);
      case Kind::kFile:
        return OpenFileDevice(file_.path(), options);
      case Kind::kMapped:
        return OpenMappedDevice(file_.path(), options);
    }
    return NotSupported("unknown kind");
  }

  TempFile file_{kDeviceBytes};
  std::unique_ptr<Device> device_;
  Reservation reservation_{kDeviceBytes};
};

INSTANTIATE_TEST_SUITE_P(AllDevices, MapAtTest,
                         testing::Values(Kind::kMemory, Kind::kFile, Kind::kMapped), KindName);

TEST_P(MapAtTest, DeviceWritesAreSeenThroughTheMapping) {
  const auto data = Pattern(2 * kPage, 5);
  ASSERT_TRUE(device_->Write(8 * kPage, data).ok());
  Status status = device_->MapAt(reservation_.at(0), 8 * kPage, 2 * kPage, false);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(std::memcmp(reservation_.at(0), data.data(), data.size()), 0);
  // And writes after the mapping was made, too (one shared page cache).
  const auto later = Pattern(100, 6);
  ASSERT_TRUE(device_->Write(9 * kPage + 7, later).ok());
  EXPECT_EQ(std::memcmp(reservation_.at(kPage + 7), later.data(), later.size()), 0);
}

TEST_P(MapAtTest, StoresThroughTheMappingAreReadByTheDevice) {
  Status status = device_->MapAt(reservation_.at(0), 3 * kPage, kPage, true);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const auto data = Pattern(1000, 9);
  std::memcpy(reservation_.at(50), data.data(), data.size());
  EXPECT_EQ(ReadRange(*device_, 3 * kPage + 50, data.size()), data);
}

// Extents placed side by side in the address space in another order than
// on the device: each address shows its own device bytes.
TEST_P(MapAtTest, StitchesPiecesInAnyOrder) {
  const auto first = Pattern(kPage, 1), second = Pattern(kPage, 2);
  ASSERT_TRUE(device_->Write(40 * kPage, first).ok());
  ASSERT_TRUE(device_->Write(10 * kPage, second).ok());
  ASSERT_TRUE(device_->MapAt(reservation_.at(0), 40 * kPage, kPage, false).ok());
  ASSERT_TRUE(device_->MapAt(reservation_.at(kPage), 10 * kPage, kPage, false).ok());
  EXPECT_EQ(std::memcmp(reservation_.at(0), first.data(), kPage), 0);
  EXPECT_EQ(std::memcmp(reservation_.at(kPage), second.data(), kPage), 0);
}

TEST_P(MapAtTest, ReadOnlyMappingFaultsOnStore) {
  ASSERT_TRUE(device_->MapAt(reservation_.at(0), 0, kPage, false).ok());
  std::byte* address = reservation_.at(10);
  EXPECT_EQ(SignalThatKillsChild(
                [address] { *reinterpret_cast<volatile std::byte*>(address) = std::byte{1}; }),
            SIGSEGV);
  EXPECT_EQ(ReadRange(*device_, 10, 1)[0], std::byte{0});
}

TEST_P(MapAtTest, WritableMappingStoreSurvivesInChild) {
  ASSERT_TRUE(device_->MapAt(reservation_.at(0), 0, kPage, true).ok());
  std::byte* address = reservation_.at(10);
  EXPECT_EQ(SignalThatKillsChild(
                [address] { *reinterpret_cast<volatile std::byte*>(address) = std::byte{7}; }),
            0);
  // MAP_SHARED: the child's store reached the device.
  EXPECT_EQ(ReadRange(*device_, 10, 1)[0], std::byte{7});
}

TEST_P(MapAtTest, MisalignedArgumentsAreRefusedByName) {
  struct Case {
    uint64_t address_offset, offset, length;
    const char* names;
  } cases[] = {
      {1, 0, kPage, "address"},
      {0, 512, kPage, "offset"},
      {0, 0, 100, "length"},
      {0, 0, 0, "length is 0"},
  };
  for (const Case& c : cases) {
    Status status = device_->MapAt(reservation_.at(c.address_offset), c.offset, c.length, false);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << c.names;
    EXPECT_NE(status.message().find(c.names), std::string::npos) << status.message();
  }
}

TEST_P(MapAtTest, RangesPastTheEndAreRefused) {
  Status status = device_->MapAt(reservation_.at(0), kDeviceBytes - kPage, 2 * kPage, false);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("passes the end of the device"), std::string::npos)
      << status.message();
  const uint64_t huge = UINT64_MAX & ~(kPage - 1);
  EXPECT_EQ(device_->MapAt(reservation_.at(0), huge, kPage, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(device_->MapAt(reservation_.at(0), kPage, huge, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(device_->MapAt(nullptr, 0, kPage, false).code(), Code::kInvalidArgument);
}

TEST_P(MapAtTest, ReadOnlyDeviceRefusesWritableMapping) {
  if (GetParam() == Kind::kMemory) GTEST_SKIP() << "a memory device is never read-only";
  device_.reset();  // one writer or many readers per image
  auto device = Open(GetParam(), {.read_only = true});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  Status status = (*device)->MapAt(reservation_.at(0), 0, kPage, true);
  EXPECT_EQ(status.code(), Code::kReadOnly) << status.ToString();
  EXPECT_TRUE((*device)->MapAt(reservation_.at(0), 0, kPage, false).ok());
}

TEST(MapAt, MappedDeviceWithoutADescriptorIsNotSupported) {
  void* memory = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  device_internal::Mapping mapping;
  mapping.base = static_cast<std::byte*>(memory);
  mapping.size_bytes = kPage;
  device_internal::MappedDevice device("anonymous", "anonymous", mapping);
  Reservation reservation(kPage);
  EXPECT_EQ(device.MapAt(reservation.at(0), 0, kPage, false).code(), Code::kNotSupported);
}

// device-dax's rule, checked before mmap so that the refusal names it
// (the kernel's EINVAL, or ENOMEM when a MAP_FIXED would split a device-dax
// mapping, says nothing): address, device offset and length must be
// multiples of the device's alignment.
TEST(MapAt, DeviceDaxAlignmentIsCheckedAndNamed) {
  constexpr uint64_t kAlign = 2u << 20;
  auto device = device_test::CreateDeviceDaxLikeMemoryDevice(4 * kAlign, kAlign);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  Reservation reservation(4 * kAlign);
  auto* aligned = reinterpret_cast<std::byte*>(
      (reinterpret_cast<uintptr_t>(reservation.at(0)) + kAlign - 1) & ~uintptr_t{kAlign - 1});
  ASSERT_TRUE((*device)->MapAt(aligned, kAlign, kAlign, true).ok());
  const auto data = Pattern(4096, 9);
  ASSERT_TRUE((*device)->Write(kAlign + 4096, data).ok());
  EXPECT_EQ(std::memcmp(aligned + 4096, data.data(), data.size()), 0);
  struct Case {
    std::byte* address;
    uint64_t offset, length;
    const char* named;
  } cases[] = {{aligned, 0, kPage, "the length 0x1000 is not"},
               {aligned, kPage, kAlign, "the device offset 0x1000 is not"},
               {aligned + kPage, 0, kAlign, "the address"}};
  for (const Case& c : cases) {
    Status status = (*device)->MapAt(c.address, c.offset, c.length, true);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << status.ToString();
    for (const char* part : {c.named, "is device-dax with a 2 MiB alignment", "--align 4K"}) {
      EXPECT_NE(status.message().find(part), std::string::npos)
          << part << ": " << status.ToString();
    }
  }
  // A 4 KiB-aligned device-dax maps any page.
  auto small = device_test::CreateDeviceDaxLikeMemoryDevice(kAlign, kPage);
  ASSERT_TRUE(small.ok());
  EXPECT_TRUE((*small)->MapAt(reservation.at(3 * kAlign), kPage, kPage, false).ok());
}

// The default of the interface, for devices that have nothing to map.
class UnmappableDevice : public Device {
 public:
  uint64_t size_bytes() const override { return kPage; }
  Status Read(uint64_t, std::span<std::byte>) override { return Status::Ok(); }
  Status Write(uint64_t, std::span<const std::byte>) override { return Status::Ok(); }
  Status Flush() override { return Status::Ok(); }
  PersistenceMode persistence_mode() const override { return PersistenceMode::kVolatile; }
  std::string Describe() const override { return "unmappable"; }
};

TEST(MapAt, DefaultIsNotSupportedNamingTheDevice) {
  UnmappableDevice device;
  Status status = device.MapAt(nullptr, 0, kPage, false);
  EXPECT_EQ(status.code(), Code::kNotSupported);
  EXPECT_EQ(status.message(), "unmappable cannot be mapped");
}

TEST(MapAt, FaultDeviceDelegatesWithoutCountingOrFailing) {
  auto base = CreateMemoryDevice(kDeviceBytes);
  ASSERT_TRUE(base.ok());
  FaultDevice device(base->get());
  device.FailNth(1, FaultDevice::kAll, /*sticky=*/true);
  Reservation reservation(kPage);
  ASSERT_TRUE(device.MapAt(reservation.at(0), kPage, kPage, true).ok());
  EXPECT_EQ(device.operations_seen(), 0u);
  EXPECT_FALSE(device.fault_fired());
  std::memset(reservation.at(0), 0x5a, 16);
  EXPECT_EQ(ReadRange(**base, kPage, 1)[0], std::byte{0x5a});
  EXPECT_EQ(device.MapAt(reservation.at(1), 0, kPage, false).code(), Code::kInvalidArgument);
}

class CrashDeviceMapAt : public testing::Test {
 protected:
  void SetUp() override {
    auto base = CreateMemoryDevice(kDeviceBytes);
    ASSERT_TRUE(base.ok());
    base_ = std::move(base).value();
    device_ = std::make_unique<CrashDevice>(base_.get());
  }
  std::unique_ptr<Device> base_;
  std::unique_ptr<CrashDevice> device_;
  Reservation reservation_{4 * kPage};
};

TEST_F(CrashDeviceMapAt, MapsTheWrappedDevice) {
  ASSERT_TRUE(device_->MapAt(reservation_.at(0), 2 * kPage, kPage, true).ok());
  std::memset(reservation_.at(0), 0x33, kPage);
  // Straight to the base: not a held write, so nothing a crash could drop.
  EXPECT_EQ(device_->unflushed_write_count(), 0u);
  EXPECT_EQ(ReadRange(*base_, 2 * kPage + 100, 1)[0], std::byte{0x33});
}

TEST_F(CrashDeviceMapAt, RefusesRangesWithUnflushedWrites) {
  ASSERT_TRUE(device_->Write(5 * kPage + 4000, Pattern(200, 1)).ok());  // pages 5 and 6
  Status status = device_->MapAt(reservation_.at(0), 6 * kPage, kPage, false);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("unflushed write (offset 24480 length 200)"), std::string::npos)
      << status.message();
  // Pages next to the held write are fine.
  EXPECT_TRUE(device_->MapAt(reservation_.at(0), 7 * kPage, kPage, false).ok());
  EXPECT_TRUE(device_->MapAt(reservation_.at(kPage), 4 * kPage, kPage, false).ok());
  // After Flush the held write is on the base, and the mapping sees it.
  ASSERT_TRUE(device_->Flush().ok());
  ASSERT_TRUE(device_->MapAt(reservation_.at(0), 5 * kPage, 2 * kPage, false).ok());
  EXPECT_EQ(std::memcmp(reservation_.at(4000), Pattern(200, 1).data(), 200), 0);
}

TEST_F(CrashDeviceMapAt, RefusesAfterACrashUntilReset) {
  device_->Crash({});
  Status status = device_->MapAt(reservation_.at(0), 0, kPage, false);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_NE(status.message().find("crashed"), std::string::npos) << status.message();
  device_->Reset();
  EXPECT_TRUE(device_->MapAt(reservation_.at(0), 0, kPage, false).ok());
}

TEST_F(CrashDeviceMapAt, PassesArgumentErrorsThrough) {
  EXPECT_EQ(device_->MapAt(reservation_.at(0), 0, 100, false).code(), Code::kInvalidArgument);
  EXPECT_EQ(device_->MapAt(reservation_.at(0), kDeviceBytes, kPage, false).code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace mdfs
