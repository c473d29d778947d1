// Extent blocks: the chained overflow of a file's extent map.
#include <algorithm>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format {
namespace {

// Extent block field offsets (see format.h). Written to disk: frozen.
constexpr size_t kNextBlockOffset = 32;
constexpr size_t kCountOffset = 40;
constexpr size_t kReservedOffset = 44;
constexpr size_t kExtentsOffset = 48;
static_assert(kNextBlockOffset == kBlockHeaderSize);
static_assert(kExtentsOffset + kExtentsPerBlock * kExtentRecordSize <= kBlockSize);
static_assert(kExtentsPerBlock == 168);

}  // namespace

void EncodeExtentBlock(const ExtentBlock& eb, uint64_t block_number, uint64_t sequence,
                       Block& out) {
  assert(!eb.extents.empty() && eb.extents.size() <= kExtentsPerBlock);
  out.fill(std::byte{0});
  std::byte* p = out.data();
  const size_t count = std::min(eb.extents.size(), kExtentsPerBlock);
  EncodeFixed64(p + kNextBlockOffset, eb.next_block);
  EncodeFixed32(p + kCountOffset, static_cast<uint32_t>(count));
  for (size_t i = 0; i < count; ++i) {
    internal::EncodeExtent(eb.extents[i], p + kExtentsOffset + i * kExtentRecordSize);
  }
  SealBlock(out, BlockKind::kExtentBlock, block_number, sequence);
}

Result<ExtentBlock> DecodeExtentBlock(const Block& block, uint64_t block_number) {
  MDFS_RETURN_IF_ERROR(CheckBlock(block, BlockKind::kExtentBlock, block_number).status());
  const std::string where = internal::BlockWhere(block_number, BlockKind::kExtentBlock);
  const std::byte* p = block.data();
  ExtentBlock eb;
  eb.next_block = DecodeFixed64(p + kNextBlockOffset);
  const uint32_t count = DecodeFixed32(p + kCountOffset);
  if (count == 0 || count > kExtentsPerBlock) {
    return Corruption(where + "count " + std::to_string(count) + " outside 1..168");
  }
  if (DecodeFixed32(p + kReservedOffset) != 0) return Corruption(where + "reserved field not zero");
  if (eb.next_block == block_number || eb.next_block >= internal::kMaxTotalBlocks) {
    return Corruption(where + "next_block " + std::to_string(eb.next_block) +
                      (eb.next_block == block_number ? " points to itself" : " out of range"));
  }
  const size_t end = kExtentsOffset + count * kExtentRecordSize;
  if (!internal::AllZero(std::span<const std::byte>(block).subspan(end))) {
    return Corruption(where + "bytes after extent " + std::to_string(count - 1) + " are not zero");
  }
  eb.extents.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    eb.extents.push_back(internal::DecodeExtent(p + kExtentsOffset + i * kExtentRecordSize));
  }
  MDFS_RETURN_IF_ERROR(internal::ValidateExtents(eb.extents, where));
  return eb;
}

}  // namespace mdfs::format
