// Bitmap blocks: one bit per device block, 32512 blocks per bitmap block.
#include <algorithm>

#include "format/format.h"
#include "format/format_internal.h"

namespace mdfs::format {
namespace {

constexpr size_t kBitsOffset = kBlockHeaderSize;
constexpr size_t kBitsBytes = kBlockSize - kBitsOffset;
static_assert(kBitsBytes * 8 == kBitsPerBitmapBlock && kBitsPerBitmapBlock == 32512);

}  // namespace

void EncodeBitmapBlock(std::span<const std::byte> bits, uint64_t block_number, uint64_t sequence,
                       Block& out) {
  assert(bits.size() <= kBitsBytes);
  out.fill(std::byte{0});
  const size_t size = std::min(bits.size(), kBitsBytes);
  std::copy_n(bits.begin(), size, out.begin() + kBitsOffset);
  SealBlock(out, BlockKind::kBitmap, block_number, sequence);
}

Result<std::vector<std::byte>> DecodeBitmapBlock(const Block& block, uint64_t block_number) {
  MDFS_RETURN_IF_ERROR(CheckBlock(block, BlockKind::kBitmap, block_number).status());
  // Every payload bit is meaningful; the bits past total_blocks (which must
  // be 1) are checked by the caller, which knows total_blocks.
  return std::vector<std::byte>(block.begin() + kBitsOffset, block.end());
}

}  // namespace mdfs::format
