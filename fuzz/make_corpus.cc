// Writes the seed corpus of decoders_fuzz.cc: one valid encoded structure per
// decoder, each file = selector byte + the block with its trailing zero bytes
// dropped (the fuzz target pads with zeros, so nothing is lost).
//
//   mdfs_fuzz_make_corpus fuzz/corpus/decoders
#include <cstdio>
#include <fstream>
#include <string>

#include "format/format.h"

namespace mdfs::format {
namespace {

constexpr uint8_t kReseal = 8;  // see the selector bits in decoders_fuzz.cc

bool WriteSeed(const std::string& dir, const char* name, uint8_t selector,
               std::span<const std::byte> block) {
  size_t length = block.size();
  while (length > 0 && block[length - 1] == std::byte{0}) --length;
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.put(static_cast<char>(selector));
  out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(length));
  return out.good();
}

Superblock SampleSuperblock() {
  Result<Superblock> sb = ComputeGeometry(256ull << 20, 16384, 0);
  Superblock out = sb.ok() ? *sb : Superblock{};
  for (size_t i = 0; i < out.uuid.size(); ++i) out.uuid[i] = static_cast<uint8_t>(17 * i + 3);
  out.created_ns = 1'700'000'000'000'000'000;
  out.label = "seed";
  return out;
}

InodeRecord SampleInode() {
  InodeRecord inode;
  inode.mode = 0100644;
  inode.nlink = 1;
  inode.generation = 3;
  inode.size = 5 * kBlockSize;
  inode.extent_count = 2;
  inode.inline_extents = {{0, 4096, 3, 0}, {3, 9000, 2, kExtentFlagUnwritten}};
  return inode;
}

bool WriteAll(const std::string& dir) {
  Block block{};
  bool ok = true;
  EncodeSuperblock(SampleSuperblock(), 0, 0, block);
  ok &= WriteSeed(dir, "superblock", 1 | kReseal, block);
  ok &= WriteSeed(dir, "checkblock", 0, block);
  block.fill(std::byte{0});
  EncodeInode(SampleInode(), std::span<std::byte, kInodeSize>(block.data(), kInodeSize));
  ok &= WriteSeed(dir, "inode", 2, std::span<const std::byte>(block).first(kInodeSize));
  ExtentBlock eb{0, {{10, 5000, 4, 0}, {20, 6000, 8, kExtentFlagUnwritten}, {40, 7000, 1, 0}}};
  EncodeExtentBlock(eb, 300, 5, block);
  ok &= WriteSeed(dir, "extent_block", 3 | kReseal, block);
  DirectoryBlock db{{{2, 4, "docs"}, {3, 8, "readme.txt"}, {4, 10, "link"}}};
  EncodeDirectoryBlock(db, 301, 5, block);
  ok &= WriteSeed(dir, "directory_block", 4 | kReseal, block);
  std::vector<std::byte> bits(kBitsPerBitmapBlock / 8);
  for (size_t i = 0; i < 40; ++i) bits[i] = std::byte{0xFF};
  EncodeBitmapBlock(bits, 2119, 0, block);
  ok &= WriteSeed(dir, "bitmap_block", 5 | kReseal, block);
  EncodeJournalDescriptor(JournalDescriptor{9, {1026, 2119, 300}, false}, 2, block);
  ok &= WriteSeed(dir, "journal_descriptor", 6 | kReseal, block);
  EncodeJournalCommit(JournalCommit{9, 4, 0x12345678, 3}, 6, block);
  ok &= WriteSeed(dir, "journal_commit", 7 | kReseal, block);
  return ok;
}

}  // namespace
}  // namespace mdfs::format

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  if (!mdfs::format::WriteAll(argv[1])) {
    std::fprintf(stderr, "%s: could not write the seeds into %s\n", argv[0], argv[1]);
    return 1;
  }
  return 0;
}
