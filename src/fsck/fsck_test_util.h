// Test helpers for fsck: an image built by hand with the format encoders on
// a memory device, so that each test can lay down exactly the (possibly
// corrupt) metadata it wants. Only *_test.cc files include this.
#ifndef MDFS_SRC_FSCK_FSCK_TEST_UTIL_H_
#define MDFS_SRC_FSCK_FSCK_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "format/format.h"
#include "mdfs/device.h"
#include "mdfs/fsck.h"
#include "util/crc32c.h"

namespace mdfs::fsck::testing {

inline constexpr uint8_t kDirType = S_IFDIR >> 12;
inline constexpr uint8_t kFileType = S_IFREG >> 12;
inline constexpr uint8_t kLinkType = S_IFLNK >> 12;

inline format::DirectoryRecord Entry(std::string name, uint64_t ino, uint8_t type) {
  return format::DirectoryRecord{ino, type, std::move(name)};
}

inline format::ExtentRecord Extent(uint64_t file_block, uint64_t device_block, uint32_t count,
                                   uint32_t flags = 0) {
  return format::ExtentRecord{file_block, device_block, count, flags};
}

inline bool HasProblem(const FsckReport& report, const std::string& check) {
  return std::any_of(report.problems.begin(), report.problems.end(),
                     [&](const FsckProblem& p) { return p.check == check; });
}

inline const FsckProblem* FindProblem(const FsckReport& report, const std::string& check) {
  for (const FsckProblem& p : report.problems) {
    if (p.check == check) return &p;
  }
  return nullptr;
}

// Every problem, one per line, for failure messages.
inline std::string Describe(const FsckReport& report) {
  std::string text;
  for (const FsckProblem& p : report.problems) {
    text += p.check + " | " + p.where + " | " + p.message + "\n";
  }
  return text.empty() ? "(no problems)\n" : text;
}

class Image {
 public:
  // A freshly formatted memory device of `bytes`.
  explicit Image(uint64_t bytes = 8 << 20) {
    auto device = CreateMemoryDevice(bytes);
    EXPECT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    FormatOptions options;
    options.journal_blocks = 64;
    Status status = format::WriteNewFileSystem(device_.get(), options);
    EXPECT_TRUE(status.ok()) << status.ToString();
    auto sb = format::DecodeSuperblock(Read(0), 0);
    EXPECT_TRUE(sb.ok()) << sb.status().ToString();
    sb_ = *sb;
    next_free_ = sb_.data_start;
  }

  Device* device() { return device_.get(); }
  const format::Superblock& sb() const { return sb_; }

  FsckReport Check() {
    Result<FsckReport> report = CheckFileSystem(device_.get());
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : FsckReport{};
  }

  format::Block Read(uint64_t block_number) {
    format::Block block;
    Status status = format::ReadBlock(device_.get(), block_number, block);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return block;
  }
  void Write(uint64_t block_number, const format::Block& block) {
    Status status = format::WriteBlock(device_.get(), block_number, block);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  // Flips one byte of a block without resealing it.
  void Damage(uint64_t block_number, size_t offset) {
    format::Block block = Read(block_number);
    block[offset] ^= std::byte{0x5a};
    Write(block_number, block);
  }

  // ------------------------------------------------------------ bitmap
  void SetBitmap(uint64_t block, bool used) {
    const uint64_t bitmap_block = sb_.bitmap_start + block / format::kBitsPerBitmapBlock;
    auto bits = format::DecodeBitmapBlock(Read(bitmap_block), bitmap_block);
    ASSERT_TRUE(bits.ok()) << bits.status().ToString();
    const uint64_t bit = block % format::kBitsPerBitmapBlock;
    const auto mask = std::byte{static_cast<uint8_t>(1u << (bit % 8))};
    (*bits)[bit / 8] = used ? ((*bits)[bit / 8] | mask) : ((*bits)[bit / 8] & ~mask);
    format::Block out;
    format::EncodeBitmapBlock(*bits, bitmap_block, 0, out);
    Write(bitmap_block, out);
  }
  // The next `count` data blocks, marked used in the bitmap.
  uint64_t Allocate(uint64_t count = 1) {
    const uint64_t first = next_free_;
    next_free_ += count;
    for (uint64_t b = first; b < next_free_; ++b) SetBitmap(b, true);
    return first;
  }

  // ------------------------------------------------------------ inodes
  uint64_t InodeBlock(uint64_t ino) const {
    return sb_.inode_table_start + format::InodeTableBlockIndex(ino);
  }
  format::InodeRecord ReadInode(uint64_t ino) {
    format::Block block = Read(InodeBlock(ino));
    std::span<const std::byte, format::kInodeSize> raw(block.data() + format::InodeByteOffset(ino),
                                                       format::kInodeSize);
    auto inode = format::DecodeInode(raw);
    EXPECT_TRUE(inode.ok()) << inode.status().ToString();
    return inode.ok() ? *inode : format::InodeRecord{};
  }
  // The inode table block holding `ino` with `inode` encoded into it.
  format::Block InodeTableBlockWith(uint64_t ino, const format::InodeRecord& inode,
                                    uint64_t sequence = 0) {
    format::Block block = Read(InodeBlock(ino));
    std::span<std::byte, format::kInodeSize> raw(block.data() + format::InodeByteOffset(ino),
                                                 format::kInodeSize);
    format::EncodeInode(inode, raw);
    format::SealBlock(block, format::BlockKind::kInodeTable, InodeBlock(ino), sequence);
    return block;
  }
  void WriteInode(uint64_t ino, const format::InodeRecord& inode) {
    Write(InodeBlock(ino), InodeTableBlockWith(ino, inode));
  }

  // Stores `extents` as the map of `inode`: inline when there are at most
  // 6, else in a chain of newly allocated extent blocks of `per_block`.
  void SetExtents(format::InodeRecord& inode, const std::vector<format::ExtentRecord>& extents,
                  size_t per_block = format::kExtentsPerBlock) {
    inode.extent_count = extents.size();
    inode.inline_extents.clear();
    inode.extent_block = 0;
    if (extents.size() <= format::kInlineExtents) {
      inode.inline_extents = extents;
      return;
    }
    const size_t chain = (extents.size() + per_block - 1) / per_block;
    const uint64_t first = Allocate(chain);
    for (size_t i = 0; i < chain; ++i) {
      format::ExtentBlock eb;
      eb.next_block = i + 1 < chain ? first + i + 1 : 0;
      const size_t begin = i * per_block;
      eb.extents.assign(extents.begin() + begin,
                        extents.begin() + std::min(extents.size(), begin + per_block));
      format::Block out;
      format::EncodeExtentBlock(eb, first + i, 0, out);
      Write(first + i, out);
    }
    inode.extent_block = first;
  }

  static format::InodeRecord NewInode(uint32_t mode, uint32_t nlink, uint64_t size) {
    format::InodeRecord inode;
    inode.mode = mode;
    inode.nlink = nlink;
    inode.size = size;
    inode.generation = 1;
    return inode;
  }

  // A regular file of `size` bytes with `blocks` written data blocks (one
  // extent, newly allocated) unless `blocks` is 0. Returns its first block.
  uint64_t MakeFile(uint64_t ino, uint64_t size, uint32_t blocks, uint32_t nlink = 1) {
    format::InodeRecord inode = NewInode(S_IFREG | 0644, nlink, size);
    uint64_t first = 0;
    if (blocks != 0) {
      first = Allocate(blocks);
      SetExtents(inode, {Extent(0, first, blocks)});
    }
    WriteInode(ino, inode);
    return first;
  }

  void MakeSymlink(uint64_t ino, uint64_t length, uint32_t nlink = 1) {
    format::InodeRecord inode = NewInode(S_IFLNK | 0777, nlink, length);
    SetExtents(inode, {Extent(0, Allocate(1), 1)});
    WriteInode(ino, inode);
  }

  void WriteDirectoryBlock(uint64_t block_number,
                           const std::vector<format::DirectoryRecord>& entries) {
    format::Block out;
    format::EncodeDirectoryBlock(format::DirectoryBlock{entries}, block_number, 0, out);
    Write(block_number, out);
  }

  // Makes `ino` a directory of one block per element of `blocks` (newly
  // allocated), with nlink 2 + the subdirectories named. Returns the first
  // device block.
  uint64_t MakeDirectory(uint64_t ino, uint64_t parent,
                         const std::vector<std::vector<format::DirectoryRecord>>& blocks) {
    uint32_t subdirectories = 0;
    for (const auto& entries : blocks) {
      for (const auto& entry : entries) subdirectories += entry.type == kDirType;
    }
    format::InodeRecord inode =
        NewInode(S_IFDIR | 0755, 2 + subdirectories, blocks.size() * kBlockSize);
    inode.parent = parent;
    const uint64_t first = Allocate(blocks.size());
    for (size_t i = 0; i < blocks.size(); ++i) WriteDirectoryBlock(first + i, blocks[i]);
    if (!blocks.empty()) {
      SetExtents(inode, {Extent(0, first, static_cast<uint32_t>(blocks.size()))});
    }
    WriteInode(ino, inode);
    return first;
  }
  uint64_t MakeDirectory(uint64_t ino, uint64_t parent,
                         const std::vector<format::DirectoryRecord>& entries) {
    return MakeDirectory(ino, parent, std::vector<std::vector<format::DirectoryRecord>>{entries});
  }

  // ------------------------------------------------------------ journal
  // Writes a transaction of `images` (target, contents) into the journal
  // region: one descriptor per `per_descriptor` images, then a commit.
  // Returns the region blocks written (descriptors + images + commit).
  uint64_t WriteTransaction(uint64_t sequence,
                            const std::vector<std::pair<uint64_t, format::Block>>& images,
                            size_t per_descriptor = format::kTargetsPerDescriptor) {
    uint64_t index = 0;
    uint32_t crc = 0;
    for (size_t first = 0; first < images.size(); first += per_descriptor) {
      const size_t last = std::min(images.size(), first + per_descriptor);
      format::JournalDescriptor descriptor;
      descriptor.sequence = sequence;
      descriptor.more = last < images.size();
      for (size_t i = first; i < last; ++i) descriptor.targets.push_back(images[i].first);
      format::Block block;
      format::EncodeJournalDescriptor(descriptor, sb_.journal_start + index, block);
      Write(sb_.journal_start + index++, block);
      crc = Crc32cExtend(crc, block);
      for (size_t i = first; i < last; ++i) {
        Write(sb_.journal_start + index++, images[i].second);
        crc = Crc32cExtend(crc, images[i].second);
      }
    }
    format::JournalCommit commit;
    commit.sequence = sequence;
    commit.total_blocks = static_cast<uint32_t>(index);
    commit.data_crc32c = crc;
    commit.image_count = images.size();
    format::Block block;
    format::EncodeJournalCommit(commit, sb_.journal_start + index, block);
    Write(sb_.journal_start + index, block);
    return index + 1;
  }

 private:
  std::unique_ptr<Device> device_;
  format::Superblock sb_;
  uint64_t next_free_ = 0;
};

}  // namespace mdfs::fsck::testing

#endif  // MDFS_SRC_FSCK_FSCK_TEST_UTIL_H_
