// Pass 3: the allocation bitmap.
#include <algorithm>
#include <string>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

constexpr size_t kBitmapPayloadBytes = format::kBitsPerBitmapBlock / 8;  // 4064

void LoadBitmapBlock(Context& ctx, uint64_t index) {
  const uint64_t block_number = ctx.sb.bitmap_start + index;
  const std::string where =
      "block " + std::to_string(block_number) + " (bitmap block " + std::to_string(index) + ")";
  format::Block block;
  if (Status status = ctx.ReadBlock(block_number, block); !status.ok()) {
    ctx.Problem("read-error", where, status.message());
    return;
  }
  Result<std::vector<std::byte>> bits = format::DecodeBitmapBlock(block, block_number);
  if (!bits.ok()) {
    ReportBadBlock(ctx, block, format::BlockKind::kBitmap, block_number, bits.status(),
                   "bad-bitmap-block", where);
    return;
  }
  const size_t n = std::min(bits->size(), kBitmapPayloadBytes);
  std::copy_n(bits->begin(), n, ctx.bitmap.begin() + index * kBitmapPayloadBytes);
  ctx.bitmap_known[index] = true;
}

// Blocks before data_start (superblocks, journal, inode table, bitmap) are
// never handed out, so the bitmap must mark them in use.
void CheckFixedRegions(Context& ctx) {
  RunReporter free_runs([&ctx](uint64_t first, uint64_t count) {
    ctx.Problem("metadata-block-free", BlockRange(first, count),
                "a block before data_start (" + std::to_string(ctx.sb.data_start) +
                    ") is marked free in the bitmap");
  });
  for (uint64_t block = 0; block < ctx.sb.data_start && block < ctx.sb.total_blocks; ++block) {
    if (ctx.MarkedUsed(block) == false) free_runs.Add(block);
  }
}

// Bits past total_blocks describe no block; they are 1 so that the
// allocator never hands them out.
void CheckTail(Context& ctx) {
  if (ctx.sb.bitmap_blocks == 0 || !ctx.bitmap_known[ctx.sb.bitmap_blocks - 1]) return;
  const uint64_t end = ctx.sb.bitmap_blocks * format::kBitsPerBitmapBlock;
  RunReporter clear_runs([&ctx](uint64_t first, uint64_t count) {
    ctx.Problem("bitmap-tail-clear",
                "bitmap bits " + std::to_string(first) + "-" + std::to_string(first + count - 1),
                "bits past total_blocks (" + std::to_string(ctx.sb.total_blocks) + ") must be set");
  });
  for (uint64_t bit = ctx.sb.total_blocks; bit < end; ++bit) {
    if ((std::to_integer<unsigned>(ctx.bitmap[bit / 8]) >> (bit % 8) & 1u) == 0) {
      clear_runs.Add(bit);
    }
  }
}

void CountFree(Context& ctx) {
  uint64_t free_blocks = 0;
  for (uint64_t block = 0; block < ctx.sb.total_blocks; ++block) {
    if (ctx.MarkedUsed(block) == false) ++free_blocks;
  }
  ctx.report.blocks_free = free_blocks;
}

}  // namespace

void CheckBitmap(Context& ctx) {
  ctx.bitmap.assign(ctx.sb.bitmap_blocks * kBitmapPayloadBytes, std::byte{0});
  ctx.bitmap_known.assign(ctx.sb.bitmap_blocks, false);
  for (uint64_t index = 0; index < ctx.sb.bitmap_blocks; ++index) LoadBitmapBlock(ctx, index);
  CheckFixedRegions(ctx);
  CheckTail(ctx);
  CountFree(ctx);
}

}  // namespace mdfs::fsck
