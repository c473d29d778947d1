// The common 32-byte block header: sealing, checking, and the small helpers
// every codec shares.
#include <cstdio>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace mdfs::format {

using internal::kHeaderBlockNumberOffset;
using internal::kHeaderCrcOffset;
using internal::kHeaderKindOffset;
using internal::kHeaderMagicOffset;
using internal::kHeaderReservedOffset;
using internal::kHeaderSequenceOffset;
using internal::kHeaderVersionOffset;

namespace {

bool IsKnownKind(BlockKind kind) {
  auto value = static_cast<uint16_t>(kind);
  return value >= static_cast<uint16_t>(BlockKind::kSuperblock) &&
         value <= static_cast<uint16_t>(BlockKind::kJournalCommit);
}

std::string KindText(BlockKind kind) {
  if (IsKnownKind(kind)) return BlockKindName(kind);
  return "unknown kind " + std::to_string(static_cast<uint16_t>(kind));
}

}  // namespace

const char* BlockKindName(BlockKind kind) {
  switch (kind) {
    case BlockKind::kSuperblock:
      return "superblock";
    case BlockKind::kInodeTable:
      return "inode table";
    case BlockKind::kBitmap:
      return "bitmap";
    case BlockKind::kExtentBlock:
      return "extent block";
    case BlockKind::kDirectoryBlock:
      return "directory block";
    case BlockKind::kJournalDescriptor:
      return "journal descriptor";
    case BlockKind::kJournalCommit:
      return "journal commit";
  }
  return "unknown";
}

namespace internal {

std::string Hex(uint64_t value, int width) {
  char text[32];
  std::snprintf(text, sizeof(text), "0x%0*llx", width, static_cast<unsigned long long>(value));
  return text;
}

std::string BlockWhere(uint64_t block_number, BlockKind kind) {
  return "block " + std::to_string(block_number) + " (" + BlockKindName(kind) + "): ";
}

bool AllZero(std::span<const std::byte> bytes) {
  for (std::byte b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

uint32_t ComputeBlockCrc(const Block& block) {
  constexpr std::array<std::byte, 4> kZeroCrc{};
  std::span<const std::byte> all(block);
  uint32_t crc = Crc32cExtend(0, all.first(kHeaderCrcOffset));
  crc = Crc32cExtend(crc, kZeroCrc);
  return Crc32cExtend(crc, all.subspan(kHeaderCrcOffset + kZeroCrc.size()));
}

}  // namespace internal

void SealBlock(Block& block, BlockKind kind, uint64_t block_number, uint64_t sequence) {
  std::byte* p = block.data();
  EncodeFixed32(p + kHeaderMagicOffset, kMagic);
  EncodeFixed16(p + kHeaderKindOffset, static_cast<uint16_t>(kind));
  EncodeFixed16(p + kHeaderVersionOffset, kFormatVersion);
  EncodeFixed32(p + kHeaderCrcOffset, 0);
  EncodeFixed32(p + kHeaderReservedOffset, 0);
  EncodeFixed64(p + kHeaderBlockNumberOffset, block_number);
  EncodeFixed64(p + kHeaderSequenceOffset, sequence);
  EncodeFixed32(p + kHeaderCrcOffset, internal::ComputeBlockCrc(block));
}

BlockHeader DecodeHeader(const Block& block) {
  const std::byte* p = block.data();
  BlockHeader header;
  header.magic = DecodeFixed32(p + kHeaderMagicOffset);
  header.kind = static_cast<BlockKind>(DecodeFixed16(p + kHeaderKindOffset));
  header.version = DecodeFixed16(p + kHeaderVersionOffset);
  header.crc32c = DecodeFixed32(p + kHeaderCrcOffset);
  header.block_number = DecodeFixed64(p + kHeaderBlockNumberOffset);
  header.sequence = DecodeFixed64(p + kHeaderSequenceOffset);
  return header;
}

Result<BlockHeader> CheckBlock(const Block& block, BlockKind expected_kind,
                               uint64_t expected_block_number) {
  using internal::Hex;
  const BlockHeader header = DecodeHeader(block);
  const std::string where = "block " + std::to_string(expected_block_number) + ": ";
  if (header.magic != kMagic) {
    return Corruption(where + "bad magic " + Hex(header.magic, 8) +
                      " (not an mdfs metadata block)");
  }
  if (header.version > kFormatVersion) {
    return NotSupported(where + "format version " + std::to_string(header.version) +
                        " is newer than this mdfs (" + std::to_string(kFormatVersion) + ")");
  }
  if (header.version != kFormatVersion) {
    return Corruption(where + "bad format version " + std::to_string(header.version));
  }
  if (header.kind != expected_kind) {
    return Corruption(where + "kind is " + KindText(header.kind) + ", expected " +
                      BlockKindName(expected_kind));
  }
  const uint32_t computed = internal::ComputeBlockCrc(block);
  if (header.crc32c != computed) {
    return Corruption(where + "checksum mismatch: stored " + Hex(header.crc32c, 8) + ", computed " +
                      Hex(computed, 8));
  }
  if (header.block_number != expected_block_number) {
    return Corruption(where + "header says block " + std::to_string(header.block_number) +
                      " (misdirected write)");
  }
  if (DecodeFixed32(block.data() + kHeaderReservedOffset) != 0) {
    return Corruption(where + "header reserved field is not zero");
  }
  return header;
}

}  // namespace mdfs::format
