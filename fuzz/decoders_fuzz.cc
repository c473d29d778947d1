// Fuzz target for every on-device decoder (src/format).
//
// Input: byte 0 selects what to do, the rest is one 4096-byte block
// (zero-padded or truncated).
//   selector % 8   decoder: 0 CheckBlock, 1 superblock, 2 inode (first 256
//                  bytes), 3 extent block, 4 directory block, 5 bitmap block,
//                  6 journal descriptor, 7 journal commit
//   selector & 8   recompute the block's crc32c first, so mutations reach
//                  the field checks instead of stopping at the checksum
//   selector & 16  expect a block number other than the header's
//
// Besides "no crash, no UB", every decode that succeeds must re-encode to
// exactly the same bytes: a decoder that accepts a block must have checked
// every byte of it (reserved fields, padding, unused slots).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format {
namespace {

void Require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "decoders_fuzz: %s\n", what);
  std::abort();
}

void RequireSameBlock(const Block& original, const Block& encoded, const char* what) {
  Require(std::memcmp(original.data(), encoded.data(), kBlockSize) == 0, what);
}

void FuzzSuperblock(const Block& block, uint64_t number, uint64_t sequence) {
  Result<Superblock> sb = DecodeSuperblock(block, number);
  if (!sb.ok()) return;
  Block again;
  EncodeSuperblock(*sb, number, sequence, again);
  RequireSameBlock(block, again, "superblock does not re-encode to the same bytes");
}

void FuzzInode(const Block& block) {
  std::span<const std::byte, kInodeSize> in(block.data(), kInodeSize);
  Result<InodeRecord> inode = DecodeInode(in);
  if (!inode.ok()) return;
  Require(inode->inline_extents.size() <= kInlineExtents, "too many inline extents");
  std::array<std::byte, kInodeSize> again;
  EncodeInode(*inode, again);
  Require(std::memcmp(again.data(), in.data(), kInodeSize) == 0,
          "inode does not re-encode to the same bytes");
}

void FuzzExtentBlock(const Block& block, uint64_t number, uint64_t sequence) {
  Result<ExtentBlock> eb = DecodeExtentBlock(block, number);
  if (!eb.ok()) return;
  Require(!eb->extents.empty() && eb->extents.size() <= kExtentsPerBlock, "extent count");
  Block again;
  EncodeExtentBlock(*eb, number, sequence, again);
  RequireSameBlock(block, again, "extent block does not re-encode to the same bytes");
}

void FuzzDirectoryBlock(const Block& block, uint64_t number, uint64_t sequence) {
  Result<DirectoryBlock> db = DecodeDirectoryBlock(block, number);
  if (!db.ok()) return;
  size_t used = 0;
  for (const DirectoryRecord& record : db->entries) used += record.encoded_size();
  Require(used <= kDirectoryBlockCapacity, "directory entries overflow the block");
  Block again;
  EncodeDirectoryBlock(*db, number, sequence, again);
  RequireSameBlock(block, again, "directory block does not re-encode to the same bytes");
}

void FuzzBitmapBlock(const Block& block, uint64_t number, uint64_t sequence) {
  Result<std::vector<std::byte>> bits = DecodeBitmapBlock(block, number);
  if (!bits.ok()) return;
  Require(bits->size() == kBitsPerBitmapBlock / 8, "bitmap payload size");
  Block again;
  EncodeBitmapBlock(*bits, number, sequence, again);
  RequireSameBlock(block, again, "bitmap block does not re-encode to the same bytes");
}

void FuzzDescriptor(const Block& block, uint64_t number) {
  Result<JournalDescriptor> d = DecodeJournalDescriptor(block, number);
  if (!d.ok()) return;
  Require(!d->targets.empty() && d->targets.size() <= kTargetsPerDescriptor, "target count");
  Block again;
  EncodeJournalDescriptor(*d, number, again);
  RequireSameBlock(block, again, "descriptor does not re-encode to the same bytes");
}

void FuzzCommit(const Block& block, uint64_t number) {
  Result<JournalCommit> c = DecodeJournalCommit(block, number);
  if (!c.ok()) return;
  Block again;
  EncodeJournalCommit(*c, number, again);
  RequireSameBlock(block, again, "commit does not re-encode to the same bytes");
}

void FuzzCheckBlock(const Block& block, const BlockHeader& header, uint64_t number) {
  Result<BlockHeader> checked = CheckBlock(block, header.kind, number);
  if (!checked.ok()) return;
  Require(checked->block_number == number && checked->magic == kMagic, "CheckBlock result");
  Require(internal::ComputeBlockCrc(block) == checked->crc32c, "CheckBlock accepted a bad crc");
}

}  // namespace
}  // namespace mdfs::format

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mdfs::format;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  Block block{};
  std::memcpy(block.data(), data + 1, std::min<size_t>(size - 1, block.size()));
  if ((selector & 8) != 0) {
    mdfs::EncodeFixed32(block.data() + internal::kHeaderCrcOffset,
                        internal::ComputeBlockCrc(block));
  }
  const BlockHeader header = DecodeHeader(block);
  const uint64_t number = (selector & 16) != 0 ? header.block_number ^ 1 : header.block_number;
  switch (selector % 8) {
    case 0:
      FuzzCheckBlock(block, header, number);
      break;
    case 1:
      FuzzSuperblock(block, number, header.sequence);
      break;
    case 2:
      FuzzInode(block);
      break;
    case 3:
      FuzzExtentBlock(block, number, header.sequence);
      break;
    case 4:
      FuzzDirectoryBlock(block, number, header.sequence);
      break;
    case 5:
      FuzzBitmapBlock(block, number, header.sequence);
      break;
    case 6:
      FuzzDescriptor(block, number);
      break;
    case 7:
      FuzzCommit(block, number);
      break;
  }
  return 0;
}
