// Journal descriptor and commit blocks.
#include <algorithm>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format {
namespace {

using internal::Hex;

// Descriptor field offsets (see format.h). Written to disk: frozen.
constexpr size_t kDescriptorCountOffset = 32;
constexpr size_t kDescriptorFlagsOffset = 36;
constexpr size_t kDescriptorTargetsOffset = 40;
static_assert(kDescriptorTargetsOffset + kTargetsPerDescriptor * 8 == kBlockSize);
static_assert(kTargetsPerDescriptor == 507);
constexpr uint32_t kKnownDescriptorFlags = kDescriptorFlagMore;

// Commit field offsets.
constexpr size_t kCommitTotalBlocksOffset = 32;
constexpr size_t kCommitDataCrcOffset = 36;
constexpr size_t kCommitImageCountOffset = 40;
constexpr size_t kCommitReservedOffset = 48;

// The descriptors + images counts of a commit must describe a transaction
// that the descriptor format can express.
Status CheckCommitCounts(const JournalCommit& c, const std::string& where) {
  if (c.image_count == 0 || c.image_count >= c.total_blocks) {
    return Corruption(where + "image_count " + std::to_string(c.image_count) +
                      " outside 1..total_blocks-1 (total_blocks " + std::to_string(c.total_blocks) +
                      ")");
  }
  const uint64_t descriptors = c.total_blocks - c.image_count;
  if (descriptors > c.image_count || descriptors * kTargetsPerDescriptor < c.image_count) {
    return Corruption(where + std::to_string(descriptors) + " descriptors cannot list " +
                      std::to_string(c.image_count) + " images");
  }
  return Status::Ok();
}

}  // namespace

void EncodeJournalDescriptor(const JournalDescriptor& d, uint64_t block_number, Block& out) {
  assert(!d.targets.empty() && d.targets.size() <= kTargetsPerDescriptor);
  out.fill(std::byte{0});
  std::byte* p = out.data();
  const size_t count = std::min(d.targets.size(), kTargetsPerDescriptor);
  EncodeFixed32(p + kDescriptorCountOffset, static_cast<uint32_t>(count));
  EncodeFixed32(p + kDescriptorFlagsOffset, d.more ? kDescriptorFlagMore : 0);
  for (size_t i = 0; i < count; ++i) {
    EncodeFixed64(p + kDescriptorTargetsOffset + 8 * i, d.targets[i]);
  }
  SealBlock(out, BlockKind::kJournalDescriptor, block_number, d.sequence);
}

Result<JournalDescriptor> DecodeJournalDescriptor(const Block& block, uint64_t block_number) {
  MDFS_ASSIGN_OR_RETURN(BlockHeader header,
                        CheckBlock(block, BlockKind::kJournalDescriptor, block_number));
  const std::string where = internal::BlockWhere(block_number, BlockKind::kJournalDescriptor);
  const std::byte* p = block.data();
  const uint32_t count = DecodeFixed32(p + kDescriptorCountOffset);
  const uint32_t flags = DecodeFixed32(p + kDescriptorFlagsOffset);
  if (count == 0 || count > kTargetsPerDescriptor) {
    return Corruption(where + "count " + std::to_string(count) + " outside 1..507");
  }
  if ((flags & ~kKnownDescriptorFlags) != 0) {
    return Corruption(where + "unknown flags " + Hex(flags & ~kKnownDescriptorFlags));
  }
  const size_t end = kDescriptorTargetsOffset + 8 * size_t{count};
  if (!internal::AllZero(std::span<const std::byte>(block).subspan(end))) {
    return Corruption(where + "unused target slots are not zero");
  }
  JournalDescriptor d;
  d.sequence = header.sequence;
  d.more = (flags & kDescriptorFlagMore) != 0;
  d.targets.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t target = DecodeFixed64(p + kDescriptorTargetsOffset + 8 * i);
    if (target >= internal::kMaxTotalBlocks) {
      return Corruption(where + "target " + std::to_string(i) + " is block " +
                        std::to_string(target) + ", past the largest device");
    }
    d.targets.push_back(target);
  }
  return d;
}

void EncodeJournalCommit(const JournalCommit& c, uint64_t block_number, Block& out) {
  out.fill(std::byte{0});
  std::byte* p = out.data();
  EncodeFixed32(p + kCommitTotalBlocksOffset, c.total_blocks);
  EncodeFixed32(p + kCommitDataCrcOffset, c.data_crc32c);
  EncodeFixed64(p + kCommitImageCountOffset, c.image_count);
  SealBlock(out, BlockKind::kJournalCommit, block_number, c.sequence);
}

Result<JournalCommit> DecodeJournalCommit(const Block& block, uint64_t block_number) {
  MDFS_ASSIGN_OR_RETURN(BlockHeader header,
                        CheckBlock(block, BlockKind::kJournalCommit, block_number));
  const std::string where = internal::BlockWhere(block_number, BlockKind::kJournalCommit);
  const std::byte* p = block.data();
  JournalCommit c;
  c.sequence = header.sequence;
  c.total_blocks = DecodeFixed32(p + kCommitTotalBlocksOffset);
  c.data_crc32c = DecodeFixed32(p + kCommitDataCrcOffset);
  c.image_count = DecodeFixed64(p + kCommitImageCountOffset);
  if (!internal::AllZero(std::span<const std::byte>(block).subspan(kCommitReservedOffset))) {
    return Corruption(where + "reserved bytes 48..4095 are not zero");
  }
  MDFS_RETURN_IF_ERROR(CheckCommitCounts(c, where));
  return c;
}

}  // namespace mdfs::format
