// The corruption sweep (issue 7): every metadata block of a populated image
// is damaged in turn — a flipped byte, zeroed, another block's contents, and
// flipped bytes with the checksum re-sealed so the field checks see the
// garbage — and then:
//   * a read-only open either fails with a clear error or serves the image;
//     a walk of every recorded file must not crash, and every file that does
//     not depend on the damaged block (its inode-table block, its extent
//     chain, its ancestors' inode-table and directory blocks) reads back byte
//     for byte; one that depends on it reads back intact or fails with
//     kCorruption naming a block or an inode — never other bytes;
//   * a writable open either refuses (kCorruption) or succeeds; when it
//     succeeds, truncating and unlinking every file must not crash.
// The summary line gives the counts. fsck --repair is not part of it yet.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/format.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/fsck.h"

namespace mdfs {
namespace {

struct RecordedFile {
  std::string path;
  std::string bytes;
  std::set<uint64_t> depends_on;  // metadata blocks it needs
};

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string Pattern(size_t size, uint32_t seed) {
  std::mt19937 generator(seed);
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(generator());
  return s;
}

OpenOptions ReadOnly() {
  OpenOptions options;
  options.read_only = true;
  return options;
}

class CorruptionSweep : public ::testing::Test {
 protected:
  static constexpr uint64_t kDeviceBytes = 16 << 20;

  void SetUp() override {
    auto device = CreateMemoryDevice(kDeviceBytes);
    ASSERT_TRUE(device.ok());
    pristine_ = std::move(device).value();
    FormatOptions options;
    options.journal_blocks = 64;
    ASSERT_TRUE(FileSystem::Format(pristine_.get(), options).ok());
    Populate();
    ASSERT_FALSE(HasFatalFailure());
    RecordDependencies();
    image_.resize(kDeviceBytes);
    ASSERT_TRUE(pristine_->Read(0, std::as_writable_bytes(std::span(image_))).ok());
  }

  // Files in the root, nested directories, a directory of several blocks, a
  // fragmented file whose extent map spills into a chain, a symlink.
  void Populate() {
    auto fs = FileSystem::Open(pristine_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    auto add = [&](InodeNumber parent, const std::string& dir, const std::string& name, size_t size,
                   uint32_t seed) {
      auto file = (*fs)->Create(parent, name, S_IFREG | 0644);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      std::string bytes = Pattern(size, seed);
      ASSERT_TRUE((*fs)->Write(file->ino, 0, Bytes(bytes)).ok());
      files_.push_back({dir + "/" + name, bytes, {}});
    };
    add(kRootInode, "", "a", 5000, 1);
    auto dir = (*fs)->Mkdir(kRootInode, "dir", 0755);
    ASSERT_TRUE(dir.ok());
    add(dir->ino, "/dir", "b", 100, 2);
    auto sub = (*fs)->Mkdir(dir->ino, "sub", 0755);
    ASSERT_TRUE(sub.ok());
    add(sub->ino, "/dir/sub", "c", 9000, 3);
    auto many = (*fs)->Mkdir(kRootInode, "many", 0755);
    ASSERT_TRUE(many.ok());
    for (int i = 0; i < 40; ++i) {
      // Long names: the directory needs several blocks.
      add(many->ino, "/many", "file-" + std::to_string(i) + std::string(90, 'x'), 10 + i * 37,
          100 + i);
    }
    add(kRootInode, "", "fragmented", 64 * kBlockSize, 4);
    auto fragmented = (*fs)->LookupPath("/fragmented");
    ASSERT_TRUE(fragmented.ok());
    for (uint64_t block = 1; block < 64; block += 2) {
      ASSERT_TRUE((*fs)
                      ->Fallocate(fragmented->ino, kFallocatePunchHole | kFallocateKeepSize,
                                  block * kBlockSize, kBlockSize)
                      .ok());
      std::fill_n(files_.back().bytes.begin() + block * kBlockSize, kBlockSize, '\0');
    }
    ASSERT_TRUE((*fs)->Symlink(kRootInode, "link", "dir/b").ok());
  }

  format::Block ReadBlock(Device* device, uint64_t number) {
    format::Block block;
    Status read = format::ReadBlock(device, number, block);
    EXPECT_TRUE(read.ok()) << "block " << number << ": " << read.ToString();
    return block;
  }

  format::InodeRecord ReadInode(uint64_t ino) {
    format::Block block =
        ReadBlock(pristine_.get(), sb_.inode_table_start + format::InodeTableBlockIndex(ino));
    std::span<const std::byte, format::kInodeSize> raw(block.data() + format::InodeByteOffset(ino),
                                                       format::kInodeSize);
    auto record = format::DecodeInode(raw);
    EXPECT_TRUE(record.ok());
    return record.ok() ? *record : format::InodeRecord{};
  }

  // The inode's own metadata blocks: its inode-table block, its extent
  // chain, and (directories) its directory blocks.
  std::set<uint64_t> OwnBlocks(FileSystem& fs, InodeNumber ino) {
    std::set<uint64_t> blocks{sb_.inode_table_start + format::InodeTableBlockIndex(ino)};
    format::InodeRecord record = ReadInode(ino);
    for (uint64_t next = record.extent_block; next != 0;) {
      blocks.insert(next);
      metadata_.insert(next);
      auto eb = format::DecodeExtentBlock(ReadBlock(pristine_.get(), next), next);
      EXPECT_TRUE(eb.ok());
      next = eb.ok() ? eb->next_block : 0;
    }
    if (S_ISDIR(record.mode)) {
      auto extents = fs.GetExtents(ino);
      EXPECT_TRUE(extents.ok());
      for (const ExtentInfo& e : extents.ok() ? *extents : std::vector<ExtentInfo>{}) {
        for (uint64_t at = 0; at < e.length; at += kBlockSize) {
          blocks.insert((e.device_offset + at) / kBlockSize);
          metadata_.insert((e.device_offset + at) / kBlockSize);
        }
      }
    }
    return blocks;
  }

  void RecordDependencies() {
    auto sb = format::DecodeSuperblock(ReadBlock(pristine_.get(), 0), 0);
    ASSERT_TRUE(sb.ok());
    sb_ = *sb;
    for (uint64_t b = 0; b < sb_.data_start; ++b) metadata_.insert(b);
    auto fs = FileSystem::Open(pristine_.get(), ReadOnly());
    ASSERT_TRUE(fs.ok());
    for (RecordedFile& file : files_) {
      std::string walked;
      file.depends_on = OwnBlocks(**fs, kRootInode);
      size_t at = 1;
      while (at <= file.path.size()) {
        size_t slash = file.path.find('/', at);
        if (slash == std::string::npos) slash = file.path.size();
        walked += "/" + file.path.substr(at, slash - at);
        auto found = (*fs)->LookupPath(walked);
        ASSERT_TRUE(found.ok()) << walked;
        std::set<uint64_t> own = OwnBlocks(**fs, found->ino);
        file.depends_on.insert(own.begin(), own.end());
        at = slash + 1;
      }
    }
  }

  // The pristine image copied onto the scratch device, with `kind` of
  // damage applied to `block`.
  Device* Damaged(uint64_t block, int kind, uint32_t seed) {
    if (scratch_ == nullptr) {
      auto device = CreateMemoryDevice(kDeviceBytes);
      EXPECT_TRUE(device.ok());
      scratch_ = std::move(device).value();
    }
    Device* device = scratch_.get();
    EXPECT_TRUE(device->Write(0, std::as_bytes(std::span(image_))).ok());
    format::Block bytes = ReadBlock(device, block);
    std::mt19937 random(seed);
    switch (kind) {
      case 0:  // one flipped byte
        bytes[random() % kBlockSize] ^= std::byte{0x5a};
        break;
      case 1:  // zeroed
        bytes.fill(std::byte{0});
        break;
      case 2: {  // another metadata block's contents
        auto other = std::next(metadata_.begin(), random() % metadata_.size());
        bytes = ReadBlock(device, *other == block ? (block + 1) % sb_.data_start : *other);
        break;
      }
      default: {  // garbage in the payload, checksum re-sealed
        format::BlockHeader header = format::DecodeHeader(bytes);
        for (int i = 0; i < 4; ++i) {
          const size_t at = format::kBlockHeaderSize + random() % (kBlockSize - 32);
          bytes[at] = static_cast<std::byte>(random());
        }
        format::SealBlock(bytes, header.kind, block, header.sequence);
      }
    }
    EXPECT_TRUE(format::WriteBlock(device, block, bytes).ok());
    return device;
  }

  struct Counts {
    uint64_t images = 0, ro_opens = 0, ro_refused = 0, rw_opens = 0, rw_refused = 0;
    uint64_t files_intact = 0, files_intact_dependent = 0, files_unreadable = 0;
    uint64_t repaired = 0, repair_changes = 0, repair_failed = 0, after_repair_intact = 0;
    uint64_t failures = 0;
  };

  void Fail(Counts& counts, const std::string& what) {
    ++counts.failures;
    if (counts.failures <= 20) ADD_FAILURE() << what;
  }

  // Reads every recorded file through a read-only open.
  void Walk(Device* device, uint64_t block, const std::string& label, Counts& counts) {
    auto fs = FileSystem::Open(device, ReadOnly());
    if (!fs.ok()) {
      ++counts.ro_refused;
      if (fs.status().message().empty()) Fail(counts, label + ": open refused with no message");
      return;
    }
    ++counts.ro_opens;
    (void)(*fs)->ReadDirectory(kRootInode);
    (void)(*fs)->LookupPath("/link");
    for (const RecordedFile& file : files_) {
      const bool dependent = file.depends_on.count(block) != 0;
      std::string out(file.bytes.size() + 1, '\0');
      Result<size_t> n = Status::Ok();
      auto found = (*fs)->LookupPath(file.path);
      if (found.ok()) {
        n = (*fs)->Read(found->ino, 0, std::as_writable_bytes(std::span(out)));
      }
      const Status status = !found.ok() ? found.status() : n.status();
      if (status.ok() && *n == file.bytes.size() && out.substr(0, *n) == file.bytes) {
        dependent ? ++counts.files_intact_dependent : ++counts.files_intact;
        continue;
      }
      if (!dependent) {
        Fail(counts, label + ": " + file.path + " does not depend on block " +
                         std::to_string(block) + " but " +
                         (status.ok() ? "read other bytes" : status.ToString()));
      } else if (status.ok()) {
        Fail(counts, label + ": " + file.path + " read other bytes, with no error");
      } else if (status.code() != Code::kCorruption && status.code() != Code::kNotFound) {
        Fail(counts, label + ": " + file.path + ": " + status.ToString());
      } else {
        ++counts.files_unreadable;
      }
    }
  }

  // --repair leaves an image fsck calls clean, a second run changes nothing,
  // and every file that did not depend on the damaged block reads back.
  void Repair(Device* device, uint64_t block, const std::string& label, Counts& counts) {
    Result<RepairReport> repair = RepairFileSystem(device);
    if (!repair.ok()) {
      ++counts.repair_failed;  // no superblock at all: nothing to repair
      return;
    }
    ++counts.repaired;
    counts.repair_changes += repair->changes.size();
    if (!repair->after.clean()) {
      const FsckProblem& p = repair->after.problems[0];
      Fail(counts, label + ": not clean after --repair: " + p.check + " at " + p.where + ": " +
                       p.message + " (" + std::to_string(repair->after.problems.size()) +
                       " problems)");
      return;
    }
    Result<RepairReport> again = RepairFileSystem(device);
    if (!again.ok() || !again->changes.empty()) {
      Fail(counts, label + ": a second --repair changed " +
                       (again.ok() ? again->changes.front() : again.status().ToString()));
    }
    auto fs = FileSystem::Open(device);
    if (!fs.ok()) {
      Fail(counts, label + ": writable open after --repair: " + fs.status().ToString());
      return;
    }
    for (const RecordedFile& file : files_) {
      if (file.depends_on.count(block) != 0) continue;
      std::string out(file.bytes.size() + 1, '\0');
      auto found = (*fs)->LookupPath(file.path);
      Result<size_t> n = found.ok()
                             ? (*fs)->Read(found->ino, 0, std::as_writable_bytes(std::span(out)))
                             : Result<size_t>(found.status());
      if (n.ok() && *n == file.bytes.size() && out.substr(0, *n) == file.bytes) {
        ++counts.after_repair_intact;
      } else {
        Fail(counts, label + ": " + file.path + " lost by --repair");
      }
    }
  }

  // A writable open refuses, or survives truncating and unlinking it all.
  void Mutate(Device* device, Counts& counts) {
    auto fs = FileSystem::Open(device);
    if (!fs.ok()) {
      ++counts.rw_refused;
      return;
    }
    ++counts.rw_opens;
    for (const RecordedFile& file : files_) {
      auto found = (*fs)->LookupPath(file.path);
      if (!found.ok()) continue;
      (void)(*fs)->Truncate(found->ino, 0);
      const size_t slash = file.path.rfind('/');
      auto parent = (*fs)->LookupPath(slash == 0 ? "/" : file.path.substr(0, slash));
      if (parent.ok()) (void)(*fs)->Unlink(parent->ino, file.path.substr(slash + 1));
    }
  }

  std::unique_ptr<Device> pristine_;
  std::unique_ptr<Device> scratch_;  // each damaged copy in turn
  std::vector<std::byte> image_;
  format::Superblock sb_;
  std::vector<RecordedFile> files_;
  std::set<uint64_t> metadata_;  // every metadata block: geometry + chains + directories
};

TEST_F(CorruptionSweep, EveryMetadataBlockDamagedEveryWay) {
  static const char* const kKinds[] = {"flip", "zero", "other block", "resealed garbage"};
  Counts counts;
  for (uint64_t block : metadata_) {
    for (int kind = 0; kind < 4; ++kind) {
      const std::string label = "block " + std::to_string(block) + " " + kKinds[kind];
      ++counts.images;
      Walk(Damaged(block, kind, static_cast<uint32_t>(block)), block, label, counts);
      Mutate(Damaged(block, kind, static_cast<uint32_t>(block)), counts);
      Repair(Damaged(block, kind, static_cast<uint32_t>(block)), block, label, counts);
    }
  }
  std::printf(
      "corruption sweep: %zu metadata blocks, %llu damaged images; read-only opens %llu "
      "(refused %llu); files intact %llu, intact although dependent %llu, unreadable with a "
      "corruption error %llu; writable opens %llu (refused %llu); --repair ran on %llu (%llu "
      "changes, %llu could not run), files intact after it %llu; failures %llu\n",
      metadata_.size(), (unsigned long long)counts.images, (unsigned long long)counts.ro_opens,
      (unsigned long long)counts.ro_refused, (unsigned long long)counts.files_intact,
      (unsigned long long)counts.files_intact_dependent,
      (unsigned long long)counts.files_unreadable, (unsigned long long)counts.rw_opens,
      (unsigned long long)counts.rw_refused, (unsigned long long)counts.repaired,
      (unsigned long long)counts.repair_changes, (unsigned long long)counts.repair_failed,
      (unsigned long long)counts.after_repair_intact, (unsigned long long)counts.failures);
  EXPECT_EQ(counts.failures, 0u);
}

}  // namespace
}  // namespace mdfs
