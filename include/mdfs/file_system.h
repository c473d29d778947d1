// The engine API: an mdfs file system on a Device, in-process.
//
// Durability (see doc/durability.md):
//   * Every operation that changes metadata (create, mkdir, link, symlink,
//     unlink, rmdir, rename, setattr, truncate, fallocate, a write that
//     allocates, converts unwritten blocks or extends the size) is atomic and
//     durable when it returns OK: it is one journal transaction, committed
//     and flushed before the call returns.
//   * Data written by such a write is durable with it (data is flushed
//     before the transaction commits: ordered mode).
//   * A write that only overwrites already-written blocks inside the file
//     size changes no metadata; its bytes (and the new mtime) are durable
//     after Fsync() of the file, or after any later metadata transaction.
//
// Errors: a Status whose Code maps to POSIX errno (Status::ToErrno). An I/O
// error while committing metadata shuts the file system down (every later
// call fails with kShutdown); reopening the device recovers it from the
// journal. Nothing that was durable is lost.
//
// Thread-safety: all methods may be called concurrently; operations that
// change metadata are serialized, reads run in parallel.
#ifndef MDFS_INCLUDE_MDFS_FILE_SYSTEM_H_
#define MDFS_INCLUDE_MDFS_FILE_SYSTEM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mdfs/clock.h"
#include "mdfs/device.h"
#include "mdfs/status.h"

namespace mdfs {

using InodeNumber = uint64_t;
inline constexpr InodeNumber kRootInode = 1;
inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kMaxNameLength = 255;
inline constexpr uint32_t kMaxSymlinkLength = 4095;
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 44;  // 16 TiB
inline constexpr uint32_t kMaxLinkCount = 65000;

struct Timestamp {
  int64_t ns = 0;  // nanoseconds since the Unix epoch
};

// Inode flags, as stored on the device (see doc/format.md). Never renumber.
inline constexpr uint32_t kInodeFlagSealed = 1u << 0;
// The file's last name was removed while it was open: nlink 0, named by no
// directory, freed at its last close or, after a crash, at the next
// writable open.
inline constexpr uint32_t kInodeFlagUnlinked = 1u << 1;

struct Attributes {
  InodeNumber ino = 0;
  uint32_t mode = 0;         // st_mode: S_IFMT type bits | permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;         // bytes
  uint32_t nlink = 0;
  uint32_t generation = 0;   // changes each time the inode number is reused
  uint64_t allocated_blocks = 0;  // 4 KiB blocks of data mapped (written or unwritten)
  uint32_t flags = 0;        // kInodeFlag*
  Timestamp atime, mtime, ctime, btime;
};

struct DirectoryEntry {
  std::string name;
  InodeNumber ino = 0;
  uint32_t type = 0;  // S_IFMT bits of the target (S_IFREG, S_IFDIR, S_IFLNK)
};

// One mapped or unmapped range of a file, as a FIEMAP-like query returns it.
inline constexpr uint32_t kExtentUnwritten = 1u << 0;  // allocated, reads as zeros
inline constexpr uint32_t kExtentLast = 1u << 1;       // the last extent of the file
struct ExtentInfo {
  uint64_t file_offset = 0;    // bytes
  uint64_t device_offset = 0;  // bytes from the start of the device
  uint64_t length = 0;         // bytes
  uint32_t flags = 0;          // kExtent*
};

inline constexpr uint64_t kDefaultLeaseBreakTimeMs = 45'000;  // as Linux's lease-break-time

struct FileSystemStats {
  uint32_t block_size = kBlockSize;
  uint64_t total_blocks = 0;
  uint64_t free_blocks = 0;
  uint64_t data_blocks = 0;    // blocks available to files and directories in all
  uint64_t total_inodes = 0;
  uint64_t free_inodes = 0;
  uint32_t max_name_length = kMaxNameLength;
  std::array<uint8_t, 16> uuid{};
  PersistenceMode persistence_mode = PersistenceMode::kVolatile;
  bool read_only = false;
  uint64_t journal_sequence = 0;  // sequence number of the last committed transaction
  uint64_t lease_break_time_ms = kDefaultLeaseBreakTimeMs;  // in force (0: never revoke)
  // What Open found wrong with a superblock copy, for a warning on stderr:
  // "primary superblock (block 0) damaged (...): opened from the backup;
  // the primary was restored" (writable) / "... not restored: read-only".
  // Empty when both copies are sound. A damaged backup is rewritten by a
  // writable open too.
  std::string superblock_notice;
  // Objects a read-only open found damaged and serves as corruption errors
  // (doc/fsck.md, section 5); 0 for a sound image.
  uint64_t damaged_objects = 0;
};

// Which fields of SetAttributesRequest to apply.
inline constexpr uint32_t kSetMode = 1u << 0;
inline constexpr uint32_t kSetUid = 1u << 1;
inline constexpr uint32_t kSetGid = 1u << 2;
inline constexpr uint32_t kSetSize = 1u << 3;
inline constexpr uint32_t kSetAtime = 1u << 4;
inline constexpr uint32_t kSetMtime = 1u << 5;
struct SetAttributesRequest {
  uint32_t mask = 0;
  uint32_t mode = 0;  // permission bits only; the type cannot change
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  Timestamp atime, mtime;
};

// fallocate modes: the same values as Linux's FALLOC_FL_*.
inline constexpr uint32_t kFallocateKeepSize = 0x01;
inline constexpr uint32_t kFallocatePunchHole = 0x02;
inline constexpr uint32_t kFallocateCollapseRange = 0x08;
inline constexpr uint32_t kFallocateZeroRange = 0x10;
inline constexpr uint32_t kFallocateInsertRange = 0x20;

// rename flags: the same values as Linux's RENAME_*.
inline constexpr uint32_t kRenameNoReplace = 1u << 0;
inline constexpr uint32_t kRenameExchange = 1u << 1;

struct FormatOptions {
  uint64_t bytes_per_inode = 16 * 1024;  // one inode per this many device bytes
  uint64_t journal_blocks = 0;           // 0: chosen from the device size
  std::array<uint8_t, 16> uuid{};        // all zero: a random UUID
  Clock* clock = nullptr;                // nullptr: SystemClock()
  // How long a recall may take before the holders are revoked; stored in
  // the superblock. 0 means "never revoke: wait forever".
  uint64_t lease_break_time_ms = kDefaultLeaseBreakTimeMs;
};

struct OpenOptions {
  bool read_only = false;
  Clock* clock = nullptr;  // nullptr: SystemClock()
  // Overrides the superblock's lease_break_time for this session (ms; 0: never revoke).
  std::optional<uint64_t> lease_break_time_ms;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Writes a new, empty file system (root directory only) onto `device`.
  static Status Format(Device* device, const FormatOptions& options = {});
  // Opens the file system on `device` (which must outlive it), replaying the
  // journal if the last session did not finish cleanly.
  static Result<std::unique_ptr<FileSystem>> Open(Device* device, const OpenOptions& options = {});

  // Namespace. Names are 1..255 bytes without '/' or NUL, never "." or "..".
  virtual Result<Attributes> Lookup(InodeNumber parent, std::string_view name) = 0;
  // Resolves an absolute path ("/a/b"); symlinks in the path are not followed.
  virtual Result<Attributes> LookupPath(std::string_view path) = 0;
  virtual Result<Attributes> Create(InodeNumber parent, std::string_view name, uint32_t mode,
                                    uint32_t uid = 0, uint32_t gid = 0) = 0;
  virtual Result<Attributes> Mkdir(InodeNumber parent, std::string_view name, uint32_t mode,
                                   uint32_t uid = 0, uint32_t gid = 0) = 0;
  virtual Result<Attributes> Symlink(InodeNumber parent, std::string_view name,
                                     std::string_view target, uint32_t uid = 0,
                                     uint32_t gid = 0) = 0;
  virtual Result<Attributes> Link(InodeNumber ino, InodeNumber new_parent,
                                  std::string_view new_name) = 0;
  virtual Status Unlink(InodeNumber parent, std::string_view name) = 0;
  virtual Status Rmdir(InodeNumber parent, std::string_view name) = 0;
  virtual Status Rename(InodeNumber parent, std::string_view name, InodeNumber new_parent,
                        std::string_view new_name, uint32_t flags = 0) = 0;
  // Entries other than "." and "..", in no particular order.
  virtual Result<std::vector<DirectoryEntry>> ReadDirectory(InodeNumber ino) = 0;
  virtual Result<std::string> ReadLink(InodeNumber ino) = 0;

  // Attributes.
  virtual Result<Attributes> GetAttributes(InodeNumber ino) = 0;
  virtual Result<Attributes> SetAttributes(InodeNumber ino,
                                           const SetAttributesRequest& request) = 0;

  // Data. Read returns fewer bytes than asked only at end of file.
  virtual Result<size_t> Read(InodeNumber ino, uint64_t offset, std::span<std::byte> out) = 0;
  // Writes all of `data` or nothing (kNoSpace, kFileTooLarge, kIoError).
  virtual Result<size_t> Write(InodeNumber ino, uint64_t offset,
                               std::span<const std::byte> data) = 0;
  virtual Status Truncate(InodeNumber ino, uint64_t size) = 0;
  // Linux fallocate(2): `mode` is 0 or a combination of kFallocate* that
  // Linux accepts. Every other combination fails with kNotSupported
  // (EOPNOTSUPP), as Linux >= 6.12 fails them (checked on 6.18) —
  // COLLAPSE_RANGE or INSERT_RANGE with another mode included, which was
  // EINVAL before 6.12. A zero length or an overflowing range is
  // kInvalidArgument.
  virtual Status Fallocate(InodeNumber ino, uint32_t mode, uint64_t offset, uint64_t length) = 0;
  virtual Status Fsync(InodeNumber ino, bool data_only = false) = 0;

  // Extents overlapping [offset, offset+length), in file order; holes are
  // not listed.
  virtual Result<std::vector<ExtentInfo>> GetExtents(InodeNumber ino, uint64_t offset = 0,
                                                     uint64_t length = UINT64_MAX) = 0;
  virtual Result<FileSystemStats> StatFs() = 0;

  // Sealing (the swapfile rule). Seal checks that [0, size) has no hole and
  // no unwritten extent (kInvalidArgument naming the first one), frees
  // blocks past the end of the file, recalls every layout of the file and
  // sets the persistent kInodeFlagSealed. Afterwards every block-map change
  // of the file fails with kTextFileBusy. Sealing a sealed file is a no-op.
  virtual Status Seal(InodeNumber ino) = 0;
  // Clears the flag. The listener may refuse (kTextFileBusy) while
  // lease-free mappings taken on the sealed file exist.
  virtual Status Unseal(InodeNumber ino) = 0;

  virtual Device* device() = 0;
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_FILE_SYSTEM_H_
