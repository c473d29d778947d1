// The 24-byte extent record shared by inodes and extent blocks.
#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format::internal {
namespace {

// Extent record field offsets (see format.h). Written to disk: frozen.
constexpr size_t kFileBlockOffset = 0;
constexpr size_t kDeviceBlockOffset = 8;
constexpr size_t kBlockCountOffset = 16;
constexpr size_t kFlagsOffset = 20;
static_assert(kFlagsOffset + 4 == kExtentRecordSize);

Status ValidateOne(const ExtentRecord& e, const std::string& where) {
  if (e.block_count == 0) return Corruption(where + "block_count 0");
  if ((e.flags & ~kKnownExtentFlags) != 0) {
    return Corruption(where + "unknown flags " + Hex(e.flags & ~kKnownExtentFlags));
  }
  if (e.file_block > kMaxFileBlocks || e.block_count > kMaxFileBlocks - e.file_block) {
    return Corruption(where + "file_block " + std::to_string(e.file_block) + " + block_count " +
                      std::to_string(e.block_count) + " passes the largest file (2^32 blocks)");
  }
  if (e.device_block > kMaxTotalBlocks || e.block_count > kMaxTotalBlocks - e.device_block) {
    return Corruption(where + "device_block " + std::to_string(e.device_block) + " + block_count " +
                      std::to_string(e.block_count) + " passes the largest device (2^44 blocks)");
  }
  return Status::Ok();
}

}  // namespace

void EncodeExtent(const ExtentRecord& extent, std::byte* out) {
  EncodeFixed64(out + kFileBlockOffset, extent.file_block);
  EncodeFixed64(out + kDeviceBlockOffset, extent.device_block);
  EncodeFixed32(out + kBlockCountOffset, extent.block_count);
  EncodeFixed32(out + kFlagsOffset, extent.flags);
}

ExtentRecord DecodeExtent(const std::byte* in) {
  ExtentRecord extent;
  extent.file_block = DecodeFixed64(in + kFileBlockOffset);
  extent.device_block = DecodeFixed64(in + kDeviceBlockOffset);
  extent.block_count = DecodeFixed32(in + kBlockCountOffset);
  extent.flags = DecodeFixed32(in + kFlagsOffset);
  return extent;
}

Status ValidateExtents(std::span<const ExtentRecord> extents, std::string_view where) {
  for (size_t i = 0; i < extents.size(); ++i) {
    const std::string extent_where = std::string(where) + "extent " + std::to_string(i) + ": ";
    MDFS_RETURN_IF_ERROR(ValidateOne(extents[i], extent_where));
    if (i == 0) continue;
    const ExtentRecord& previous = extents[i - 1];
    // ValidateOne bounded both ends below 2^32, so the sum cannot overflow.
    if (extents[i].file_block < previous.file_block + previous.block_count) {
      return Corruption(extent_where + "file_block " + std::to_string(extents[i].file_block) +
                        " overlaps or precedes extent " + std::to_string(i - 1) +
                        " (not sorted by file_block)");
    }
  }
  return Status::Ok();
}

}  // namespace mdfs::format::internal
