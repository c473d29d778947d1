// Pass 2: the journal. fsck validates the transaction in the journal region
// itself, from the format decoders (it does not call the journal layer, so a
// bug there cannot hide from it), with the rules replay uses:
//   * the region starts at journal_start with a descriptor; descriptors chain
//     with kDescriptorFlagMore, each followed by the images it lists; then a
//     commit block;
//   * every descriptor and the commit carry the same sequence;
//   * the commit's total_blocks and image_count match what was walked and its
//     data_crc32c is the CRC32C of the descriptor and image blocks in order.
// A valid transaction becomes the overlay every later pass reads through.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "fsck/checker.h"
#include "util/crc32c.h"

namespace mdfs::fsck {

namespace {

enum class Outcome { kEmpty, kTorn, kValid, kUnreadable };

struct Image {
  uint64_t target = 0;
  uint64_t journal_block = 0;
  format::Block data;
};

struct Scan {
  Outcome outcome = Outcome::kEmpty;
  uint64_t sequence = 0;
  std::vector<Image> images;  // kValid only
};

bool AllZero(const format::Block& block) {
  return std::all_of(block.begin(), block.end(), [](std::byte b) { return b == std::byte{0}; });
}

// Reads journal region block `index` from the device (never the overlay).
bool ReadRegion(Context& ctx, uint64_t index, format::Block& out) {
  const uint64_t block_number = ctx.sb.journal_start + index;
  Status status = format::ReadBlock(ctx.device, block_number, out);
  if (!status.ok()) {
    ctx.Problem("read-error", "block " + std::to_string(block_number),
                "journal: " + status.message());
  }
  return status.ok();
}

// How a walk over part of the region ended.
enum class Walk { kDone, kTorn, kUnreadable };

// Walks the descriptors and their images from region index 0, extending
// `crc` over them; on kDone `index` is the region index just past the last
// image.
Walk WalkDescriptors(Context& ctx, Scan& scan, uint64_t& index, uint32_t& crc) {
  const uint64_t size = ctx.sb.journal_blocks;
  format::Block block;
  // Every iteration consumes at least one region block: bounded by `size`.
  while (true) {
    if (index >= size) return Walk::kTorn;
    if (!ReadRegion(ctx, index, block)) return Walk::kUnreadable;
    auto descriptor = format::DecodeJournalDescriptor(block, ctx.sb.journal_start + index);
    if (!descriptor.ok() || descriptor->sequence != scan.sequence) return Walk::kTorn;
    crc = Crc32cExtend(crc, block);
    ++index;
    for (uint64_t target : descriptor->targets) {
      if (index >= size) return Walk::kTorn;
      Image image{target, ctx.sb.journal_start + index, {}};
      if (!ReadRegion(ctx, index, image.data)) return Walk::kUnreadable;
      crc = Crc32cExtend(crc, image.data);
      scan.images.push_back(std::move(image));
      ++index;
    }
    if (!descriptor->more) return Walk::kDone;
  }
}

// Reads the commit at region `index` and checks it against the walk.
Walk CheckCommit(Context& ctx, const Scan& scan, uint64_t index, uint32_t crc) {
  format::Block block;
  if (index >= ctx.sb.journal_blocks) return Walk::kTorn;
  if (!ReadRegion(ctx, index, block)) return Walk::kUnreadable;
  auto commit = format::DecodeJournalCommit(block, ctx.sb.journal_start + index);
  if (!commit.ok() || commit->sequence != scan.sequence || commit->total_blocks != index ||
      commit->image_count != scan.images.size() || commit->data_crc32c != crc) {
    return Walk::kTorn;
  }
  return Walk::kDone;
}

Scan ScanRegion(Context& ctx) {
  Scan scan;
  format::Block first;
  if (ctx.sb.journal_blocks == 0) return scan;
  if (!ReadRegion(ctx, 0, first)) return Scan{Outcome::kUnreadable, 0, {}};
  const format::BlockHeader header = format::DecodeHeader(first);
  // Not even the header of a descriptor: no transaction was ever started
  // here (or the region is unused).
  if (AllZero(first) || header.magic != format::kMagic ||
      header.kind != format::BlockKind::kJournalDescriptor) {
    return scan;
  }
  // The first descriptor's sequence, which every other block must repeat.
  scan.sequence = header.sequence;
  uint64_t index = 0;
  uint32_t crc = 0;
  Walk walk = WalkDescriptors(ctx, scan, index, crc);
  if (walk == Walk::kDone) walk = CheckCommit(ctx, scan, index, crc);
  switch (walk) {
    case Walk::kDone:
      scan.outcome = Outcome::kValid;
      return scan;
    case Walk::kUnreadable:
      return Scan{Outcome::kUnreadable, scan.sequence, {}};
    case Walk::kTorn:
      break;
  }
  return Scan{Outcome::kTorn, scan.sequence, {}};
}

bool InRegion(uint64_t block, uint64_t start, uint64_t count) {
  return block >= start && block - start < count;
}

// Replay may write only blocks that hold metadata: the superblocks, the
// inode table, the bitmap, or the data region (extent and directory
// blocks). Never the journal itself, nothing past the device.
void CheckTargets(Context& ctx, const Scan& scan) {
  const format::Superblock& sb = ctx.sb;
  for (size_t i = 0; i < scan.images.size(); ++i) {
    const uint64_t target = scan.images[i].target;
    const bool metadata = target <= format::kSuperblockBackup ||
                          InRegion(target, sb.inode_table_start, sb.inode_table_blocks) ||
                          InRegion(target, sb.bitmap_start, sb.bitmap_blocks) ||
                          (target >= sb.data_start && target < sb.total_blocks);
    if (InRegion(target, sb.journal_start, sb.journal_blocks) || !metadata) {
      ctx.Problem("journal-bad-target",
                  "journal block " + std::to_string(scan.images[i].journal_block),
                  "image " + std::to_string(i) + " of transaction " +
                      std::to_string(scan.sequence) + " targets block " + std::to_string(target) +
                      ", which is not a metadata block outside the journal");
    }
  }
}

bool NeedsReplay(Context& ctx, const Scan& scan) {
  format::Block home;
  for (const Image& image : scan.images) {
    if (image.target >= ctx.sb.total_blocks) continue;  // reported as a bad target
    if (!format::ReadBlock(ctx.device, image.target, home).ok() || home != image.data) return true;
  }
  return false;
}

// Builds the overlay from the images that replay could write, in journal
// order so that a later image of the same block wins, as in replay.
void BuildOverlay(Context& ctx, const Scan& scan) {
  const format::Superblock& sb = ctx.sb;
  for (const Image& image : scan.images) {
    if (image.target >= sb.total_blocks ||
        InRegion(image.target, sb.journal_start, sb.journal_blocks)) {
      continue;
    }
    ctx.overlay[image.target] = image.data;
  }
}

// A transaction that rewrites a superblock: check the image, and let the
// primary's image describe the file system from here on.
void ApplySuperblockImages(Context& ctx) {
  for (uint64_t block_number : {format::kSuperblockPrimary, format::kSuperblockBackup}) {
    auto it = ctx.overlay.find(block_number);
    if (it == ctx.overlay.end()) continue;
    Result<format::Superblock> sb = format::DecodeSuperblock(it->second, block_number);
    if (!sb.ok()) {
      ctx.Problem(
          "journal-bad-image", "block " + std::to_string(block_number),
          "the journal's image of the superblock does not decode: " + sb.status().message());
    } else if (block_number == format::kSuperblockPrimary) {
      ctx.sb = *sb;
      ctx.report.total_blocks = ctx.sb.total_blocks;
    }
  }
}

std::string TransactionText(const Scan& scan, const char* what) {
  return "transaction " + std::to_string(scan.sequence) + " (" +
         std::to_string(scan.images.size()) + " blocks) " + what;
}

}  // namespace

void CheckJournal(Context& ctx) {
  Scan scan = ScanRegion(ctx);
  ctx.report.journal_sequence = scan.sequence;
  switch (scan.outcome) {
    case Outcome::kEmpty:
      ctx.report.journal_state = "empty";
      return;
    case Outcome::kTorn:
      ctx.report.journal_state = "torn transaction discarded";
      return;
    case Outcome::kUnreadable:
      ctx.report.journal_state = "unreadable";
      return;
    case Outcome::kValid:
      break;
  }
  CheckTargets(ctx, scan);
  ctx.report.journal_state =
      TransactionText(scan, NeedsReplay(ctx, scan) ? "needs replay" : "already applied");
  BuildOverlay(ctx, scan);
  ApplySuperblockImages(ctx);
}

}  // namespace mdfs::fsck
