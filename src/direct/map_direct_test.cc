// MapDirect: the data path, refusals, address alignment and persist.
#include <sys/mman.h>

#include <cstring>

#include "direct/direct_test_util.h"
#include "direct/map_direct_engine.h"
#include "direct/map_direct_test_fixture.h"
#include "gtest/gtest.h"

namespace mdfs::direct_test {
namespace {

INSTANTIATE_TEST_SUITE_P(AllDevices, MapDirectTest,
                         testing::Values(DeviceKind::kMemory, DeviceKind::kFile,
                                         DeviceKind::kMapped),
                         DeviceKindName);

TEST_P(MapDirectTest, StoresAreReadBackByTheFileSystem) {
  const auto before = Pattern(16384, 1);
  const InodeNumber ino = CreateFile("a", before);
  auto mapping = MapOrDie(ino, 0, before.size());
  ASSERT_NE(mapping, nullptr);
  ASSERT_EQ(mapping->size(), before.size());
  EXPECT_EQ(std::memcmp(mapping->data(), before.data(), before.size()), 0);
  const auto record = Pattern(3000, 2);
  std::memcpy(mapping->data() + 5000, record.data(), record.size());
  ASSERT_TRUE(mapping->Persist(mapping->data() + 5000, record.size()).ok());
  EXPECT_EQ(ReadFile(ino, 5000, record.size()), record);
  // And the other way: a file system write is seen through the mapping.
  const auto overwrite = Pattern(100, 3);
  ASSERT_TRUE(fs_->Write(ino, 12000, overwrite).ok());
  EXPECT_EQ(std::memcmp(mapping->data() + 12000, overwrite.data(), overwrite.size()), 0);
}

TEST_P(MapDirectTest, MapsAnInnerRangeAtItsOwnOffset) {
  const auto bytes = Pattern(64 * 1024, 4);
  const InodeNumber ino = CreateFile("a", bytes);
  auto mapping = MapOrDie(ino, 16384, 8192, PROT_READ);
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(mapping->file_offset(), 16384u);
  EXPECT_EQ(mapping->ino(), ino);
  EXPECT_EQ(std::memcmp(mapping->data(), bytes.data() + 16384, 8192), 0);
}

TEST_P(MapDirectTest, HolesAreRefusedWithoutTheAllocateFlag) {
  const InodeNumber ino = CreateFile("a", Pattern(4096, 1));
  ASSERT_TRUE(fs_->Write(ino, 12288, Pattern(4096, 2)).ok());  // hole at [4096, 12288)
  auto mapping = MapDirect(fs_.get(), leases_.get(), ino, 0, 16384, PROT_READ, 0);
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.status().code(), Code::kHole) << mapping.status().ToString();
  auto past_end = MapDirect(fs_.get(), leases_.get(), ino, 0, 64 * 1024, PROT_READ, 0);
  EXPECT_EQ(past_end.status().code(), Code::kHole) << past_end.status().ToString();
  EXPECT_TRUE(leases_->ListLayouts().empty());
}

TEST_P(MapDirectTest, AllocateFillsHolesWithZerosAndGrowsTheFile) {
  const InodeNumber ino = CreateFile("a", Pattern(4096, 1));
  auto mapping = MapOrDie(ino, 0, 10000, PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(fs_->GetAttributes(ino)->size, 10000u);
  EXPECT_EQ(mapping->size(), 12288u);  // rounded up to pages
  EXPECT_EQ(std::memcmp(mapping->data(), Pattern(4096, 1).data(), 4096), 0);
  const std::vector<std::byte> zeros(12288 - 4096);
  EXPECT_EQ(std::memcmp(mapping->data() + 4096, zeros.data(), zeros.size()), 0);
  auto extents = fs_->GetExtents(ino);
  ASSERT_TRUE(extents.ok());
  for (const ExtentInfo& extent : *extents) {
    EXPECT_EQ(extent.flags & kExtentUnwritten, 0u) << "extent at " << extent.file_offset;
  }
  std::memset(mapping->data() + 9000, 0x5c, 1000);
  ASSERT_TRUE(mapping->Persist(mapping->data() + 9000, 1000).ok());
  EXPECT_EQ(ReadFile(ino, 9000, 1000), std::vector<std::byte>(1000, std::byte{0x5c}));
}

TEST_P(MapDirectTest, UnknownFlagsAndProtectionsAreNotSupported) {
  const InodeNumber ino = CreateFile("a", Pattern(8192, 1));
  auto flags = MapDirect(fs_.get(), leases_.get(), ino, 0, 4096, PROT_READ, 0x6);
  EXPECT_EQ(flags.status().code(), Code::kNotSupported);
  EXPECT_EQ(flags.status().message(), "map_direct flags 0x6 are not supported");
  for (int prot : {0, PROT_WRITE, PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC}) {
    auto refused = MapDirect(fs_.get(), leases_.get(), ino, 0, 4096, prot, 0);
    EXPECT_EQ(refused.status().code(), Code::kNotSupported) << "prot " << prot;
  }
  EXPECT_EQ(MapDirect(fs_.get(), leases_.get(), ino, 100, 4096, PROT_READ, 0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MapDirect(fs_.get(), leases_.get(), ino, 0, 0, PROT_READ, 0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MapDirect(fs_.get(), leases_.get(), kRootInode, 0, 4096, PROT_READ, 0).status().code(),
            Code::kIsDirectory);
  EXPECT_TRUE(leases_->ListLayouts().empty());
}

// A 2 MiB-aligned extent at a 2 MiB-aligned file offset lands on a 2 MiB-
// aligned address (what lets the kernel use one PMD entry on DAX).
TEST_P(MapDirectTest, TwoMiBAlignedExtentGetsTwoMiBAlignedAddress) {
  const InodeNumber ino = CreateFile("big", {});
  auto mapping = MapOrDie(ino, 0, 4 * kMiB, PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_NE(mapping, nullptr);
  bool found_aligned_extent = false;
  auto extents = fs_->GetExtents(ino);
  ASSERT_TRUE(extents.ok());
  for (const ExtentInfo& extent : *extents) {
    if (extent.file_offset % (2 * kMiB) == 0 && extent.device_offset % (2 * kMiB) == 0 &&
        extent.length >= 2 * kMiB) {
      found_aligned_extent = true;
      const auto address = reinterpret_cast<uintptr_t>(mapping->data() + extent.file_offset);
      EXPECT_EQ(address % (2 * kMiB), 0u) << "file offset " << extent.file_offset;
    }
  }
  EXPECT_TRUE(found_aligned_extent) << "the allocator gave no 2 MiB-aligned extent";
  auto second_half = MapOrDie(ino, 2 * kMiB, 2 * kMiB, PROT_READ);
  ASSERT_NE(second_half, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(second_half->data()) % (2 * kMiB), 0u);
  auto odd = MapOrDie(ino, 12288, 4096, PROT_READ);
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(odd->data()) % (2 * kMiB), 12288u);
}

TEST_P(MapDirectTest, PersistFollowsTheDeviceMode) {
  const InodeNumber ino = CreateFile("a", Pattern(3 * 4096, 1));
  auto mapping = MapOrDie(ino, 0, 3 * 4096);
  ASSERT_NE(mapping, nullptr);
  const PersistenceMode expected = device_->persistence_mode();
  EXPECT_EQ(mapping->persistence_mode(), expected);
  EXPECT_NE(expected, PersistenceMode::kCpuCache) << "no DAX on this machine";
  std::byte* data = mapping->data();
  const auto record = Pattern(5000, 9);
  ASSERT_TRUE(mapping->CopyPersist(data + 7000, record.data(), record.size()).ok());
  EXPECT_EQ(ReadFile(ino, 7000, record.size()), record);
  std::memset(data, 0x21, 64);
  ASSERT_TRUE(mapping->Flush(data, 64).ok());
  mapping->Drain();
  EXPECT_TRUE(mapping->Persist(data + 4000, 200).ok());
  EXPECT_TRUE(mapping->Persist(data, 3 * 4096).ok());
}

TEST_P(MapDirectTest, PersistOutsideTheMappingIsRefused) {
  const InodeNumber ino = CreateFile("a", Pattern(8192, 1));
  auto mapping = MapOrDie(ino, 0, 8192);
  ASSERT_NE(mapping, nullptr);
  std::byte* data = mapping->data();
  Status before = mapping->Persist(data - 1, 10);
  EXPECT_EQ(before.code(), Code::kInvalidArgument);
  EXPECT_NE(before.message().find("is not inside the mapping"), std::string::npos)
      << before.message();
  EXPECT_EQ(mapping->Persist(data + 8000, 193).code(), Code::kInvalidArgument);
  EXPECT_EQ(mapping->Flush(data, 8193).code(), Code::kInvalidArgument);
  const auto source = Pattern(10, 1);
  EXPECT_EQ(mapping->CopyPersist(data + 8190, source.data(), 10).code(), Code::kInvalidArgument);
}

TEST_P(MapDirectTest, ReadOnlyMappingRefusesCopyPersistAndFaultsOnStore) {
  const InodeNumber ino = CreateFile("a", Pattern(4096, 1));
  auto mapping = MapOrDie(ino, 0, 4096, PROT_READ);
  ASSERT_NE(mapping, nullptr);
  const auto source = Pattern(10, 2);
  EXPECT_EQ(mapping->CopyPersist(mapping->data(), source.data(), 10).code(), Code::kReadOnly);
  EXPECT_EQ(SignalOnStore(mapping->data() + 1), SIGSEGV);
  EXPECT_EQ(ReadFile(ino, 0, 4096), Pattern(4096, 1));
}

TEST_P(MapDirectTest, HoldsAReadOrReadWriteLayoutUntilUnmapped) {
  const InodeNumber ino = CreateFile("a", Pattern(8192, 1));
  auto writer = MapOrDie(ino, 0, 8192);
  auto reader = MapOrDie(ino, 4096, 4096, PROT_READ);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  auto layouts = leases_->ListLayouts();
  ASSERT_EQ(layouts.size(), 2u);
  for (const LayoutInfo& layout : layouts) {
    const bool is_writer = layout.id == writer->layout();
    EXPECT_EQ(layout.ino, ino);
    EXPECT_EQ(layout.mode, is_writer ? LayoutMode::kReadWrite : LayoutMode::kRead);
    EXPECT_EQ(layout.offset, is_writer ? 0u : 4096u);
    EXPECT_EQ(layout.length, is_writer ? 8192u : 4096u);
    EXPECT_EQ(layout.holder.rfind("map_direct 0x", 0), 0u) << layout.holder;
  }
  writer->Unmap();
  EXPECT_EQ(writer->Persist(writer->data(), 1).code(), Code::kInvalidArgument);
  ASSERT_EQ(leases_->ListLayouts().size(), 1u);
  reader.reset();
  EXPECT_TRUE(leases_->ListLayouts().empty());
}

}  // namespace
}  // namespace mdfs::direct_test
