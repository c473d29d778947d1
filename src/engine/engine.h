// FileSystemImpl: the engine behind include/mdfs/file_system.h.
//
// All metadata lives in memory while the file system is open (inodes,
// extent maps, directories, the free-space bitmap); every change is made
// in a Transaction and committed through the Journal before the operation
// returns. Files of the implementation:
//   engine_open.cc       Format, Open (superblock copies, feature upgrade),
//                        StatFs, inode lookup helpers
//   load.cc              mount-time load: recovery overlay, every structure
//                        range-checked, damage recorded (salvage)
//   commit.cc            Commit / Abort: encoding dirty metadata into journal images
//   transaction.cc       Transaction: saved inodes, directory edit log, frees
//   namespace_ops.cc     lookup, create, mkdir, symlink, link, unlink, rmdir, readdir
//   rename.cc            rename with NOREPLACE / EXCHANGE
//   data_ops.cc          read, write, append, fsync, extent query
//   space_ops.cc         truncate, fallocate (all modes), speculative trim
//   allocator.cc         the free-space bitmap in memory, runs, chunks
//   extent_map.cc        a file's extent map (extent_map.h)
//   directory.cc         a directory's entries and blocks (directory.h)
//   attributes.cc        getattr, setattr
//   seal_ops.cc          seal, unseal
//   direct_access.cc     PrepareDirectAccess (MAP_DIRECT, layouts)
//   breakers.cc          the public block-map-changing calls, in RunAsBreaker
//   break_gate.cc        the gate's engine side (break_gate.h)
//   open_files.cc        open references, unlinked-while-open inodes
//
// Every change of a block map passes through PrepareBlockMapChange() first.
#ifndef MDFS_SRC_ENGINE_ENGINE_H_
#define MDFS_SRC_ENGINE_ENGINE_H_

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/allocator.h"
#include "engine/block_map_gate.h"
#include "engine/inode.h"
#include "engine/transaction.h"
#include "format/format.h"
#include "journal/journal.h"
#include "mdfs/file_system.h"
#include "util/thread_annotations.h"

namespace mdfs {

inline constexpr uint64_t kB = kBlockSize;
// Blocks needed to hold `bytes`.
inline uint64_t BlocksCeil(uint64_t bytes) { return (bytes + kB - 1) / kB; }
// A name as error messages show it: "name".
inline std::string Quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

// A name for a directory entry: 1..255 bytes, no '/' and no NUL.
// ("." and ".." pass; each operation decides what they mean.)
Status ValidateName(std::string_view name);

class MetadataReader;  // load.cc

class FileSystemImpl : public FileSystem, public BlockMapGate {
 public:
  FileSystemImpl(Device* device, const format::Superblock& superblock, const OpenOptions& options);
  // A clean close: commits the timestamps of pure overwrites (one
  // transaction, which also flushes their data). Errors are swallowed —
  // nothing acknowledged depends on them; Fsync is the way to see them.
  ~FileSystemImpl() override;

  // Mount-time work: recovery and loading every metadata structure
  // (load.cc). A damaged block or an out-of-range value marks what depends
  // on it damaged (Inode::damage) and is listed in damage(); only a device
  // error or an unusable superblock/journal fails the load.
  Status Load();
  // kCorruption naming the first damage when the open is writable: a
  // damaged file system is served read-only only (salvage).
  Status RefuseWritableIfDamaged() const;
  // What Load found damaged, one line each. Fixed after Load.
  const std::vector<std::string>& damage() const { return damage_; }
  bool read_only() const { return read_only_; }
  // Set by Open after Load (FileSystemStats::superblock_notice).
  std::string superblock_notice_;

  Result<Attributes> Lookup(InodeNumber parent, std::string_view name) override;
  Result<Attributes> LookupPath(std::string_view path) override;
  Result<Attributes> Create(InodeNumber parent, std::string_view name, uint32_t mode, uint32_t uid,
                            uint32_t gid) override;
  Result<Attributes> Mkdir(InodeNumber parent, std::string_view name, uint32_t mode, uint32_t uid,
                           uint32_t gid) override;
  Result<Attributes> Symlink(InodeNumber parent, std::string_view name, std::string_view target,
                             uint32_t uid, uint32_t gid) override;
  Result<Attributes> Link(InodeNumber ino, InodeNumber new_parent,
                          std::string_view new_name) override;
  Status Unlink(InodeNumber parent, std::string_view name) override;
  Status Rmdir(InodeNumber parent, std::string_view name) override;
  Status Rename(InodeNumber parent, std::string_view name, InodeNumber new_parent,
                std::string_view new_name, uint32_t flags) override;
  Result<std::vector<DirectoryEntry>> ReadDirectory(InodeNumber ino) override;
  Result<std::string> ReadLink(InodeNumber ino) override;
  Result<Attributes> GetAttributes(InodeNumber ino) override;
  Result<Attributes> SetAttributes(InodeNumber ino, const SetAttributesRequest& request) override;
  Result<size_t> Read(InodeNumber ino, uint64_t offset, std::span<std::byte> out) override;
  Result<size_t> Write(InodeNumber ino, uint64_t offset, std::span<const std::byte> data) override;
  Status Truncate(InodeNumber ino, uint64_t size) override;
  Status Fallocate(InodeNumber ino, uint32_t mode, uint64_t offset, uint64_t length) override;
  Status Fsync(InodeNumber ino, bool data_only) override;
  Result<std::vector<ExtentInfo>> GetExtents(InodeNumber ino, uint64_t offset,
                                             uint64_t length) override;
  Result<FileSystemStats> StatFs() override;
  Status Seal(InodeNumber ino) override;
  Status Unseal(InodeNumber ino) override;
  Status PrepareDirectAccess(InodeNumber ino, uint64_t offset, uint64_t length, uint32_t flags,
                             const DirectAccessGrant& grant) override;
  void SetBlockMapListener(BlockMapListener* listener) override;
  BlockMapListener* block_map_listener() override;
  Device* device() override { return device_; }

  // ---- open references (open_files.cc), for the session layer's open
  // files. While an inode has one, removing its last name keeps it
  // (kInodeFlagUnlinked, nlink 0) until the last reference is dropped.
  // Adds a reference to `ino` if it is in use with `generation`; kStale
  // otherwise (freed, reused or unlinked).
  Result<Attributes> AddOpenReference(InodeNumber ino, uint32_t generation);
  // Drops one; the last one of an unlinked inode frees it (one
  // transaction, through the gate: kFreeInode).
  Status DropOpenReference(InodeNumber ino);
  // O_APPEND: writes `data` at the end of the file, the size read under the
  // same lock as the write (concurrent appends never overlap). Returns the
  // offset it wrote at.
  Result<uint64_t> Append(InodeNumber ino, std::span<const std::byte> data);
  // Writable open, after Load: frees the unlinked inodes a crash left.
  // Returns how many.
  Result<uint64_t> FreeUnlinkedInodes();
  // Writable open: sets the ro_compat UNLINKED_INODES bit on an image made
  // before it (both superblocks rewritten and flushed).
  Status UpgradeFeatures();

 private:
  Status DropOpenReferenceAttempt(InodeNumber ino);
  // REQUIRE mu_ held.
  uint32_t OpenReferences(InodeNumber ino) const;
  // The in-use inode `ino` if its generation is `generation`, else kStale.
  Result<Inode*> GetCurrentInode(InodeNumber ino, uint32_t generation);
  // DropLink of the last name of an open inode: nlink 0, kInodeFlagUnlinked.
  Status MarkUnlinked(Transaction& tx, uint64_t ino);

  // ---- one attempt of each operation that may change a block map; the
  // public method runs it in RunAsBreaker (break_gate.h, breakers.cc).
  Result<size_t> WriteAttempt(InodeNumber ino, uint64_t offset, std::span<const std::byte> data);
  Status TruncateAttempt(InodeNumber ino, uint64_t size);
  Status FallocateAttempt(InodeNumber ino, uint32_t mode, uint64_t offset, uint64_t length);
  Result<Attributes> SetAttributesAttempt(InodeNumber ino, const SetAttributesRequest& request);
  Status UnlinkAttempt(InodeNumber parent, std::string_view name);
  Status RmdirAttempt(InodeNumber parent, std::string_view name);
  Status RenameAttempt(InodeNumber parent, std::string_view name, InodeNumber new_parent,
                       std::string_view new_name, uint32_t flags);
  Status SealAttempt(InodeNumber ino);
  Status UnsealAttempt(InodeNumber ino);
  Status PrepareDirectAccessAttempt(InodeNumber ino, uint64_t offset, uint64_t length,
                                    uint32_t flags, const DirectAccessGrant& grant);
  // Seal's checks: no hole and no unwritten extent in [0, size).
  Status CheckSealable(const Inode& inode) const;
  // Direct access: maps holes (with kDirectAllocate), zeroes and converts
  // unwritten blocks of file blocks [begin, end); grows the size to `end_byte`.
  Status MakeWritten(Transaction& tx, Inode& inode, uint64_t begin, uint64_t end, uint32_t flags,
                     uint64_t end_byte);
  // ---- state checks (REQUIRE mu_ held)
  Status CheckWritable() const;
  Status CheckReadable() const;
  Result<Inode*> GetInode(InodeNumber ino);
  Result<Inode*> GetDirectory(InodeNumber ino);
  // The inode a directory entry names: kCorruption (never a crash) when the
  // number is out of range, the inode is free, or damaged.
  Result<Inode*> GetEntryTarget(const Inode& dir, std::string_view name, uint64_t ino);
  // A directory's parent (".."): kCorruption when it is not a directory.
  Result<Inode*> GetParent(const Inode& dir);
  Attributes ToAttributes(const Inode& inode) const;
  int64_t NowNs() const { return clock_->NowRealtimeNs(); }

  // ---- the one gate for block-map changes (REQUIRES mu_ held exclusively)
  Status PrepareBlockMapChange(const Inode& inode, BlockMapChangeKind kind, uint64_t offset,
                               uint64_t length);

  // ---- mount-time load (load.cc)
  Status LoadBitmap(MetadataReader& reader, uint64_t* max_sequence);
  Status LoadInodeTable(MetadataReader& reader, uint64_t* max_sequence);
  Status LoadInodeTableBlock(MetadataReader& reader, uint64_t index, const format::Block& block);
  // Range checks of an in-use inode's extent map against the device's data
  // area; "" when they pass.
  std::string CheckExtentRanges(const Inode& inode) const;
  // Directory entries naming impossible inodes, directories with a bad "..",
  // and blocks claimed twice or free in the bitmap (writable opens only).
  void CheckReferences();
  void CheckBlockClaims();
  void AddDamage(Inode& inode, std::string message);

  // ---- transactions (commit.cc)
  Status Commit(Transaction& tx);
  void Abort(Transaction& tx);
  // Commits `tx` if `status` is OK, else aborts it; returns the final status.
  Status Finish(Transaction& tx, Status status);
  Status WriteExtentChain(Inode& inode, Transaction& tx);
  // Steps of Commit that may refuse the transaction: extent chains, journal
  // capacity. Nothing has been written when they fail.
  Status PrepareCommit(Transaction& tx);
  uint64_t CountImages(const Transaction& tx) const;
  void EncodeInodeBlock(uint64_t table_index, uint64_t sequence, format::Block& out) const;

  // ---- namespace helpers (namespace_ops.cc)
  Result<uint64_t> AllocateInode(Transaction& tx);
  Result<Inode*> NewInode(Transaction& tx, uint32_t mode, uint32_t uid, uint32_t gid);
  Status AddEntry(Transaction& tx, uint64_t dir_ino, std::string_view name, uint64_t ino,
                  uint8_t type);
  void RemoveEntry(Transaction& tx, uint64_t dir_ino, std::string_view name);
  // Drops one link of `ino`; frees the inode and its blocks at zero.
  Status DropLink(Transaction& tx, uint64_t ino);
  Status FreeInode(Transaction& tx, uint64_t ino);
  Status CheckNewName(Inode* dir, std::string_view name);
  bool IsAncestor(uint64_t ancestor, uint64_t ino) const;
  Result<Attributes> MakeNode(InodeNumber parent, std::string_view name, uint32_t mode,
                              uint32_t uid, uint32_t gid, std::string_view symlink_target);

  // ---- space (space_ops.cc)
  // Maps every hole of file blocks [begin, end) of `inode` as unwritten
  // (reads as zeros); `new_size` picks the policy. Returns the new extents.
  // Passes the gate for it first (`kind`: why the caller allocates).
  Result<std::vector<MappedExtent>> AllocateRange(Transaction& tx, Inode& inode, uint64_t begin,
                                                  uint64_t end, uint64_t new_size,
                                                  BlockMapChangeKind kind);
  // Passes the gate for the unwritten blocks of file blocks [begin, end).
  Status PrepareUnwrittenConversion(Inode& inode, BlockMapChangeKind kind, uint64_t begin,
                                    uint64_t end);
  Status PrepareFallocate(Inode& inode, uint32_t mode, uint64_t offset, uint64_t length);
  Status PrepareHoleFill(Inode& inode, BlockMapChangeKind kind, uint64_t begin, uint64_t end,
                         bool large);
  Status FreeFileBlocks(Transaction& tx, Inode& inode, uint64_t begin, uint64_t end);
  // Makes the bytes between the current size and the end of its block read
  // as zeros, before the size grows (a queued data write).
  void ZeroTailBeyondEof(Transaction& tx, const Inode& inode);
  // Replaces a written block by a fresh copy with [from, to) zeroed (byte
  // offsets within the block): partial-block punch/zero, atomic via remap.
  Status CopyOnWriteZero(Transaction& tx, Inode& inode, uint64_t file_block, uint32_t from,
                         uint32_t to);
  Status TruncateLocked(Transaction& tx, Inode& inode, uint64_t size);
  Status PunchHole(Transaction& tx, Inode& inode, uint64_t offset, uint64_t length);
  Status ZeroRange(Transaction& tx, Inode& inode, uint64_t offset, uint64_t length, bool keep_size);
  Status CollapseRange(Transaction& tx, Inode& inode, uint64_t offset, uint64_t length);
  Status InsertRange(Transaction& tx, Inode& inode, uint64_t offset, uint64_t length);
  Status ZeroPartialBlocks(Transaction& tx, Inode& inode, uint64_t offset, uint64_t end);
  Status FallocateLocked(InodeNumber ino, uint32_t mode, uint64_t offset, uint64_t length);
  // Speculative preallocation (allocator.h): frees the recorded blocks of
  // `inode` in file blocks [begin, end) at or past EOF, passing the gate for
  // their hull first. Returns the blocks freed. REQUIRES: tx.Modify(inode.ino).
  Result<uint64_t> TrimSpeculative(Transaction& tx, Inode& inode, uint64_t begin, uint64_t end,
                                   BlockMapChangeKind kind);
  // After kNoSpace: trims the speculative preallocation of every file but
  // `except` in committed transactions. True when blocks were freed (the
  // failed operation may then be tried once more).
  Result<bool> ReclaimSpeculative(InodeNumber except);

  // ---- data (data_ops.cc)
  Status WritePieces(Transaction& tx, Inode& inode, uint64_t offset,
                     std::span<const std::byte> data);
  Result<size_t> WriteLocked(InodeNumber ino, uint64_t offset, std::span<const std::byte> data);
  // Fsync (not fdatasync) trims the file's speculative preallocation.
  Status FsyncAttempt(InodeNumber ino, bool data_only);
  Status ReadLocked(const Inode& inode, uint64_t offset, std::span<std::byte> out);
  // The extents overlapping [offset, offset+length), whole, in file order.
  std::vector<ExtentInfo> ExtentsLocked(const Inode& inode, uint64_t offset, uint64_t length) const;

  Device* device_;
  format::Superblock superblock_;
  OpenOptions options_;
  Clock* clock_;
  Journal journal_;
  Allocator allocator_;

  // Readers (lookup, read, getattr, readdir, extents, statfs) hold mu_
  // shared; everything that changes state holds it exclusively. The
  // journal and the allocator are used only under the exclusive lock.
  mutable std::shared_mutex mu_;
  std::vector<Inode> inodes_ GUARDED_BY(mu_);  // index = inode number; [0] unused
  // mtime/ctime changed by a pure overwrite, not yet in a transaction.
  std::vector<bool> inode_time_dirty_ GUARDED_BY(mu_);
  // Open references per inode (open_files.cc); absent = none. An inode with
  // kInodeFlagUnlinked always has an entry here while the file system is
  // open writable (its last DropOpenReference frees it).
  std::unordered_map<uint64_t, uint32_t> open_references_ GUARDED_BY(mu_);
  uint64_t next_sequence_ GUARDED_BY(mu_) = 1;
  uint64_t inode_hint_ GUARDED_BY(mu_) = 2;
  bool read_only_ = false;  // set at construction only
  // Set by Load, read-only afterwards (Open returns only after Load).
  std::vector<std::string> damage_;
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::string shutdown_reason_ GUARDED_BY(mu_);
  // Called with mu_ held exclusively: it must not call back into this
  // FileSystem (the lease layer will take its own locks only).
  BlockMapListener* listener_ GUARDED_BY(mu_) = nullptr;
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_ENGINE_H_
