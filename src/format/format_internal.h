// Helpers shared by the format codecs. Not part of the format API: other
// layers include format.h only.
#ifndef MDFS_SRC_FORMAT_FORMAT_INTERNAL_H_
#define MDFS_SRC_FORMAT_FORMAT_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "format/format.h"
#include "mdfs/status.h"

namespace mdfs::format::internal {

// Block header field offsets (see format.h). Written to disk: frozen.
inline constexpr size_t kHeaderMagicOffset = 0;
inline constexpr size_t kHeaderKindOffset = 4;
inline constexpr size_t kHeaderVersionOffset = 6;
inline constexpr size_t kHeaderCrcOffset = 8;
inline constexpr size_t kHeaderReservedOffset = 12;
inline constexpr size_t kHeaderBlockNumberOffset = 16;
inline constexpr size_t kHeaderSequenceOffset = 24;
static_assert(kHeaderSequenceOffset + 8 == kBlockHeaderSize);

// The largest device mdfs formats: 2^44 blocks of 4 KiB (64 PiB). Every
// device block number on disk is below it.
inline constexpr uint64_t kMaxTotalBlocks = uint64_t{1} << 44;
// The largest file, in blocks: every extent ends at or below it.
inline constexpr uint64_t kMaxFileBlocks = kMaxFileSize / kBlockSize;
static_assert(kMaxFileBlocks == uint64_t{1} << 32);
// The smallest device mdfs formats.
inline constexpr uint64_t kMinDeviceBytes = uint64_t{2} << 20;
inline constexpr uint64_t kMinTotalBlocks = kMinDeviceBytes / kBlockSize;  // 512
inline constexpr uint64_t kMinJournalBlocks = 16;

// File types as stored in an inode's mode and a directory entry's type.
// They are the Linux S_IF* values (checked in inode.cc): frozen on disk.
inline constexpr uint32_t kModeTypeMask = 0170000;
inline constexpr uint32_t kModeRegular = 0100000;
inline constexpr uint32_t kModeDirectory = 0040000;
inline constexpr uint32_t kModeSymlink = 0120000;
inline constexpr uint32_t kModePermissionMask = 07777;
// True for the three types an in-use inode may have.
bool IsKnownFileType(uint32_t type_bits);

// "0x0000002a" with `width` hex digits (at least), for messages.
std::string Hex(uint64_t value, int width = 1);
// "block 17 (extent block): " — the prefix of every block decoder's error.
std::string BlockWhere(uint64_t block_number, BlockKind kind);
bool AllZero(std::span<const std::byte> bytes);

// CRC32C of the block with the header's crc32c field taken as zero.
uint32_t ComputeBlockCrc(const Block& block);

// Extent records (24 bytes). Decoding reads the fields only; validation is
// separate so a decoder can name the extent.
void EncodeExtent(const ExtentRecord& extent, std::byte* out);
ExtentRecord DecodeExtent(const std::byte* in);
// Checks every extent (block_count >= 1, known flags, no overflow past the
// largest file or device) and that they are sorted by file_block without
// overlap. Returns kCorruption "<where>extent 3: block_count 0".
Status ValidateExtents(std::span<const ExtentRecord> extents, std::string_view where);

// The geometry rules of a superblock (regions in order, inside the device,
// counts consistent). kCorruption "<where>..." naming the first bad field.
Status ValidateGeometry(const Superblock& sb, std::string_view where);

}  // namespace mdfs::format::internal

#endif  // MDFS_SRC_FORMAT_FORMAT_INTERNAL_H_
