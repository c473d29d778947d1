// FileImpl: an open file of a session, and the mappings made through it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>

#include "lease/leases.h"
#include "session/permissions.h"
#include "session/session_impl.h"

namespace mdfs::session_internal {
namespace {

// A mapping of a session: the DirectMappingImpl (the layout's holder,
// acting for the session) plus what keeps the file open while it lives.
class SessionMapping final : public DirectMapping {
 public:
  SessionMapping(std::shared_ptr<SessionState> session, std::shared_ptr<OpenReference> reference,
                 std::unique_ptr<direct_internal::DirectMappingImpl> mapping)
      : session_(std::move(session)),
        reference_(std::move(reference)),
        mapping_(std::move(mapping)) {}
  ~SessionMapping() override {
    {
      std::lock_guard lock(session_->mu);
      session_->mappings.erase(mapping_.get());
    }
    mapping_.reset();  // unmaps, releases the layout; then the reference goes
  }

  std::byte* data() const override { return mapping_->data(); }
  size_t size() const override { return mapping_->size(); }
  uint64_t file_offset() const override { return mapping_->file_offset(); }
  InodeNumber ino() const override { return mapping_->ino(); }
  LayoutId layout() const override { return mapping_->layout(); }
  PersistenceMode persistence_mode() const override { return mapping_->persistence_mode(); }
  Status Persist(const void* address, size_t length) override {
    return mapping_->Persist(address, length);
  }
  Status Flush(const void* address, size_t length) override {
    return mapping_->Flush(address, length);
  }
  void Drain() override { mapping_->Drain(); }
  Status CopyPersist(void* destination, const void* source, size_t length) override {
    return mapping_->CopyPersist(destination, source, length);
  }
  bool torn_down() const override { return mapping_->torn_down(); }
  bool revoked() const override { return mapping_->revoked(); }
  void Unmap() override { mapping_->Unmap(); }

 private:
  const std::shared_ptr<SessionState> session_;
  const std::shared_ptr<OpenReference> reference_;
  std::unique_ptr<direct_internal::DirectMappingImpl> mapping_;
};

class FileImpl final : public File {
 public:
  FileImpl(std::shared_ptr<SessionState> session, std::shared_ptr<OpenReference> reference,
           const Attributes& inode, int flags)
      : session_(std::move(session)),
        reference_(std::move(reference)),
        handle_(Handle::Of(inode)),
        flags_(flags) {}
  ~FileImpl() override { (void)Close(); }

  Handle handle() const override { return handle_; }
  int flags() const override { return flags_; }

  // Read, Write and Stat keep their OK path to the engine call and a few
  // loads (bench/session_bench.cc): refusals are built out of line.
  Result<size_t> Read(uint64_t offset, std::span<std::byte> out) override {
    if (!Usable(OpenForReading(flags_))) [[unlikely]] {
      return Unusable(OpenForReading(flags_), "reading");
    }
    return engine().Read(handle_.ino, offset, out);
  }

  Result<size_t> Write(uint64_t offset, std::span<const std::byte> data,
                       CallOptions call) override {
    if (!Usable(OpenForWriting(flags_))) [[unlikely]] {
      return Unusable(OpenForWriting(flags_), "writing");
    }
    if (MayHavePrivilegesToDrop()) MDFS_RETURN_IF_ERROR(DropPrivileges(call));
    BreakScope scope(Breaking(call));
    if (flags_ & (O_APPEND | O_SYNC | O_DSYNC)) [[unlikely]]
      return WriteAppendOrSync(offset, data);
    return engine().Write(handle_.ino, offset, data);
  }

  Status Truncate(uint64_t size, CallOptions call) override {
    // ftruncate(2) of a file not open for writing: EINVAL.
    if (!OpenForWriting(flags_)) {
      MDFS_RETURN_IF_ERROR(Usable(true, ""));
      return InvalidArgument("inode " + std::to_string(handle_.ino) + " is not open for writing");
    }
    MDFS_RETURN_IF_ERROR(Usable(true, "writing"));
    MDFS_RETURN_IF_ERROR(DropPrivileges(call));
    BreakScope scope(Breaking(call));
    return engine().Truncate(handle_.ino, size);
  }

  Status Fallocate(uint32_t mode, uint64_t offset, uint64_t length, CallOptions call) override {
    MDFS_RETURN_IF_ERROR(Usable(OpenForWriting(flags_), "writing"));
    BreakScope scope(Breaking(call));
    return engine().Fallocate(handle_.ino, mode, offset, length);
  }

  // REQUIRES: the BreakScope of the Write.
  Result<size_t> WriteAppendOrSync(uint64_t offset, std::span<const std::byte> data) {
    if (flags_ & O_APPEND) {
      MDFS_RETURN_IF_ERROR(engine().Append(handle_.ino, data).status());
    } else {
      MDFS_RETURN_IF_ERROR(engine().Write(handle_.ino, offset, data).status());
    }
    if (flags_ & (O_SYNC | O_DSYNC)) {
      MDFS_RETURN_IF_ERROR(engine().Fsync(handle_.ino, (flags_ & O_SYNC) != O_SYNC));
    }
    return data.size();
  }

  Status Fsync(bool data_only) override {
    MDFS_RETURN_IF_ERROR(Usable(true, ""));
    return engine().Fsync(handle_.ino, data_only);
  }

  Result<Attributes> Stat() override {
    if (!Usable(true)) [[unlikely]]
      return Unusable(true, "");
    return engine().GetAttributes(handle_.ino);
  }

  Result<std::vector<ExtentInfo>> GetExtents(uint64_t offset, uint64_t length) override {
    MDFS_RETURN_IF_ERROR(Usable(true, ""));
    return engine().GetExtents(handle_.ino, offset, length);
  }

  Result<std::unique_ptr<DirectMapping>> MapDirect(uint64_t offset, uint64_t length, int prot,
                                                   uint32_t flags,
                                                   MapDirectOptions options) override;

  Status Close() override {
    if (closed_.exchange(true)) return BadHandle("the file is closed");
    reference_.reset();
    return Status::Ok();
  }

 private:
  FileSystemImpl& engine() const { return *session_->parts->engine; }
  BreakOptions Breaking(CallOptions call) const {
    call.nonblocking = call.nonblocking || (flags_ & O_NONBLOCK);
    return session_->Breaking(call);
  }
  // False when the file or its session is closed, or when `allowed` is
  // false (not open for the access); Unusable says which, as kBadHandle.
  bool Usable(bool allowed) const {
    return allowed && !closed_.load(std::memory_order_acquire) &&
           !session_->closed.load(std::memory_order_acquire);
  }
  Status Usable(bool allowed, const char* access) const {
    return Usable(allowed) ? Status::Ok() : Unusable(allowed, access);
  }
  Status Unusable(bool allowed, const char* access) const {
    if (closed_.load()) return BadHandle("the file is closed");
    MDFS_RETURN_IF_ERROR(session_->CheckOpen());
    if (!allowed) {
      return BadHandle("inode " + std::to_string(handle_.ino) + " is not open for " + access);
    }
    return Status::Ok();
  }
  // A write or truncate by a non-root caller clears setuid / setgid. The
  // inode is looked at only when a session stored a setuid / setgid mode
  // since this file last found nothing to clear
  // (VolumeParts::privileged_mode_changes): a chmod racing with the write
  // is then ordered after it, as one taking the inode lock after the
  // write's would be in Linux.
  bool MayHavePrivilegesToDrop() const {
    if (IsRoot(session_->credentials)) return false;  // ModeAfterWrite: never
    return nothing_to_drop_at_.load(std::memory_order_relaxed) !=
           session_->parts->privileged_mode_changes->load(std::memory_order_acquire);
  }
  Status DropPrivileges(CallOptions call) {
    if (!MayHavePrivilegesToDrop()) return Status::Ok();
    const uint64_t changes =
        session_->parts->privileged_mode_changes->load(std::memory_order_acquire);
    MDFS_ASSIGN_OR_RETURN(Attributes inode, engine().GetAttributes(handle_.ino));
    std::optional<uint32_t> mode = ModeAfterWrite(session_->credentials, inode);
    if (mode) {
      BreakScope scope(Breaking(call));
      SetAttributesRequest request;
      request.mask = kSetMode;
      request.mode = *mode;
      MDFS_RETURN_IF_ERROR(engine().SetAttributes(handle_.ino, request).status());
    }
    nothing_to_drop_at_.store(changes, std::memory_order_relaxed);
    return Status::Ok();
  }

  const std::shared_ptr<SessionState> session_;
  std::shared_ptr<OpenReference> reference_;  // reset by Close
  const Handle handle_;
  const int flags_;
  std::atomic<bool> closed_{false};
  // The privileged_mode_changes count at which the inode last needed no
  // privilege drop (0: not looked yet).
  std::atomic<uint64_t> nothing_to_drop_at_{0};
};

Result<std::unique_ptr<DirectMapping>> FileImpl::MapDirect(uint64_t offset, uint64_t length,
                                                           int prot, uint32_t flags,
                                                           MapDirectOptions options) {
  if (closed_.load()) return BadHandle("the file is closed");
  MDFS_RETURN_IF_ERROR(session_->CheckOpen());
  if (!OpenForReading(flags_)) {
    return AccessDenied("map_direct needs a file open for reading (inode " +
                        std::to_string(handle_.ino) + " is open O_WRONLY)");
  }
  if ((prot & PROT_WRITE) && !OpenForWriting(flags_)) {
    return AccessDenied("map_direct with PROT_WRITE needs a file open O_RDWR (inode " +
                        std::to_string(handle_.ino) + " is open O_RDONLY)");
  }
  std::shared_ptr<OpenReference> reference = reference_;
  BreakScope scope(Breaking({}));
  MDFS_ASSIGN_OR_RETURN(
      std::unique_ptr<direct_internal::DirectMappingImpl> mapping,
      direct_internal::MapDirectFor(&engine(), session_->parts->leases.get(), handle_.ino, offset,
                                    length, prot, flags, std::move(options), session_.get()));
  {
    std::lock_guard lock(session_->mu);
    if (session_->closed.load()) return BadHandle("the session closed during map_direct");
    session_->mappings.insert(mapping.get());
  }
  return std::unique_ptr<DirectMapping>(
      std::make_unique<SessionMapping>(session_, std::move(reference), std::move(mapping)));
}

}  // namespace

Result<std::unique_ptr<File>> MakeFile(std::shared_ptr<SessionState> session,
                                       const Attributes& inode, int flags) {
  FileSystemImpl* engine = session->parts->engine;
  MDFS_RETURN_IF_ERROR(engine->AddOpenReference(inode.ino, inode.generation).status());
  auto reference = std::make_shared<OpenReference>(engine, inode.ino, session.get());
  return std::unique_ptr<File>(
      std::make_unique<FileImpl>(std::move(session), std::move(reference), inode, flags));
}

}  // namespace mdfs::session_internal
