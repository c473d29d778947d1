#include "fsck/checker.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>

#include "util/coding.h"
#include "util/crc32c.h"

namespace mdfs::fsck {

namespace {

constexpr size_t kHeaderCrcOffset = 8;  // format.h: BlockHeader.crc32c

// The block's CRC32C matches its header (computed with the field as zero).
bool ChecksumMatches(const format::Block& block) {
  format::Block copy = block;
  EncodeFixed32(copy.data() + kHeaderCrcOffset, 0);
  return Crc32c(copy) == DecodeFixed32(block.data() + kHeaderCrcOffset);
}

}  // namespace

void Context::Problem(std::string check, std::string where, std::string message) {
  report.problems.push_back({std::move(check), std::move(where), std::move(message)});
}

Status Context::ReadBlock(uint64_t block_number, format::Block& out) const {
  auto it = overlay.find(block_number);
  if (it != overlay.end()) {
    out = it->second;
    return Status::Ok();
  }
  return format::ReadBlock(device, block_number, out);
}

std::optional<bool> Context::MarkedUsed(uint64_t block_number) const {
  if (block_number >= sb.total_blocks) return std::nullopt;
  const uint64_t bitmap_block = block_number / format::kBitsPerBitmapBlock;
  if (bitmap_block >= bitmap_known.size() || !bitmap_known[bitmap_block]) return std::nullopt;
  const uint64_t byte = block_number / 8;
  if (byte >= bitmap.size()) return std::nullopt;
  return (std::to_integer<unsigned>(bitmap[byte]) >> (block_number % 8) & 1u) != 0;
}

bool Context::AnyInodeUnreadable() const {
  return std::find(inode_states.begin() + (inode_states.empty() ? 0 : 1), inode_states.end(),
                   InodeState::kUnreadable) != inode_states.end();
}

InodeState Context::StateOf(uint64_t ino) const {
  if (ino == 0 || ino >= inode_states.size()) return InodeState::kUnreadable;
  return inode_states[ino];
}

InodeInfo* Context::Find(uint64_t ino) {
  auto it = inodes.find(ino);
  return it == inodes.end() ? nullptr : &it->second;
}

bool Context::InDataRegion(uint64_t first, uint64_t count) const {
  return first >= sb.data_start && first < sb.total_blocks && count <= sb.total_blocks - first;
}

void ReportBadBlock(Context& ctx, const format::Block& block, format::BlockKind kind,
                    uint64_t block_number, const Status& why, const std::string& payload_check,
                    const std::string& where) {
  const format::BlockHeader header = format::DecodeHeader(block);
  std::string check;
  if (header.magic != format::kMagic || header.version != format::kFormatVersion ||
      header.kind != kind || header.block_number != block_number) {
    check = "bad-block-header";
  } else if (!ChecksumMatches(block)) {
    check = "bad-checksum";
  } else {
    check = payload_check;
  }
  ctx.Problem(std::move(check), where, why.message());
}

void RunReporter::Add(uint64_t block_number) {
  if (count_ != 0 && block_number == first_ + count_) {
    ++count_;
    return;
  }
  Finish();
  first_ = block_number;
  count_ = 1;
}

void RunReporter::Finish() {
  if (count_ != 0) report_(first_, count_);
  count_ = 0;
}

std::string BlockRange(uint64_t first, uint64_t count) {
  if (count == 1) return "block " + std::to_string(first);
  return "blocks " + std::to_string(first) + "-" + std::to_string(first + count - 1);
}

std::string TypeName(uint32_t type_bits) {
  switch (type_bits & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
  }
  char text[32];
  std::snprintf(text, sizeof(text), "mode 0%o", type_bits);
  return text;
}

}  // namespace mdfs::fsck
