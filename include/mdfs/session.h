// The API every caller uses (doc/api.md): a Volume (one mounted file system:
// the engine and its lease manager, opened together), Sessions on it (a
// caller with credentials; the holder of its layouts), and Files (open
// files with POSIX flags).
//
//   auto volume = Volume::Open("disk.img", {});
//   auto session = (*volume)->OpenSession(Credentials::OfThisProcess());
//   auto file = (*session)->OpenPath("/log", O_RDWR | O_CREAT, 0644);
//   (*file)->Write(0, bytes);
//   auto map = (*file)->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate, {});
//
// Permissions: every operation is checked against the session's
// credentials as Linux checks a local file system (doc/api.md,
// "Permissions"): kAccessDenied (EACCES) for a missing mode bit,
// kPermissionDenied (EPERM) for an operation reserved to the owner or root.
//
// Handles: a Handle is (inode number, generation). An operation on a handle
// whose inode was freed — and maybe reused for another file — fails with
// kStale (ESTALE); it never reaches the other file.
//
// Open files: a File keeps its inode alive. Removing the last name of an
// open file keeps the file readable and writable through its Files (and
// mappings) until the last one closes; a crash in between frees it at the
// next writable open.
//
// Breaking: an operation of a session that must recall layouts waits for
// other sessions' holders (up to the volume's lease_break_time), but never
// for the session's own layouts: those are recalled and, if not released by
// their callbacks, revoked at once. With CallOptions::nonblocking (or a File
// opened O_NONBLOCK) it starts the recall and fails with kWouldBlock.
//
// Thread-safety: a Volume, Session or File may be used from any thread
// concurrently. Lifetime: Files and mappings must be destroyed before their
// Session is destroyed, and Sessions before their Volume; Session::Close
// tears down the session's mappings (access then raises SIGBUS) and
// releases everything it holds.
#ifndef MDFS_INCLUDE_MDFS_SESSION_H_
#define MDFS_INCLUDE_MDFS_SESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mdfs/clock.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "mdfs/status.h"

namespace mdfs {

// Who a session acts for. Supplementary groups are checked as Linux does
// (the primary gid need not be repeated in them).
struct Credentials {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  int32_t pid = 0;  // 0: unknown (a remote caller)
  // getuid/getgid/getgroups/getpid of the calling process (its real ids,
  // as access(2) uses).
  static Credentials OfThisProcess();
  bool InGroup(uint32_t group) const;
};

struct Handle {
  InodeNumber ino = 0;
  uint32_t generation = 0;
  static Handle Of(const Attributes& attributes) { return {attributes.ino, attributes.generation}; }
  bool operator==(const Handle&) const = default;
};

// SetAttributes mask bits beyond file_system.h's: set the time to the
// volume clock's now (utimensat's UTIME_NOW), which needs only write
// permission, where an explicit time needs ownership.
inline constexpr uint32_t kSetAtimeNow = 1u << 6;
inline constexpr uint32_t kSetMtimeNow = 1u << 7;

// Per-call behaviour of an operation that may recall layouts.
struct CallOptions {
  // Start the recall, then fail with kWouldBlock instead of waiting.
  bool nonblocking = false;
};

struct VolumeOptions {
  bool read_only = false;
  // Overrides the superblock's (ms; 0: never revoke).
  std::optional<uint64_t> lease_break_time_ms;
  Clock* clock = nullptr;  // nullptr: SystemClock()
};

class Session;
class File;

// One mounted file system: the engine and its lease manager together.
class Volume {
 public:
  virtual ~Volume() = default;
  // Opens the image file or block device at `path` (locked: one writer).
  static Result<std::unique_ptr<Volume>> Open(const std::string& path,
                                              const VolumeOptions& options = {});
  // Opens the file system on `device`, which must outlive the Volume.
  static Result<std::unique_ptr<Volume>> Open(Device* device, const VolumeOptions& options = {});

  virtual Result<std::unique_ptr<Session>> OpenSession(const Credentials& credentials) = 0;
  virtual Result<FileSystemStats> StatFs() = 0;
  // Every layout of every session, like /proc/locks.
  virtual std::vector<LayoutInfo> ListLayouts() = 0;
  // The volume's lease manager, for device registrars
  // (UringBufferRegistration, RdmaMemoryRegistration) of its mappings.
  virtual LeaseManager* leases() = 0;
};

// Flags a File accepts: O_RDONLY, O_WRONLY, O_RDWR, O_APPEND, O_TRUNC,
// O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC (no
// meaning here), O_SYNC / O_DSYNC (each write is followed by Fsync). Any
// other bit: kNotSupported.
class Session {
 public:
  virtual ~Session() = default;  // Close()

  virtual const Credentials& credentials() const = 0;
  virtual Handle root() const = 0;

  // Namespace. `name` is one component (1..255 bytes, no '/' or NUL).
  virtual Result<Attributes> Lookup(Handle dir, std::string_view name) = 0;
  // Resolves a path: absolute, or relative to `at` (default: the root).
  // Symlinks are followed (40 at most: kLoop), the last one only when
  // `follow_last`. Each directory on the way needs search permission.
  virtual Result<Attributes> Resolve(std::string_view path, bool follow_last = true,
                                     std::optional<Handle> at = std::nullopt) = 0;
  virtual Result<Attributes> Mkdir(Handle dir, std::string_view name, uint32_t mode) = 0;
  virtual Result<Attributes> Symlink(Handle dir, std::string_view name,
                                     std::string_view target) = 0;
  virtual Result<Attributes> Link(Handle file, Handle dir, std::string_view name) = 0;
  virtual Status Unlink(Handle dir, std::string_view name, CallOptions call = {}) = 0;
  virtual Status Rmdir(Handle dir, std::string_view name, CallOptions call = {}) = 0;
  virtual Status Rename(Handle dir, std::string_view name, Handle new_dir,
                        std::string_view new_name, uint32_t flags = 0, CallOptions call = {}) = 0;
  virtual Result<std::vector<DirectoryEntry>> ReadDirectory(Handle dir) = 0;
  virtual Result<std::string> ReadLink(Handle link) = 0;

  // Attributes. SetAttributes applies chmod / chown / utimes / truncate
  // rules (doc/api.md); kSetSize needs write permission.
  virtual Result<Attributes> GetAttributes(Handle handle) = 0;
  virtual Result<Attributes> SetAttributes(Handle handle, const SetAttributesRequest& request,
                                           CallOptions call = {}) = 0;

  // Opens `name` in `dir` (with O_CREAT: creates a regular file of `mode`
  // less nothing — there is no umask here — owned by the session).
  virtual Result<std::unique_ptr<File>> Open(Handle dir, std::string_view name, int flags,
                                             uint32_t mode = 0644) = 0;
  virtual Result<std::unique_ptr<File>> OpenHandle(Handle handle, int flags) = 0;
  virtual Result<std::unique_ptr<File>> OpenPath(std::string_view path, int flags,
                                                 uint32_t mode = 0644) = 0;

  // Tears down the session's mappings (access raises SIGBUS, their
  // on_revoke runs not), releases its layouts; later calls fail with
  // kBadHandle. Files stay objects to destroy; their calls fail too.
  virtual void Close() = 0;
};

class File {
 public:
  virtual ~File() = default;  // closes

  virtual Handle handle() const = 0;
  virtual int flags() const = 0;

  // Read needs a readable open, Write a writable one (kBadHandle). With
  // O_APPEND, Write ignores `offset` and appends; it returns the bytes
  // written. Read returns fewer bytes than asked only at end of file.
  virtual Result<size_t> Read(uint64_t offset, std::span<std::byte> out) = 0;
  virtual Result<size_t> Write(uint64_t offset, std::span<const std::byte> data,
                               CallOptions call = {}) = 0;
  virtual Status Truncate(uint64_t size, CallOptions call = {}) = 0;
  virtual Status Fallocate(uint32_t mode, uint64_t offset, uint64_t length,
                           CallOptions call = {}) = 0;
  virtual Status Fsync(bool data_only = false) = 0;
  virtual Result<Attributes> Stat() = 0;
  virtual Result<std::vector<ExtentInfo>> GetExtents(uint64_t offset = 0,
                                                     uint64_t length = UINT64_MAX) = 0;

  // MAP_DIRECT of [offset, offset + length) (include/mdfs/map_direct.h),
  // its layout held by the session: PROT_WRITE needs O_RDWR, any mapping
  // a readable open (kAccessDenied, as mmap(2)). The mapping keeps the file
  // open after the File closes.
  virtual Result<std::unique_ptr<DirectMapping>> MapDirect(uint64_t offset, uint64_t length,
                                                           int prot, uint32_t flags,
                                                           MapDirectOptions options = {}) = 0;

  // Closes now (the destructor does it too); later calls fail with
  // kBadHandle.
  virtual Status Close() = 0;
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_SESSION_H_
