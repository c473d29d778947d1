// The superblock (blocks 0 and 1): encoding and validated decoding.
#include <algorithm>
#include <string_view>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format {
namespace {

using internal::Hex;

// Superblock field offsets (see format.h). Written to disk: frozen.
constexpr size_t kUuidOffset = 32;
constexpr size_t kBlockSizeOffset = 48;
constexpr size_t kInodeSizeOffset = 52;
constexpr size_t kTotalBlocksOffset = 56;
constexpr size_t kJournalStartOffset = 64;
constexpr size_t kJournalBlocksOffset = 72;
constexpr size_t kInodeTableStartOffset = 80;
constexpr size_t kInodeTableBlocksOffset = 88;
constexpr size_t kInodeCountOffset = 96;
constexpr size_t kBitmapStartOffset = 104;
constexpr size_t kBitmapBlocksOffset = 112;
constexpr size_t kDataStartOffset = 120;
constexpr size_t kFeaturesCompatOffset = 128;
constexpr size_t kFeaturesRoCompatOffset = 136;
constexpr size_t kFeaturesIncompatOffset = 144;
constexpr size_t kRootInodeOffset = 152;
constexpr size_t kCreatedNsOffset = 160;
constexpr size_t kLabelOffset = 168;
constexpr size_t kLabelSize = 64;
constexpr size_t kLeaseBreakTimeOffset = 232;  // with kFeatureCompatLeaseBreakTime
constexpr size_t kReservedOffset = 240;
static_assert(kUuidOffset == kBlockHeaderSize);
static_assert(kUuidOffset + 16 == kBlockSizeOffset);
static_assert(kLabelOffset + kLabelSize == kLeaseBreakTimeOffset);
static_assert(kBlockSize - kReservedOffset == 3856);

// The 64-byte UTF-8 label, NUL-padded: at most 63 bytes, then zeros.
std::string_view LabelBytes(const Block& block) {
  const char* text = reinterpret_cast<const char*>(block.data() + kLabelOffset);
  return std::string_view(text, kLabelSize);
}

// The length of the UTF-8 sequence that starts with `lead`; 0 when `lead`
// cannot start one (a continuation byte, an overlong or out-of-range lead).
size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead < 0xE0) return 2;
  if (lead >= 0xE0 && lead < 0xF0) return 3;
  if (lead >= 0xF0 && lead < 0xF5) return 4;
  return 0;
}

// Structural UTF-8 check: enough to refuse garbage, not a full validator.
bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(static_cast<unsigned char>(text[i]));
    if (length == 0 || length > text.size() - i) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

Result<std::string> DecodeLabel(const Block& block, const std::string& where) {
  std::string_view raw = LabelBytes(block);
  const size_t length = raw.find('\0');
  if (length == std::string_view::npos) return Corruption(where + "label is not NUL-terminated");
  std::string_view padding = raw.substr(length);
  if (padding.find_first_not_of('\0') != std::string_view::npos) {
    return Corruption(where + "label padding is not zero");
  }
  if (!IsUtf8(raw.substr(0, length))) return Corruption(where + "label is not UTF-8");
  return std::string(raw.substr(0, length));
}

Superblock DecodeFields(const Block& block) {
  const std::byte* p = block.data();
  Superblock sb;
  std::transform(p + kUuidOffset, p + kUuidOffset + 16, sb.uuid.begin(),
                 [](std::byte b) { return std::to_integer<uint8_t>(b); });
  sb.block_size = DecodeFixed32(p + kBlockSizeOffset);
  sb.inode_size = DecodeFixed32(p + kInodeSizeOffset);
  sb.total_blocks = DecodeFixed64(p + kTotalBlocksOffset);
  sb.journal_start = DecodeFixed64(p + kJournalStartOffset);
  sb.journal_blocks = DecodeFixed64(p + kJournalBlocksOffset);
  sb.inode_table_start = DecodeFixed64(p + kInodeTableStartOffset);
  sb.inode_table_blocks = DecodeFixed64(p + kInodeTableBlocksOffset);
  sb.inode_count = DecodeFixed64(p + kInodeCountOffset);
  sb.bitmap_start = DecodeFixed64(p + kBitmapStartOffset);
  sb.bitmap_blocks = DecodeFixed64(p + kBitmapBlocksOffset);
  sb.data_start = DecodeFixed64(p + kDataStartOffset);
  sb.features_compat = DecodeFixed64(p + kFeaturesCompatOffset);
  sb.features_ro_compat = DecodeFixed64(p + kFeaturesRoCompatOffset);
  sb.features_incompat = DecodeFixed64(p + kFeaturesIncompatOffset);
  sb.root_inode = DecodeFixed64(p + kRootInodeOffset);
  sb.created_ns = static_cast<int64_t>(DecodeFixed64(p + kCreatedNsOffset));
  sb.lease_break_time_ms = DecodeFixed64(p + kLeaseBreakTimeOffset);
  return sb;
}

}  // namespace

void EncodeSuperblock(const Superblock& sb, uint64_t block_number, uint64_t sequence, Block& out) {
  assert(sb.label.size() < kLabelSize && sb.label.find('\0') == std::string::npos);
  out.fill(std::byte{0});
  std::byte* p = out.data();
  std::transform(sb.uuid.begin(), sb.uuid.end(), p + kUuidOffset,
                 [](uint8_t b) { return std::byte{b}; });
  EncodeFixed32(p + kBlockSizeOffset, sb.block_size);
  EncodeFixed32(p + kInodeSizeOffset, sb.inode_size);
  EncodeFixed64(p + kTotalBlocksOffset, sb.total_blocks);
  EncodeFixed64(p + kJournalStartOffset, sb.journal_start);
  EncodeFixed64(p + kJournalBlocksOffset, sb.journal_blocks);
  EncodeFixed64(p + kInodeTableStartOffset, sb.inode_table_start);
  EncodeFixed64(p + kInodeTableBlocksOffset, sb.inode_table_blocks);
  EncodeFixed64(p + kInodeCountOffset, sb.inode_count);
  EncodeFixed64(p + kBitmapStartOffset, sb.bitmap_start);
  EncodeFixed64(p + kBitmapBlocksOffset, sb.bitmap_blocks);
  EncodeFixed64(p + kDataStartOffset, sb.data_start);
  EncodeFixed64(p + kFeaturesCompatOffset, sb.features_compat);
  EncodeFixed64(p + kFeaturesRoCompatOffset, sb.features_ro_compat);
  EncodeFixed64(p + kFeaturesIncompatOffset, sb.features_incompat);
  EncodeFixed64(p + kRootInodeOffset, sb.root_inode);
  EncodeFixed64(p + kCreatedNsOffset, static_cast<uint64_t>(sb.created_ns));
  if (sb.features_compat & kFeatureCompatLeaseBreakTime) {
    EncodeFixed64(p + kLeaseBreakTimeOffset, sb.lease_break_time_ms);
  }
  const size_t label_size = std::min(sb.label.size(), kLabelSize - 1);
  std::transform(sb.label.begin(), sb.label.begin() + label_size, p + kLabelOffset,
                 [](char c) { return static_cast<std::byte>(c); });
  SealBlock(out, BlockKind::kSuperblock, block_number, sequence);
}

Result<Superblock> DecodeSuperblock(const Block& block, uint64_t block_number) {
  MDFS_RETURN_IF_ERROR(CheckBlock(block, BlockKind::kSuperblock, block_number).status());
  const std::string where = internal::BlockWhere(block_number, BlockKind::kSuperblock);
  Superblock sb = DecodeFields(block);
  // Checked before anything else: an incompatible feature may change the
  // meaning of every other field.
  const uint64_t unknown_incompat = sb.features_incompat & ~kKnownIncompatFeatures;
  if (unknown_incompat != 0) {
    return NotSupported(where + "unknown incompatible feature bits " + Hex(unknown_incompat));
  }
  if (!internal::AllZero(std::span<const std::byte>(block).subspan(kReservedOffset))) {
    return Corruption(where + "reserved bytes 240..4095 are not zero");
  }
  if (!(sb.features_compat & kFeatureCompatLeaseBreakTime)) {
    if (sb.lease_break_time_ms != 0) {
      return Corruption(where + "lease_break_time set without its feature bit (reserved bytes 232..239)");
    }
    sb.lease_break_time_ms = kDefaultLeaseBreakTimeMs;
  }
  if (sb.block_size != kBlockSize) {
    return Corruption(where + "block_size " + std::to_string(sb.block_size) + ", expected 4096");
  }
  if (sb.inode_size != kInodeSize) {
    return Corruption(where + "inode_size " + std::to_string(sb.inode_size) + ", expected 256");
  }
  if (sb.root_inode != kRootInode) {
    return Corruption(where + "root_inode " + std::to_string(sb.root_inode) + ", expected 1");
  }
  MDFS_ASSIGN_OR_RETURN(sb.label, DecodeLabel(block, where));
  MDFS_RETURN_IF_ERROR(internal::ValidateGeometry(sb, where));
  // Unknown compat and ro_compat bits are returned as they are: the caller
  // ignores the former and opens read-only for the latter.
  return sb;
}

}  // namespace mdfs::format
