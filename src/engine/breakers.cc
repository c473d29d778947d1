// The public operations that may change a block map: each runs its attempt
// in RunAsBreaker, which waits for recalls outside the engine lock and runs
// the attempt again (break_gate.h).
#include "engine/break_gate.h"
#include "engine/engine.h"

namespace mdfs {

Result<size_t> FileSystemImpl::Write(InodeNumber ino, uint64_t offset,
                                     std::span<const std::byte> data) {
  return RunAsBreaker([&] { return WriteAttempt(ino, offset, data); });
}

Status FileSystemImpl::Truncate(InodeNumber ino, uint64_t size) {
  return RunAsBreaker([&] { return TruncateAttempt(ino, size); });
}

Status FileSystemImpl::Fallocate(InodeNumber ino, uint32_t mode, uint64_t offset, uint64_t length) {
  return RunAsBreaker([&] { return FallocateAttempt(ino, mode, offset, length); });
}

Result<Attributes> FileSystemImpl::SetAttributes(InodeNumber ino,
                                                 const SetAttributesRequest& request) {
  return RunAsBreaker([&] { return SetAttributesAttempt(ino, request); });
}

Status FileSystemImpl::Unlink(InodeNumber parent, std::string_view name) {
  return RunAsBreaker([&] { return UnlinkAttempt(parent, name); });
}

Status FileSystemImpl::Rmdir(InodeNumber parent, std::string_view name) {
  return RunAsBreaker([&] { return RmdirAttempt(parent, name); });
}

Status FileSystemImpl::Rename(InodeNumber parent, std::string_view name, InodeNumber new_parent,
                              std::string_view new_name, uint32_t flags) {
  return RunAsBreaker([&] { return RenameAttempt(parent, name, new_parent, new_name, flags); });
}

Status FileSystemImpl::Seal(InodeNumber ino) {
  return RunAsBreaker([&] { return SealAttempt(ino); });
}

Status FileSystemImpl::Unseal(InodeNumber ino) {
  return RunAsBreaker([&] { return UnsealAttempt(ino); });
}

Status FileSystemImpl::PrepareDirectAccess(InodeNumber ino, uint64_t offset, uint64_t length,
                                           uint32_t flags, const DirectAccessGrant& grant) {
  return RunAsBreaker(
      [&] { return PrepareDirectAccessAttempt(ino, offset, length, flags, grant); });
}

}  // namespace mdfs
