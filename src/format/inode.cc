// The 256-byte inode record: encoding and validated decoding.
#include <sys/stat.h>

#include <algorithm>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format {
namespace {

using internal::Hex;

// Inode field offsets (see format.h). Written to disk: frozen.
constexpr size_t kModeOffset = 0;
constexpr size_t kFlagsOffset = 4;
constexpr size_t kUidOffset = 8;
constexpr size_t kGidOffset = 12;
constexpr size_t kSizeOffset = 16;
constexpr size_t kNlinkOffset = 24;
constexpr size_t kGenerationOffset = 28;
constexpr size_t kAtimeOffset = 32;
constexpr size_t kMtimeOffset = 40;
constexpr size_t kCtimeOffset = 48;
constexpr size_t kBtimeOffset = 56;
constexpr size_t kParentOffset = 64;
constexpr size_t kExtentCountOffset = 72;
constexpr size_t kExtentBlockOffset = 80;
constexpr size_t kReserved1Offset = 88;
constexpr size_t kInlineExtentsOffset = 96;
constexpr size_t kReserved2Offset = 240;
static_assert(kInlineExtentsOffset + kInlineExtents * kExtentRecordSize == kReserved2Offset);
static_assert(kReserved2Offset + 16 == kInodeSize);
static_assert(kInodesPerBlock * kInodeSize + kInodeSize == kBlockSize);

// The on-disk type values are Linux's; if a platform differs, the constants
// in format_internal.h (not <sys/stat.h>) are what goes to disk.
static_assert(internal::kModeTypeMask == S_IFMT && internal::kModeRegular == S_IFREG &&
              internal::kModeDirectory == S_IFDIR && internal::kModeSymlink == S_IFLNK);

std::span<const std::byte> InlineArea(std::span<const std::byte, kInodeSize> in) {
  return in.subspan(kInlineExtentsOffset, kInlineExtents * kExtentRecordSize);
}

InodeRecord DecodeFields(std::span<const std::byte, kInodeSize> in) {
  const std::byte* p = in.data();
  InodeRecord inode;
  inode.mode = DecodeFixed32(p + kModeOffset);
  inode.flags = DecodeFixed32(p + kFlagsOffset);
  inode.uid = DecodeFixed32(p + kUidOffset);
  inode.gid = DecodeFixed32(p + kGidOffset);
  inode.size = DecodeFixed64(p + kSizeOffset);
  inode.nlink = DecodeFixed32(p + kNlinkOffset);
  inode.generation = DecodeFixed32(p + kGenerationOffset);
  inode.atime_ns = static_cast<int64_t>(DecodeFixed64(p + kAtimeOffset));
  inode.mtime_ns = static_cast<int64_t>(DecodeFixed64(p + kMtimeOffset));
  inode.ctime_ns = static_cast<int64_t>(DecodeFixed64(p + kCtimeOffset));
  inode.btime_ns = static_cast<int64_t>(DecodeFixed64(p + kBtimeOffset));
  inode.parent = DecodeFixed64(p + kParentOffset);
  inode.extent_count = DecodeFixed64(p + kExtentCountOffset);
  inode.extent_block = DecodeFixed64(p + kExtentBlockOffset);
  return inode;
}

// Type, permission bits, size, nlink and parent of an in-use inode.
Status CheckInUse(const InodeRecord& inode) {
  const uint32_t type = inode.mode & internal::kModeTypeMask;
  if (!internal::IsKnownFileType(type))
    return Corruption("inode: mode " + Hex(inode.mode) + " has an unknown file type");
  if ((inode.mode & ~(internal::kModeTypeMask | internal::kModePermissionMask)) != 0) {
    return Corruption("inode: mode " + Hex(inode.mode) + " has unknown bits");
  }
  if (inode.size > kMaxFileSize) {
    return Corruption("inode: size " + std::to_string(inode.size) + " > 2^44");
  }
  if (type == internal::kModeSymlink && (inode.size == 0 || inode.size > kMaxSymlinkLength)) {
    return Corruption("inode: symlink size " + std::to_string(inode.size) + " outside 1..4095");
  }
  if (inode.nlink > kMaxLinkCount) {
    return Corruption("inode: nlink " + std::to_string(inode.nlink) + " > 65000");
  }
  const bool directory = type == internal::kModeDirectory;
  if (directory != (inode.parent != 0)) {
    return Corruption("inode: parent " + std::to_string(inode.parent) +
                      (directory ? " (a directory needs one)" : " (only directories have one)"));
  }
  return Status::Ok();
}

// A free inode keeps its generation (and nothing of the map).
Status CheckFree(const InodeRecord& inode) {
  if (inode.nlink != 0) {
    return Corruption("inode: free (mode 0) with nlink " + std::to_string(inode.nlink));
  }
  if (inode.extent_count != 0 || inode.extent_block != 0) {
    return Corruption("inode: free (mode 0) with extent_count " +
                      std::to_string(inode.extent_count) + ", extent_block " +
                      std::to_string(inode.extent_block));
  }
  return Status::Ok();
}

// Fills inode.inline_extents. extent_block == 0 exactly when the map is
// inline (extent_count <= 6); unused inline slots are zero.
Status DecodeExtentMap(std::span<const std::byte, kInodeSize> in, InodeRecord& inode) {
  const bool inline_map = inode.extent_block == 0;
  if (inline_map && inode.extent_count > kInlineExtents) {
    return Corruption("inode: extent_count " + std::to_string(inode.extent_count) +
                      " > 6 with no extent_block");
  }
  if (!inline_map && inode.extent_count <= kInlineExtents) {
    return Corruption("inode: extent_count " + std::to_string(inode.extent_count) +
                      " <= 6 with extent_block " + std::to_string(inode.extent_block));
  }
  if (!inline_map && (inode.extent_count > internal::kMaxFileBlocks ||
                      inode.extent_block >= internal::kMaxTotalBlocks)) {
    return Corruption("inode: extent_count " + std::to_string(inode.extent_count) +
                      " or extent_block " + std::to_string(inode.extent_block) + " out of range");
  }
  const size_t used = inline_map ? inode.extent_count : 0;
  for (size_t i = 0; i < used; ++i) {
    inode.inline_extents.push_back(
        internal::DecodeExtent(InlineArea(in).data() + i * kExtentRecordSize));
  }
  if (!internal::AllZero(InlineArea(in).subspan(used * kExtentRecordSize))) {
    return Corruption("inode: unused inline extent slots are not zero");
  }
  return internal::ValidateExtents(inode.inline_extents, "inode: ");
}

}  // namespace

void EncodeInode(const InodeRecord& inode, std::span<std::byte, kInodeSize> out) {
  assert(inode.inline_extents.size() <= kInlineExtents);
  std::fill(out.begin(), out.end(), std::byte{0});
  std::byte* p = out.data();
  EncodeFixed32(p + kModeOffset, inode.mode);
  EncodeFixed32(p + kFlagsOffset, inode.flags);
  EncodeFixed32(p + kUidOffset, inode.uid);
  EncodeFixed32(p + kGidOffset, inode.gid);
  EncodeFixed64(p + kSizeOffset, inode.size);
  EncodeFixed32(p + kNlinkOffset, inode.nlink);
  EncodeFixed32(p + kGenerationOffset, inode.generation);
  EncodeFixed64(p + kAtimeOffset, static_cast<uint64_t>(inode.atime_ns));
  EncodeFixed64(p + kMtimeOffset, static_cast<uint64_t>(inode.mtime_ns));
  EncodeFixed64(p + kCtimeOffset, static_cast<uint64_t>(inode.ctime_ns));
  EncodeFixed64(p + kBtimeOffset, static_cast<uint64_t>(inode.btime_ns));
  EncodeFixed64(p + kParentOffset, inode.parent);
  EncodeFixed64(p + kExtentCountOffset, inode.extent_count);
  EncodeFixed64(p + kExtentBlockOffset, inode.extent_block);
  const size_t count = std::min(inode.inline_extents.size(), kInlineExtents);
  for (size_t i = 0; i < count; ++i) {
    internal::EncodeExtent(inode.inline_extents[i],
                           p + kInlineExtentsOffset + i * kExtentRecordSize);
  }
}

Result<InodeRecord> DecodeInode(std::span<const std::byte, kInodeSize> in) {
  InodeRecord inode = DecodeFields(in);
  if (DecodeFixed64(in.data() + kReserved1Offset) != 0 ||
      !internal::AllZero(in.subspan(kReserved2Offset))) {
    return Corruption("inode: reserved bytes are not zero");
  }
  if ((inode.flags & ~kKnownInodeFlags) != 0) {
    return Corruption("inode: unknown flags " + Hex(inode.flags & ~kKnownInodeFlags));
  }
  MDFS_RETURN_IF_ERROR(inode.in_use() ? CheckInUse(inode) : CheckFree(inode));
  MDFS_RETURN_IF_ERROR(DecodeExtentMap(in, inode));
  return inode;
}

namespace internal {

bool IsKnownFileType(uint32_t type_bits) {
  return type_bits == kModeRegular || type_bits == kModeDirectory || type_bits == kModeSymlink;
}

}  // namespace internal

}  // namespace mdfs::format
