// MapDirect on device-dax (doc/hardware.md, "device-dax alignment"): the
// kernel maps a /dev/daxN.M only in whole units of its alignment (2 MiB by
// default), address, device offset and length alike. mdfs gives a file 2 MiB
// chunks, 2 MiB-aligned on the device, whenever an allocation reaches 2 MiB
// (writes, MapDirect with allocate, fallocate with or without KEEP_SIZE),
// and MapDirect stitches each chunk at a 2 MiB-aligned address, so such
// files map; a range made of 4 KiB blocks (a small file, a file grown by
// small appends) is refused with kInvalidArgument naming the rule and the
// ways out. A device-dax made with a 4 KiB alignment maps everything.
//
// Runs on a memory device with device-dax's mapping rule here (2 MiB and
// 4 KiB alignments), and on the real /dev/daxN.M in the qemu lane
// (MDFS_TEST_DEVICE_DAX; the lane runs it on a 2 MiB and on a 4 KiB
// namespace). Without it that instance skips and says why.
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "device/device_test_util.h"
#include "direct/map_direct_engine.h"
#include "gtest/gtest.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"

namespace mdfs {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kChunk = 2 * kMiB;

enum class DaxKind { kLike2MiB, kLike4KiB, kReal };

std::string DaxKindName(const testing::TestParamInfo<DaxKind>& info) {
  switch (info.param) {
    case DaxKind::kLike2MiB:
      return "MemoryAligned2MiB";
    case DaxKind::kLike4KiB:
      return "MemoryAligned4KiB";
    case DaxKind::kReal:
      return "RealDeviceDax";
  }
  return "Unknown";
}

std::string RealDeviceDax() {
  const char* path = std::getenv("MDFS_TEST_DEVICE_DAX");
  return path == nullptr ? "" : path;
}

class MapDirectDaxTest : public testing::TestWithParam<DaxKind> {
 protected:
  void SetUp() override {
    if (GetParam() == DaxKind::kReal && RealDeviceDax().empty()) {
      GTEST_SKIP() << "no device-dax: set MDFS_TEST_DEVICE_DAX=/dev/daxN.M (the qemu lane does)";
    }
    Result<std::unique_ptr<Device>> device = OpenDevice();
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    ASSERT_NE(align_, 0u) << device_->Describe();
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

  Result<std::unique_ptr<Device>> OpenDevice() {
    switch (GetParam()) {
      case DaxKind::kLike2MiB:
        align_ = kChunk;
        return device_test::CreateDeviceDaxLikeMemoryDevice(64 * kMiB, kChunk);
      case DaxKind::kLike4KiB:
        align_ = 4096;
        return device_test::CreateDeviceDaxLikeMemoryDevice(64 * kMiB, 4096);
      case DaxKind::kReal:
        break;
    }
    auto device = OpenFileDevice(RealDeviceDax());
    if (device.ok()) align_ = AlignFromDescription((*device)->Describe());
    return device;
  }

  // "..., align 2048 KiB, ..." in Describe() of a device-dax.
  static uint64_t AlignFromDescription(const std::string& text) {
    const size_t at = text.find("align ");
    return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + 6, nullptr, 10) << 10;
  }

  InodeNumber NewFile(const std::string& name) {
    auto file = fs_->Create(kRootInode, name, 0644);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? file->ino : 0;
  }

  void Write(InodeNumber ino, uint64_t offset, uint64_t length, uint8_t seed) {
    const auto bytes = device_test::Pattern(length, seed);
    auto written = fs_->Write(ino, offset, bytes);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  Result<std::unique_ptr<DirectMapping>> Map(InodeNumber ino, uint64_t offset, uint64_t length,
                                             uint32_t flags = 0) {
    return MapDirect(fs_.get(), leases_.get(), ino, offset, length, PROT_READ | PROT_WRITE, flags);
  }

  // Every extent of `ino` in [0, end) starts and ends on a 2 MiB boundary
  // of the device and of the file.
  void ExpectChunkAligned(InodeNumber ino, uint64_t end) {
    auto extents = fs_->GetExtents(ino);
    ASSERT_TRUE(extents.ok()) << extents.status().ToString();
    for (const ExtentInfo& e : *extents) {
      if (e.file_offset >= end) continue;
      EXPECT_EQ(e.device_offset % kChunk, 0u) << "extent at file offset " << e.file_offset;
      EXPECT_EQ(e.file_offset % kChunk, 0u);
      EXPECT_EQ(e.length % kChunk, 0u) << "extent at file offset " << e.file_offset;
    }
  }

  // A refusal of an unaligned range: kInvalidArgument naming the rule, the
  // ways out and the file bytes ("map file bytes [" + `file_bytes`...), on
  // a device whose alignment is above 4 KiB.
  void ExpectRefusedByAlignment(const Result<std::unique_ptr<DirectMapping>>& mapping,
                                const std::string& file_bytes) {
    ASSERT_FALSE(mapping.ok());
    EXPECT_EQ(mapping.status().code(), Code::kInvalidArgument) << mapping.status().ToString();
    for (const std::string& part : {std::string("is device-dax with a 2 MiB alignment"),
                                    std::string("--align 4K"), "map file bytes [" + file_bytes}) {
      EXPECT_NE(mapping.status().message().find(part), std::string::npos)
          << part << ": " << mapping.status().ToString();
    }
  }

  uint64_t align_ = 0;
  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<LeaseManager> leases_;
};

TEST_P(MapDirectDaxTest, AllocatedRangeOfWholeChunksMaps) {
  const InodeNumber ino = NewFile("allocated");
  auto mapping = Map(ino, 0, 8 * kMiB, kMapDirectAllocate);
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  ExpectChunkAligned(ino, 8 * kMiB);
  const auto record = device_test::Pattern(4096, 3);
  std::memcpy((*mapping)->data() + 5 * kMiB + 64, record.data(), record.size());
  ASSERT_TRUE((*mapping)->Persist((*mapping)->data() + 5 * kMiB + 64, record.size()).ok());
  std::vector<std::byte> back(record.size());
  ASSERT_TRUE(fs_->Read(ino, 5 * kMiB + 64, back).ok());
  EXPECT_EQ(back, record);
}

TEST_P(MapDirectDaxTest, FileWrittenInLargeWritesMaps) {
  const InodeNumber ino = NewFile("written");
  Write(ino, 0, 6 * kMiB, 1);
  ExpectChunkAligned(ino, 6 * kMiB);
  auto mapping = Map(ino, 0, 6 * kMiB);
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  const auto expected = device_test::Pattern(6 * kMiB, 1);
  EXPECT_EQ(std::memcmp((*mapping)->data(), expected.data(), expected.size()), 0);
}

TEST_P(MapDirectDaxTest, LogPreallocatedWithKeepSizeMaps) {
  // A small file first, so that the log does not start at data_start by luck.
  Write(NewFile("first"), 0, 5000, 2);
  const InodeNumber ino = NewFile("log");
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocateKeepSize, 0, 4 * kMiB).ok());
  ExpectChunkAligned(ino, 4 * kMiB);
  auto mapping = Map(ino, 0, 4 * kMiB, kMapDirectAllocate);
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
}

TEST_P(MapDirectDaxTest, SmallFileMapsOnlyOnA4KiBDeviceDax) {
  const InodeNumber ino = NewFile("small");
  Write(ino, 0, 64 * 1024, 4);
  auto mapping = Map(ino, 0, 64 * 1024);
  if (align_ <= 4096) {
    ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
    const auto expected = device_test::Pattern(64 * 1024, 4);
    EXPECT_EQ(std::memcmp((*mapping)->data(), expected.data(), expected.size()), 0);
  } else {
    ExpectRefusedByAlignment(mapping, "0, 65536)");
    // The refusal left the file as it was, and the file system usable.
    EXPECT_EQ(fs_->GetAttributes(ino)->size, 64u * 1024);
  }
}

TEST_P(MapDirectDaxTest, RangeNotOnAChunkBoundaryMapsOnlyOnA4KiBDeviceDax) {
  const InodeNumber ino = NewFile("big");
  Write(ino, 0, 8 * kMiB, 5);
  auto inside = Map(ino, 4096, kChunk);  // starts 4 KiB into the first chunk
  auto tail = Map(ino, 0, 3 * kMiB);     // ends inside the second chunk
  if (align_ <= 4096) {
    EXPECT_TRUE(inside.ok()) << inside.status().ToString();
    EXPECT_TRUE(tail.ok()) << tail.status().ToString();
  } else {
    ExpectRefusedByAlignment(inside, "4096, ");
    ExpectRefusedByAlignment(tail, "");  // [0, 3 MiB) or [2 MiB, 3 MiB): one MapAt per run
    EXPECT_TRUE(Map(ino, kChunk, 4 * kMiB).ok());  // whole chunks in the middle do map
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, MapDirectDaxTest,
                         testing::Values(DaxKind::kLike2MiB, DaxKind::kLike4KiB, DaxKind::kReal),
                         DaxKindName);

}  // namespace
}  // namespace mdfs
