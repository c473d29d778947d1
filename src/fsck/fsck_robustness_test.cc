// fsck on randomly damaged images: it must always finish, never crash or
// read out of bounds (run under MDFS_SANITIZE), and never overlook a
// damaged fixed-region block.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "fsck/fsck_test_util.h"
#include "mdfs/file_system.h"

namespace mdfs::fsck::testing {
namespace {

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// A small file system with every structure, built by the engine.
std::unique_ptr<Device> BuildImage() {
  auto device = CreateMemoryDevice(16 << 20);
  EXPECT_TRUE(device.ok());
  EXPECT_TRUE(FileSystem::Format(device->get()).ok());
  auto fs = FileSystem::Open(device->get());
  EXPECT_TRUE(fs.ok()) << fs.status().ToString();
  FileSystem& f = **fs;
  auto dir = f.Mkdir(kRootInode, "dir", 0755);
  auto file = f.Create(dir->ino, "file", 0644);
  (void)f.Write(file->ino, 0, Bytes(std::string(20000, 'x')));
  (void)f.Symlink(dir->ino, "link", "file");
  auto fragmented = f.Create(kRootInode, "fragmented", 0644);
  for (int i = 0; i < 20; ++i) (void)f.Write(fragmented->ino, uint64_t(2 * i) * 4096, Bytes("z"));
  for (int i = 0; i < 150; ++i) (void)f.Create(kRootInode, "name-" + std::to_string(i), 0644);
  return std::move(device).value();
}

// Metadata blocks worth damaging: every block that carries a header.
std::vector<uint64_t> MetadataBlocks(Device* device) {
  std::vector<uint64_t> blocks;
  format::Block block;
  for (uint64_t b = 0; b < device->size_bytes() / kBlockSize; ++b) {
    if (format::ReadBlock(device, b, block).ok() &&
        format::DecodeHeader(block).magic == format::kMagic) {
      blocks.push_back(b);
    }
  }
  return blocks;
}

TEST(FsckRobustnessTest, RandomDamageNeverCrashesAndIsSeen) {
  std::unique_ptr<Device> device = BuildImage();
  if (::testing::Test::HasFailure()) return;
  auto sb = format::DecodeSuperblock(
      [&] {
        format::Block b;
        EXPECT_TRUE(format::ReadBlock(device.get(), 0, b).ok());
        return b;
      }(),
      0);
  ASSERT_TRUE(sb.ok());
  ASSERT_TRUE(CheckFileSystem(device.get())->clean());
  const std::vector<uint64_t> candidates = MetadataBlocks(device.get());
  ASSERT_GT(candidates.size(), 10u);

  std::mt19937_64 random(42);
  for (int round = 0; round < 400; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const uint64_t target = candidates[random() % candidates.size()];
    format::Block original;
    ASSERT_TRUE(format::ReadBlock(device.get(), target, original).ok());
    format::Block damaged = original;
    const int changes = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < changes; ++i) {
      const size_t offset = format::kBlockHeaderSize + random() % (kBlockSize - 32);
      // Small values and 0xff bytes reach more decoder paths than noise.
      damaged[offset] = static_cast<std::byte>(random() % 3 == 0 ? 0xff : random() % 8);
    }
    const bool reseal = random() % 2 == 0;
    if (reseal) {
      const format::BlockHeader header = format::DecodeHeader(original);
      format::SealBlock(damaged, header.kind, header.block_number, header.sequence);
    }
    ASSERT_TRUE(format::WriteBlock(device.get(), target, damaged).ok());

    Result<FsckReport> report = CheckFileSystem(device.get());
    const bool fixed_region =
        target < sb->data_start &&
        !(target >= sb->journal_start && target < sb->journal_start + sb->journal_blocks);
    if (!reseal && fixed_region && damaged != original) {
      // Either a problem, or the block is one the last journal transaction
      // rewrites: then replay repairs it, and fsck checks the image instead.
      const bool seen = !report.ok() || !report->clean() ||
                        report->journal_state.find("needs replay") != std::string::npos;
      EXPECT_TRUE(seen) << "damaged block " << target << " unseen";
    }
    ASSERT_TRUE(format::WriteBlock(device.get(), target, original).ok());
  }
}

}  // namespace
}  // namespace mdfs::fsck::testing
