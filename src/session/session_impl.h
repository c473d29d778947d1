// The implementation behind include/mdfs/session.h.
//
//   VolumeImpl     owns the device (when opened by path), the engine and the
//                  lease manager; hands out sessions.        (volume.cc)
//   SessionState   what a session's Files and mappings share with it: the
//                  credentials, whether it is closed, its live mappings.
//                  Its address is the session's holder identity
//                  (LayoutHolder::owner(), BreakOptions::self).
//   SessionImpl    namespace and attribute operations.      (session_ops.cc,
//                                                            path_walk.cc)
//   FileImpl       an open file.                            (file.cc)
//   OpenReference  one engine open reference (FileSystemImpl::
//                  AddOpenReference); shared by a File and its mappings, so
//                  an unlinked file lives until the last of them goes.
//
// Invariants:
//   1. Every engine call that may recall layouts runs inside a BreakScope
//      whose self is the calling session's SessionState (Breaking()).
//   2. A mapping made by a session is in its SessionState::mappings from
//      MapDirect until it is destroyed; Close abandons every one of them
//      under SessionState::mu, so none outlives Close with a layout.
#ifndef MDFS_SRC_SESSION_SESSION_IMPL_H_
#define MDFS_SRC_SESSION_SESSION_IMPL_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <set>

#include "direct/direct_mapping_impl.h"
#include "engine/engine.h"
#include "lease/leases.h"
#include "mdfs/session.h"
#include "util/thread_annotations.h"

namespace mdfs::session_internal {

struct VolumeParts {
  std::unique_ptr<Device> owned_device;  // null when the caller owns the device
  std::unique_ptr<FileSystem> fs;
  FileSystemImpl* engine = nullptr;  // fs, as the implementation
  std::unique_ptr<LeaseManager> leases;
  Clock* clock = nullptr;
  // Counts SetAttributes calls of any session that stored a mode with
  // S_ISUID or S_ISGID, incremented after the engine call. A File that saw
  // its inode needing no privilege drop at count N skips the look while
  // the count is still N (FileImpl::DropPrivileges): a write then costs no
  // extra GetAttributes. Starts at 1 (0: never looked). Boxed: the parts
  // are moved into the Volume.
  std::unique_ptr<std::atomic<uint64_t>> privileged_mode_changes =
      std::make_unique<std::atomic<uint64_t>>(1);
};

struct SessionState {
  SessionState(VolumeParts* parts, Credentials credentials)
      : parts(parts), credentials(std::move(credentials)) {}
  VolumeParts* const parts;
  const Credentials credentials;

  std::mutex mu;
  // Written under mu (with the mappings' teardown); read without it by
  // CheckOpen, which every call makes.
  std::atomic<bool> closed{false};
  std::set<direct_internal::DirectMappingImpl*> mappings GUARDED_BY(mu);

  // kBadHandle once the session is closed.
  Status CheckOpen() const {
    if (closed.load(std::memory_order_acquire)) [[unlikely]]
      return Closed();
    return Status::Ok();
  }
  static Status Closed();
  // The BreakScope options for a call of this session.
  BreakOptions Breaking(const CallOptions& call) const { return {call.nonblocking, this}; }
};

class OpenReference {
 public:
  OpenReference(FileSystemImpl* engine, InodeNumber ino, const SessionState* session)
      : engine_(engine), ino_(ino), session_(session) {}
  ~OpenReference();  // drops it: the last one of an unlinked inode frees it
  OpenReference(const OpenReference&) = delete;
  OpenReference& operator=(const OpenReference&) = delete;

 private:
  FileSystemImpl* const engine_;
  const InodeNumber ino_;
  const SessionState* const session_;  // the breaker of the free, if it comes to that
};

class SessionImpl final : public Session {
 public:
  SessionImpl(VolumeParts* parts, Credentials credentials);
  ~SessionImpl() override;

  const Credentials& credentials() const override { return state_->credentials; }
  Handle root() const override { return root_; }
  Result<Attributes> Lookup(Handle dir, std::string_view name) override;
  Result<Attributes> Resolve(std::string_view path, bool follow_last,
                             std::optional<Handle> at) override;
  Result<Attributes> Mkdir(Handle dir, std::string_view name, uint32_t mode) override;
  Result<Attributes> Symlink(Handle dir, std::string_view name, std::string_view target) override;
  Result<Attributes> Link(Handle file, Handle dir, std::string_view name) override;
  Status Unlink(Handle dir, std::string_view name, CallOptions call) override;
  Status Rmdir(Handle dir, std::string_view name, CallOptions call) override;
  Status Rename(Handle dir, std::string_view name, Handle new_dir, std::string_view new_name,
                uint32_t flags, CallOptions call) override;
  Result<std::vector<DirectoryEntry>> ReadDirectory(Handle dir) override;
  Result<std::string> ReadLink(Handle link) override;
  Result<Attributes> GetAttributes(Handle handle) override;
  Result<Attributes> SetAttributes(Handle handle, const SetAttributesRequest& request,
                                   CallOptions call) override;
  Result<std::unique_ptr<File>> Open(Handle dir, std::string_view name, int flags,
                                     uint32_t mode) override;
  Result<std::unique_ptr<File>> OpenHandle(Handle handle, int flags) override;
  Result<std::unique_ptr<File>> OpenPath(std::string_view path, int flags, uint32_t mode) override;
  void Close() override;

 private:
  FileSystemImpl& engine() const { return *state_->parts->engine; }
  const Credentials& who() const { return state_->credentials; }
  // The attributes of a handle's inode: kStale when freed or reused.
  // Inline, with one named result, so that the OK path (every handle
  // operation makes it) is the engine call and three compares
  // (bench/session_bench.cc, stat).
  Result<Attributes> Current(Handle handle) {
    Result<Attributes> attributes = state_->closed.load(std::memory_order_acquire)
                                        ? Result<Attributes>(SessionState::Closed())
                                        : engine().GetAttributes(handle.ino);
    if (!attributes.ok() || attributes->generation != handle.generation ||
        (attributes->flags & kInodeFlagUnlinked)) [[unlikely]] {
      attributes = NotCurrent(handle, attributes);
    }
    return attributes;
  }
  // Why `attributes` (of `handle`'s inode number) are not current.
  static Status NotCurrent(Handle handle, const Result<Attributes>& attributes);
  // A directory the caller may search and, with `mask`, change.
  Result<Attributes> Directory(Handle dir, int mask);
  // The directory a new `name` goes into: kExists before the write check.
  Result<Attributes> CreationDirectory(Handle dir, std::string_view name);
  // The open checks (flags, type, permission, O_TRUNC), then the File.
  Result<std::unique_ptr<File>> OpenExisting(const Attributes& inode, int flags);
  Result<std::unique_ptr<File>> CreateAndOpen(const Attributes& dir, std::string_view name,
                                              int flags, uint32_t mode);
  Status ApplyModeChange(const Attributes& inode, uint32_t mode);
  Result<Attributes> SetAttributesChecked(const Attributes& inode,
                                          const SetAttributesRequest& request, CallOptions call);
  // path_walk.cc: one component of a walk, following symlinks.
  Result<Attributes> WalkFrom(Attributes dir, std::string_view path, bool follow_last,
                              int* links_left);

  std::shared_ptr<SessionState> state_;
  Handle root_;
};

// A File; also the factory of its mappings (file.cc).
Result<std::unique_ptr<File>> MakeFile(std::shared_ptr<SessionState> session,
                                       const Attributes& inode, int flags);

// Validates the open flags: kNotSupported for unknown bits, kInvalidArgument
// for a bad access mode.
Status CheckOpenFlags(int flags);
bool OpenForReading(int flags);
bool OpenForWriting(int flags);

}  // namespace mdfs::session_internal

#endif  // MDFS_SRC_SESSION_SESSION_IMPL_H_
