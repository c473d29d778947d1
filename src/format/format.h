// On-device format v1: the byte layout of every structure mdfs writes.
// The document is doc/format.md (byte tables, worked example, reasons);
// this header and that document must agree. Values written to the device
// are frozen: never renumber a kind, a flag or a field.
//
// Every metadata block is 4096 bytes and starts with a 32-byte BlockHeader:
//   OFFSET SIZE FIELD
//        0    4 magic          0x5346444D ("MDFS" read as little-endian bytes 4D 44 46 53)
//        4    2 kind           BlockKind
//        6    2 version        kFormatVersion (1)
//        8    4 crc32c         CRC32C of the whole 4096-byte block with this field zero
//       12    4 reserved       0
//       16    8 block_number   where this block belongs (catches misdirected writes)
//       24    8 sequence       journal sequence of the transaction that wrote it (0 = mkfs)
//
// Decoders never crash and never read out of bounds on arbitrary bytes:
// every Decode* returns kCorruption naming the field that is wrong.
#ifndef MDFS_SRC_FORMAT_FORMAT_H_
#define MDFS_SRC_FORMAT_FORMAT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs::format {

inline constexpr uint32_t kMagic = 0x5346444D;
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kBlockHeaderSize = 32;

using Block = std::array<std::byte, kBlockSize>;

// Written to disk: never renumber.
enum class BlockKind : uint16_t {
  kSuperblock = 1,
  kInodeTable = 2,
  kBitmap = 3,
  kExtentBlock = 4,
  kDirectoryBlock = 5,
  kJournalDescriptor = 6,
  kJournalCommit = 7,
};
const char* BlockKindName(BlockKind kind);

struct BlockHeader {
  uint32_t magic = kMagic;
  BlockKind kind = BlockKind::kSuperblock;
  uint16_t version = kFormatVersion;
  uint32_t crc32c = 0;
  uint64_t block_number = 0;
  uint64_t sequence = 0;
};

// Fills in the header of `block` (magic, kind, version, block_number,
// sequence) and then its crc32c. Call after the payload is encoded.
void SealBlock(Block& block, BlockKind kind, uint64_t block_number, uint64_t sequence);
// Decodes the header without any check (for fsck reporting).
BlockHeader DecodeHeader(const Block& block);
// Checks magic, version, kind, checksum and block number, in that order,
// and returns the header. kCorruption names the first check that failed:
// "block 17: bad magic 0x00000000 (not an mdfs metadata block)".
Result<BlockHeader> CheckBlock(const Block& block, BlockKind expected_kind,
                               uint64_t expected_block_number);

// ---------------------------------------------------------------- superblock
// Block 0, and a copy in block 1 with the same fields (its header names
// block 1, so the two differ in block_number and crc32c). Payload:
//   OFFSET SIZE FIELD
//       32   16 uuid
//       48    4 block_size             4096
//       52    4 inode_size             256
//       56    8 total_blocks
//       64    8 journal_start          first block of the journal region
//       72    8 journal_blocks
//       80    8 inode_table_start
//       88    8 inode_table_blocks
//       96    8 inode_count            == inode_table_blocks * 15
//      104    8 bitmap_start
//      112    8 bitmap_blocks          == ceil(total_blocks / 32512)
//      120    8 data_start             first block the allocator may hand out
//      128    8 features_compat        unknown bits: ignored
//      136    8 features_ro_compat     unknown bits: open read-only only
//      144    8 features_incompat      unknown bits: refuse to open
//      152    8 root_inode             1
//      160    8 created_ns             mkfs time, ns since the epoch
//      168   64 label                  NUL-padded UTF-8
//      232    8 lease_break_time_ms    with compat bit 0 (else 0: the default 45 s);
//                                      0 with the bit: never revoke
//      240 3856 reserved               0
inline constexpr uint64_t kSuperblockPrimary = 0;
inline constexpr uint64_t kSuperblockBackup = 1;
inline constexpr uint32_t kInodeSize = 256;
inline constexpr uint64_t kInodesPerBlock = 15;  // slot 0 of 16 holds the header
inline constexpr uint64_t kBitsPerBitmapBlock = (kBlockSize - kBlockHeaderSize) * 8;  // 32512
// compat bit 0: the superblock carries lease_break_time_ms (older readers
// may ignore it: they use the default).
inline constexpr uint64_t kFeatureCompatLeaseBreakTime = 1u << 0;
inline constexpr uint64_t kKnownCompatFeatures = kFeatureCompatLeaseBreakTime;
// ro_compat bit 0: inodes may carry kInodeFlagUnlinked (an open file whose
// last name was removed, freed at the next writable open). An older mdfs
// would reject such an inode and could not free it: read-only for it.
inline constexpr uint64_t kFeatureRoCompatUnlinkedInodes = 1u << 0;
inline constexpr uint64_t kKnownRoCompatFeatures = kFeatureRoCompatUnlinkedInodes;
inline constexpr uint64_t kKnownIncompatFeatures = 0;

struct Superblock {
  std::array<uint8_t, 16> uuid{};
  uint32_t block_size = kBlockSize;
  uint32_t inode_size = kInodeSize;
  uint64_t total_blocks = 0;
  uint64_t journal_start = 0;
  uint64_t journal_blocks = 0;
  uint64_t inode_table_start = 0;
  uint64_t inode_table_blocks = 0;
  uint64_t inode_count = 0;
  uint64_t bitmap_start = 0;
  uint64_t bitmap_blocks = 0;
  uint64_t data_start = 0;
  uint64_t features_compat = 0;
  uint64_t features_ro_compat = 0;
  uint64_t features_incompat = 0;
  uint64_t root_inode = kRootInode;
  int64_t created_ns = 0;
  std::string label;                                        // at most 63 bytes
  uint64_t lease_break_time_ms = kDefaultLeaseBreakTimeMs;  // 0: never revoke
};

void EncodeSuperblock(const Superblock& sb, uint64_t block_number, uint64_t sequence, Block& out);
// Checks the header (kind kSuperblock at `block_number`), then the geometry:
// regions in order and inside total_blocks, counts consistent, block_size
// 4096, inode_size 256, root_inode 1, unknown incompat features (kNotSupported).
Result<Superblock> DecodeSuperblock(const Block& block, uint64_t block_number);
// Geometry for a new file system on a device of `device_bytes`.
// kInvalidArgument when the device is too small (< 2 MiB) or too large.
Result<Superblock> ComputeGeometry(uint64_t device_bytes, uint64_t bytes_per_inode,
                                   uint64_t journal_blocks);

// ----------------------------------------------------------------- extents
// One extent, 24 bytes, in inodes (inline) and extent blocks:
//   OFFSET SIZE FIELD
//        0    8 file_block     file offset / 4096
//        8    8 device_block   device offset / 4096
//       16    4 block_count    >= 1
//       20    4 flags          bit 0: UNWRITTEN (allocated, reads as zeros)
inline constexpr size_t kExtentRecordSize = 24;
inline constexpr uint32_t kExtentFlagUnwritten = 1u << 0;
inline constexpr uint32_t kKnownExtentFlags = kExtentFlagUnwritten;

struct ExtentRecord {
  uint64_t file_block = 0;
  uint64_t device_block = 0;
  uint32_t block_count = 0;
  uint32_t flags = 0;
  bool unwritten() const { return (flags & kExtentFlagUnwritten) != 0; }
  bool operator==(const ExtentRecord&) const = default;
};

// ------------------------------------------------------------------- inodes
// Inode table block: header, 224 reserved bytes (the rest of slot 0), then
// inodes 15 per block in slots 1..15 at byte offset 256 * slot. Inode
// number `ino` (1-based) lives in block inode_table_start + (ino-1)/15,
// slot 1 + (ino-1)%15. A free inode has mode 0 (its generation is kept).
//   OFFSET SIZE FIELD
//        0    4 mode           st_mode; 0 = free
//        4    4 flags          bit 0: SEALED
//        8    4 uid
//       12    4 gid
//       16    8 size           bytes
//       24    4 nlink
//       28    4 generation
//       32    8 atime_ns       (signed)
//       40    8 mtime_ns
//       48    8 ctime_ns
//       56    8 btime_ns
//       64    8 parent         directories: parent directory inode (root: 1); others 0
//       72    8 extent_count   number of extents in the file's map
//       80    8 extent_block   0: the extents are inline; else first extent block
//       88    8 reserved       0
//       96  144 inline extents 6 x 24 bytes, used when extent_count <= 6
//      240   16 reserved       0
inline constexpr size_t kInlineExtents = 6;
inline constexpr uint32_t kKnownInodeFlags = kInodeFlagSealed | kInodeFlagUnlinked;

struct InodeRecord {
  uint32_t mode = 0;
  uint32_t flags = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint32_t nlink = 0;
  uint32_t generation = 0;
  int64_t atime_ns = 0, mtime_ns = 0, ctime_ns = 0, btime_ns = 0;
  uint64_t parent = 0;
  uint64_t extent_count = 0;
  uint64_t extent_block = 0;
  std::vector<ExtentRecord> inline_extents;  // size == extent_count when extent_count <= 6
  bool in_use() const { return mode != 0; }
};

// REQUIRES: inline_extents.size() <= kInlineExtents.
void EncodeInode(const InodeRecord& inode, std::span<std::byte, kInodeSize> out);
// Checks (doc/format.md lists them all): a free inode (mode 0) has nlink 0,
// no extents and zero inline slots; an in-use one a known type (S_IFREG,
// S_IFDIR, S_IFLNK), known flags, nlink <= 65000, size <= 2^44, the parent
// rules, symlink size 1..4095, inline extents consistent with extent_count /
// extent_block, sorted and non-overlapping, each with block_count >= 1 and
// known flags. Callers add the inode number: WithContext("inode 12").
Result<InodeRecord> DecodeInode(std::span<const std::byte, kInodeSize> in);
// The block (relative to inode_table_start) and byte offset of inode `ino`.
inline uint64_t InodeTableBlockIndex(uint64_t ino) { return (ino - 1) / kInodesPerBlock; }
inline size_t InodeByteOffset(uint64_t ino) {
  return kInodeSize * (1 + (ino - 1) % kInodesPerBlock);
}

// ------------------------------------------------------------- extent block
// A chain of extent blocks holds the map of a file with more than 6 extents.
//   OFFSET SIZE FIELD
//       32    8 next_block     next extent block of this file, 0 = last
//       40    4 count          extents in this block, 1..168
//       44    4 reserved       0
//       48 24*n extents        sorted by file_block
inline constexpr size_t kExtentsPerBlock = (kBlockSize - 48) / kExtentRecordSize;  // 168

struct ExtentBlock {
  uint64_t next_block = 0;
  std::vector<ExtentRecord> extents;
};
// REQUIRES: 1 <= extents.size() <= kExtentsPerBlock.
void EncodeExtentBlock(const ExtentBlock& eb, uint64_t block_number, uint64_t sequence, Block& out);
Result<ExtentBlock> DecodeExtentBlock(const Block& block, uint64_t block_number);

// ---------------------------------------------------------- directory block
// A directory's contents are directory blocks mapped by its extent map
// (written extents only). Entries are packed, not sorted, never split
// across blocks:
//   OFFSET SIZE FIELD
//       32    4 count          entries in this block
//       36    4 used_bytes     bytes of entries after offset 40
//       40    .. entries
// Entry:
//        0    8 ino
//        8    2 name_length    1..255
//       10    1 type           S_IFMT >> 12 (4 = dir, 8 = regular, 10 = symlink)
//       11    1 reserved       0
//       12    n name           no NUL, no '/', not "." or ".."
inline constexpr size_t kDirectoryEntriesOffset = 40;
inline constexpr size_t kDirectoryEntryHeaderSize = 12;
inline constexpr size_t kDirectoryBlockCapacity = kBlockSize - kDirectoryEntriesOffset;  // 4056

struct DirectoryRecord {
  uint64_t ino = 0;
  uint8_t type = 0;  // S_IFMT >> 12
  std::string name;
  size_t encoded_size() const { return kDirectoryEntryHeaderSize + name.size(); }
};
struct DirectoryBlock {
  std::vector<DirectoryRecord> entries;
};
// REQUIRES: the entries fit (sum of encoded_size() <= kDirectoryBlockCapacity).
void EncodeDirectoryBlock(const DirectoryBlock& db, uint64_t block_number, uint64_t sequence,
                          Block& out);
Result<DirectoryBlock> DecodeDirectoryBlock(const Block& block, uint64_t block_number);

// ------------------------------------------------------------------- bitmap
// Bitmap block i covers device blocks [i*32512, (i+1)*32512). Bit b of the
// payload (byte 32 + b/8, bit b%8, LSB first) is 1 when the block is in use.
// Bits past total_blocks are 1.
// `bits` holds 32512 bits as bytes (4064 bytes), LSB-first.
void EncodeBitmapBlock(std::span<const std::byte> bits, uint64_t block_number, uint64_t sequence,
                       Block& out);
// Returns the 4064 payload bytes.
Result<std::vector<std::byte>> DecodeBitmapBlock(const Block& block, uint64_t block_number);

// ------------------------------------------------------------------ journal
// The journal region holds at most one transaction, always starting at
// journal_start: descriptor, the images it lists, [descriptor, images]...,
// commit. Replay writes each image to its target block.
// Descriptor:
//   OFFSET SIZE FIELD
//       32    4 count          images that follow this descriptor, 1..507
//       36    4 flags          bit 0: another descriptor follows these images
//       40  8*n targets        device block of each image, in order
// Commit:
//       32    4 total_blocks   descriptors + images of the transaction
//       36    4 data_crc32c    CRC32C over all those blocks, in journal order
//       40    8 image_count
// Descriptor and commit carry the transaction's sequence in the header.
inline constexpr size_t kTargetsPerDescriptor = (kBlockSize - 40) / 8;  // 507
inline constexpr uint32_t kDescriptorFlagMore = 1u << 0;

struct JournalDescriptor {
  uint64_t sequence = 0;
  std::vector<uint64_t> targets;
  bool more = false;
};
struct JournalCommit {
  uint64_t sequence = 0;
  uint32_t total_blocks = 0;
  uint32_t data_crc32c = 0;
  uint64_t image_count = 0;
};
void EncodeJournalDescriptor(const JournalDescriptor& d, uint64_t block_number, Block& out);
Result<JournalDescriptor> DecodeJournalDescriptor(const Block& block, uint64_t block_number);
void EncodeJournalCommit(const JournalCommit& c, uint64_t block_number, Block& out);
Result<JournalCommit> DecodeJournalCommit(const Block& block, uint64_t block_number);

// ------------------------------------------------------------------- mkfs
// Writes a fresh file system: zeroes blocks 0-1 and flushes (so a crash
// mid-mkfs leaves no stale superblock), zeroes the whole journal region,
// writes the inode table (root directory, inode 1, empty) and the bitmap
// (every block before data_start in use), then the backup superblock, a
// Flush, the primary superblock last, and a final Flush.
Status WriteNewFileSystem(Device* device, const FormatOptions& options);

// Reads one block (kBlockSize bytes at block_number * kBlockSize).
Status ReadBlock(Device* device, uint64_t block_number, Block& out);
Status WriteBlock(Device* device, uint64_t block_number, const Block& block);

}  // namespace mdfs::format

#endif  // MDFS_SRC_FORMAT_FORMAT_H_
