// The state fsck's passes share, and the passes themselves.
//
// CheckFileSystem (fsck.cc) runs the passes in the order declared below.
// Each pass reads what the earlier ones filled into the Context and adds
// problems to ctx.report; none of them writes the device. Every walk is
// bounded by the geometry (total_blocks, inode_count), so no corruption can
// make a pass loop or read out of range.
//
// Every metadata block is read through Context::ReadBlock, which returns the
// journal image of a block when the journal holds a valid transaction that
// targets it: the passes see the state journal recovery would produce.
#ifndef MDFS_SRC_FSCK_CHECKER_H_
#define MDFS_SRC_FSCK_CHECKER_H_

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/format.h"
#include "mdfs/device.h"
#include "mdfs/fsck.h"
#include "mdfs/status.h"

namespace mdfs::fsck {

// What the inode table pass learned about one inode number.
enum class InodeState : uint8_t {
  kUnreadable,  // its table block or the inode itself failed to decode (reported)
  kFree,
  kInUse,
};

// An in-use inode: its record, its block map, and what the directory pass
// found pointing at it.
struct InodeInfo {
  format::InodeRecord record;
  // The whole extent map in stored order (inline, or the chain's extents
  // concatenated). Possibly partial when the chain is broken (reported).
  std::vector<format::ExtentRecord> extents;
  // The extent block chain, in order (empty when the extents are inline).
  std::vector<uint64_t> extent_blocks;

  // Filled by CheckDirectories.
  uint32_t entries = 0;            // directory entries naming this inode
  uint64_t holder = 0;             // the directory holding the first such entry (0: none)
  std::vector<uint64_t> children;  // directories: the in-use inodes their entries name

  uint32_t type() const { return record.mode & S_IFMT; }
  bool is_directory() const { return type() == S_IFDIR; }
};

struct Context {
  Device* device = nullptr;
  format::Superblock sb;
  FsckReport report;

  // Journal images by target block (the last image wins, as in replay).
  std::unordered_map<uint64_t, format::Block> overlay;

  // The bitmap payloads of all bitmap blocks, concatenated: bit b of
  // `bitmap` is device block b. bitmap_known[i] is false when bitmap block
  // i failed to decode; its bits are then unknown (and left zero).
  std::vector<std::byte> bitmap;
  std::vector<bool> bitmap_known;

  // inode_states[ino] for ino in [1, inode_count]; index 0 is unused.
  std::vector<InodeState> inode_states;
  std::map<uint64_t, InodeInfo> inodes;  // in-use inodes only, by number
  // Some directory block could not be read or decoded (reported), so some
  // entries are unknown: link counts and reachability may be off.
  bool entries_incomplete = false;

  void Problem(std::string check, std::string where, std::string message);

  // Reads metadata block `block_number`: the journal image when there is
  // one, else the device. A read error is returned, not reported.
  Status ReadBlock(uint64_t block_number, format::Block& out) const;

  // Whether the bitmap marks `block_number` in use; nullopt when the bitmap
  // block covering it could not be decoded, or it is past total_blocks.
  std::optional<bool> MarkedUsed(uint64_t block_number) const;

  // True when some inode (1..inode_count) could not be read.
  bool AnyInodeUnreadable() const;
  // The state of inode `ino`; kUnreadable when it is out of range.
  InodeState StateOf(uint64_t ino) const;
  InodeInfo* Find(uint64_t ino);

  // True when [first, first + count) lies inside the data region.
  bool InDataRegion(uint64_t first, uint64_t count) const;
};

// Reports a block that failed to decode as `kind` at `block_number`:
// check "bad-block-header" when it is not that kind of block for that place
// (magic, version, kind or block number), "bad-checksum" when only its CRC32C
// is wrong, else `payload_check` (sound header, bad payload). `why` is the
// decoder's message; `where` names the block for the report.
void ReportBadBlock(Context& ctx, const format::Block& block, format::BlockKind kind,
                    uint64_t block_number, const Status& why, const std::string& payload_check,
                    const std::string& where);

// Groups block numbers added in increasing order into runs of consecutive
// blocks, and calls `report(first, count)` once per run, so that a range of
// bad blocks is one problem rather than thousands.
class RunReporter {
 public:
  explicit RunReporter(std::function<void(uint64_t first, uint64_t count)> report)
      : report_(std::move(report)) {}
  ~RunReporter() { Finish(); }
  void Add(uint64_t block_number);
  void Finish();

 private:
  std::function<void(uint64_t, uint64_t)> report_;
  uint64_t first_ = 0;
  uint64_t count_ = 0;
};

// "block 7" or "blocks 7-9".
std::string BlockRange(uint64_t first, uint64_t count);
// "regular file", "directory", "symlink", or "mode 0..." (octal) for anything else.
std::string TypeName(uint32_t type_bits);

// ------------------------------------------------------------ the passes
// Numbered as in doc/fsck.md §3, in the order CheckFileSystem runs them.
// 1. Decodes the primary superblock, or the backup when the primary is bad,
// into ctx.sb. Non-OK only when neither decodes (not mdfs, or corrupt).
Status CheckSuperblocks(Context& ctx);
// 2. Validates the journal transaction at journal_start, sets
// report.journal_state / journal_sequence, and fills ctx.overlay.
void CheckJournal(Context& ctx);
// 3. Loads every bitmap block into ctx.bitmap; checks the fixed regions and
// the tail past total_blocks are marked used.
void CheckBitmap(Context& ctx);
// 4. Decodes every inode table block and inode, and loads each in-use
// inode's extent map (walking its extent block chain).
void ScanInodes(Context& ctx);
// 5. Each extent map is sorted, non-overlapping and inside the largest
// file; each map agrees with its inode's type and size.
void CheckExtentMaps(Context& ctx);
// 6. Every referenced block is in the data region and owned once, the
// bitmap agrees with the owners, and the journal's data-region images land
// on directory or extent blocks. Sets blocks_in_use (blocks_free is set by
// CheckBitmap).
void CheckOwnership(Context& ctx);
// 7. Decodes every directory block and checks every entry; records the
// links into InodeInfo::entries / holder / children.
void CheckDirectories(Context& ctx);
// 8. Root, link counts, reachability from the root, directory cycles,
// and the inode statistics.
void CheckNamespace(Context& ctx);

}  // namespace mdfs::fsck

#endif  // MDFS_SRC_FSCK_CHECKER_H_
