// Fuzz target for whole images through the engine (issue 7): an input is a
// list of patches to the metadata blocks of a small populated image built
// once per process; the patched image goes through
//   fsck -> read-only Open + a walk of everything -> writable Open +
//   truncate and unlink of every file and directory -> fsck,
// and the target aborts on a crash, on UB (with sanitizers), or when the
// engine and fsck disagree:
//   * fsck calls the patched image clean but a writable open refuses it;
//   * a writable open of an image fsck called clean leaves one fsck does not.
//
// Input: patches, each
//   byte 0   which metadata block (index into the base image's list, mod)
//   byte 1   bit 0: re-seal the block's checksum afterwards (so mutations
//            reach the field checks); bits 1-2: 0 xor bytes, 1 overwrite
//            bytes, 2 zero the block, 3 copy another metadata block (byte 2)
//   byte 2-3 offset in the block (little-endian, mod 4096)
//   byte 4   n (mod 33), then n bytes
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "format/format.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/fsck.h"

namespace mdfs {
namespace {

constexpr uint64_t kImageBytes = 4 << 20;

void Require(bool condition, const std::string& what) {
  if (condition) return;
  std::fprintf(stderr, "image_fuzz: %s\n", what.c_str());
  std::abort();
}

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// What the inputs did, printed at exit (so a replay shows it exercised
// both opens and not only refusals).
struct Stats {
  uint64_t inputs = 0, fsck_clean = 0, ro_opened = 0, rw_opened = 0, rw_refused = 0;
  ~Stats() {
    std::fprintf(stderr,
                 "image_fuzz: %llu inputs: fsck clean %llu, read-only opens %llu, writable opens "
                 "%llu (refused %llu)\n",
                 (unsigned long long)inputs, (unsigned long long)fsck_clean,
                 (unsigned long long)ro_opened, (unsigned long long)rw_opened,
                 (unsigned long long)rw_refused);
  }
};
Stats stats;

struct Base {
  std::vector<std::byte> image;
  std::vector<uint64_t> metadata;  // geometry blocks, then chains and directories
  std::unique_ptr<Device> scratch;
};

void Populate(FileSystem& fs) {
  std::mt19937 random(7);
  auto file = [&](InodeNumber parent, const std::string& name, size_t size) {
    auto created = fs.Create(parent, name, S_IFREG | 0644);
    Require(created.ok(), "base: create " + name);
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    Require(fs.Write(created->ino, 0, Bytes(bytes)).ok(), "base: write " + name);
    return created->ino;
  };
  file(kRootInode, "a", 5000);
  auto dir = fs.Mkdir(kRootInode, "dir", 0755);
  Require(dir.ok(), "base: mkdir");
  file(dir->ino, "b", 100);
  auto sub = fs.Mkdir(dir->ino, "sub", 0755);
  Require(sub.ok(), "base: mkdir sub");
  for (int i = 0; i < 20; ++i) file(sub->ino, "f" + std::to_string(i) + std::string(120, 'n'), 50);
  InodeNumber fragmented = file(kRootInode, "fragmented", 40 * kBlockSize);
  for (uint64_t b = 1; b < 40; b += 2) {
    Require(fs.Fallocate(fragmented, kFallocatePunchHole | kFallocateKeepSize, b * kBlockSize,
                         kBlockSize)
                .ok(),
            "base: punch");
  }
  Require(fs.Symlink(kRootInode, "link", "dir/b").ok(), "base: symlink");
}

Base& TheBase() {
  static Base* base = [] {
    auto* b = new Base;
    auto device = CreateMemoryDevice(kImageBytes);
    Require(device.ok(), "base: memory device");
    FormatOptions options;
    options.journal_blocks = 32;
    Require(FileSystem::Format(device->get(), options).ok(), "base: format");
    {
      auto fs = FileSystem::Open(device->get());
      Require(fs.ok(), "base: open");
      Populate(**fs);
    }
    b->image.resize(kImageBytes);
    Require((*device)->Read(0, b->image).ok(), "base: read");
    // Metadata: every block whose header checks (geometry, chains, directories).
    for (uint64_t n = 0; n < kImageBytes / kBlockSize; ++n) {
      format::Block block;
      std::copy_n(b->image.begin() + n * kBlockSize, kBlockSize, block.begin());
      if (format::CheckBlock(block, format::DecodeHeader(block).kind, n).ok() || n < 2) {
        b->metadata.push_back(n);
      }
    }
    b->scratch = std::move(device).value();
    return b;
  }();
  return *base;
}

void ApplyPatches(Base& base, const uint8_t* data, size_t size) {
  Device* device = base.scratch.get();
  Require(device->Write(0, base.image).ok(), "scratch write");
  size_t at = 0;
  while (at + 5 <= size) {
    const uint64_t number = base.metadata[data[at] % base.metadata.size()];
    const uint8_t flags = data[at + 1];
    const size_t offset = (data[at + 2] | (data[at + 3] << 8)) % kBlockSize;
    const size_t n = std::min<size_t>(data[at + 4] % 33, size - at - 5);
    const uint8_t* bytes = data + at + 5;
    at += 5 + n;
    format::Block block;
    Require(format::ReadBlock(device, number, block).ok(), "scratch read");
    const format::BlockHeader header = format::DecodeHeader(block);
    switch ((flags >> 1) & 3) {
      case 0:
        for (size_t i = 0; i < n && offset + i < kBlockSize; ++i)
          block[offset + i] ^= std::byte{bytes[i]};
        break;
      case 1:
        for (size_t i = 0; i < n && offset + i < kBlockSize; ++i)
          block[offset + i] = std::byte{bytes[i]};
        break;
      case 2:
        block.fill(std::byte{0});
        break;
      default: {
        const uint64_t other = base.metadata[data[at - n - 3] % base.metadata.size()];
        Require(format::ReadBlock(device, other, block).ok(), "scratch read other");
      }
    }
    if (flags & 1) format::SealBlock(block, header.kind, number, header.sequence);
    Require(format::WriteBlock(device, number, block).ok(), "scratch write block");
  }
}

// Visits everything reachable, bounded (a damaged tree may have cycles).
void Walk(FileSystem& fs, InodeNumber dir, int depth, int& budget) {
  auto entries = fs.ReadDirectory(dir);
  if (!entries.ok()) return;
  for (const DirectoryEntry& entry : *entries) {
    if (--budget < 0) return;
    auto found = fs.Lookup(dir, entry.name);
    if (!found.ok()) continue;
    (void)fs.GetAttributes(found->ino);
    (void)fs.GetExtents(found->ino);
    if (S_ISLNK(found->mode)) (void)fs.ReadLink(found->ino);
    if (S_ISREG(found->mode)) {
      std::vector<std::byte> out(std::min<uint64_t>(found->size, 256 * 1024) + 1);
      (void)fs.Read(found->ino, 0, out);
    }
    if (S_ISDIR(found->mode) && depth < 16) Walk(fs, found->ino, depth + 1, budget);
  }
  (void)fs.Lookup(dir, "..");
}

// Empties the tree: truncates and unlinks files, removes directories.
void Empty(FileSystem& fs, InodeNumber dir, int depth, int& budget) {
  auto entries = fs.ReadDirectory(dir);
  if (!entries.ok()) return;
  for (const DirectoryEntry& entry : *entries) {
    if (--budget < 0) return;
    auto found = fs.Lookup(dir, entry.name);
    if (!found.ok()) continue;
    if (S_ISDIR(found->mode)) {
      if (depth < 16) Empty(fs, found->ino, depth + 1, budget);
      (void)fs.Rmdir(dir, entry.name);
    } else {
      if (S_ISREG(found->mode)) (void)fs.Truncate(found->ino, found->size / 3);
      (void)fs.Unlink(dir, entry.name);
    }
  }
}

bool FsckClean(Device* device, std::string* first) {
  Result<FsckReport> report = CheckFileSystem(device);
  if (!report.ok()) {
    *first = report.status().ToString();
    return false;
  }
  if (!report->problems.empty()) {
    *first = report->problems[0].check + " at " + report->problems[0].where + ": " +
             report->problems[0].message;
  }
  return report->problems.empty();
}

}  // namespace
}  // namespace mdfs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mdfs;
  Base& base = TheBase();
  ApplyPatches(base, data, size);
  Device* device = base.scratch.get();
  std::string problem;
  const bool clean_before = FsckClean(device, &problem);
  ++stats.inputs;
  stats.fsck_clean += clean_before;
  {
    OpenOptions read_only;
    read_only.read_only = true;
    auto fs = FileSystem::Open(device, read_only);
    int budget = 2000;
    stats.ro_opened += fs.ok();
    if (fs.ok()) Walk(**fs, kRootInode, 0, budget);
  }
  {
    auto fs = FileSystem::Open(device);
    if (clean_before) {
      Require(fs.ok(), "fsck calls the image clean but a writable open refuses it: " +
                           (fs.ok() ? std::string() : fs.status().ToString()));
    }
    stats.rw_opened += fs.ok();
    stats.rw_refused += !fs.ok();
    if (!fs.ok()) return 0;
    int budget = 2000;
    Empty(**fs, kRootInode, 0, budget);
  }
  if (clean_before) {
    Require(FsckClean(device, &problem),
            "an image fsck called clean is not clean after truncates and unlinks: " + problem);
  }
  return 0;
}
