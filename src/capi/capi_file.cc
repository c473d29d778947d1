// The C API: open files (open, close, pread, pwrite, fsync, ftruncate,
// fallocate, fstat).
#include <cstdint>
#include <span>

#include "capi/capi_internal.h"

namespace mdfs::capi_internal {
namespace {

static_assert(MDFS_FALLOCATE_KEEP_SIZE == kFallocateKeepSize);
static_assert(MDFS_FALLOCATE_PUNCH_HOLE == kFallocatePunchHole);
static_assert(MDFS_FALLOCATE_COLLAPSE_RANGE == kFallocateCollapseRange);
static_assert(MDFS_FALLOCATE_ZERO_RANGE == kFallocateZeroRange);
static_assert(MDFS_FALLOCATE_INSERT_RANGE == kFallocateInsertRange);

// The checks of a transfer: the file, the count, the buffer.
int CheckTransfer(const mdfs_file* file, const void* buffer, size_t count, mdfs_error* error,
                  const char* function) {
  if (int rc = CheckFile(file, error, function)) return rc;
  if (count > static_cast<size_t>(INT64_MAX)) {
    return FailWith(error, EINVAL, Code::kInvalidArgument, function, file->path,
                    "count " + std::to_string(count) + " is above INT64_MAX");
  }
  if (count > 0) return CheckPointer(buffer, "buffer", error, function);
  return 0;
}

CallOptions Call(uint32_t flags) { return {.nonblocking = (flags & MDFS_NONBLOCK) != 0}; }

}  // namespace
}  // namespace mdfs::capi_internal

using namespace mdfs;
using namespace mdfs::capi_internal;

extern "C" {

int mdfs_open(mdfs_session* session, const char* path, int flags, uint32_t mode, mdfs_file** file,
              mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_open";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckSession(session, error, kFunction)) return rc;
    if (int rc = CheckPointer(path, "path", error, kFunction)) return rc;
    if (int rc = CheckPointer(file, "file (the result)", error, kFunction)) return rc;
    // Unknown flag bits and access mode 3 are refused by the session
    // (EOPNOTSUPP, EINVAL) before anything is looked up.
    Result<std::unique_ptr<File>> opened = session->session->OpenPath(path, flags, mode);
    if (!opened.ok()) return Fail(error, kFunction, path, opened.status());
    auto handle = std::make_unique<mdfs_file>();
    handle->volume = session->volume;
    handle->file = std::move(*opened);
    handle->path = path;
    ++handle->volume->children;
    *file = handle.release();
    return Succeed(error);
  });
}

int mdfs_close(mdfs_file* file, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_close";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckFile(file, error, kFunction)) return rc;
    file->magic = 0;
    mdfs_volume* volume = file->volume;
    std::string path = std::move(file->path);
    Status status = file->file->Close();
    delete file;
    --volume->children;  // after the File is gone (invariant 2)
    if (!status.ok()) return Fail(error, kFunction, path, status);
    return Succeed(error);
  });
}

int64_t mdfs_pread(mdfs_file* file, void* buffer, size_t count, uint64_t offset,
                   mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_pread";
  return Guard(error, kFunction, [&]() -> int64_t {
    if (int rc = CheckTransfer(file, buffer, count, error, kFunction)) return rc;
    Result<size_t> n = file->file->Read(offset, std::span(static_cast<std::byte*>(buffer), count));
    if (!n.ok()) return Fail(error, kFunction, file->path, n.status());
    Succeed(error);
    return static_cast<int64_t>(*n);
  });
}

int64_t mdfs_pwrite(mdfs_file* file, const void* buffer, size_t count, uint64_t offset,
                    mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_pwrite";
  return Guard(error, kFunction, [&]() -> int64_t {
    if (int rc = CheckTransfer(file, buffer, count, error, kFunction)) return rc;
    Result<size_t> n =
        file->file->Write(offset, std::span(static_cast<const std::byte*>(buffer), count));
    if (!n.ok()) return Fail(error, kFunction, file->path, n.status());
    Succeed(error);
    return static_cast<int64_t>(*n);
  });
}

int mdfs_fsync(mdfs_file* file, uint32_t flags, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_fsync";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckFile(file, error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_FSYNC_DATA_ONLY, "flags", error, kFunction)) return rc;
    Status status = file->file->Fsync((flags & MDFS_FSYNC_DATA_ONLY) != 0);
    if (!status.ok()) return Fail(error, kFunction, file->path, status);
    return Succeed(error);
  });
}

int mdfs_ftruncate(mdfs_file* file, uint64_t size, uint32_t flags, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_ftruncate";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckFile(file, error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_NONBLOCK, "flags", error, kFunction)) return rc;
    Status status = file->file->Truncate(size, Call(flags));
    if (!status.ok()) return Fail(error, kFunction, file->path, status);
    return Succeed(error);
  });
}

int mdfs_fallocate(mdfs_file* file, uint32_t mode, uint64_t offset, uint64_t length, uint32_t flags,
                   mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_fallocate";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckFile(file, error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_NONBLOCK, "flags", error, kFunction)) return rc;
    // Unknown mode bits and combinations Linux refuses: EOPNOTSUPP from
    // the engine.
    Status status = file->file->Fallocate(mode, offset, length, Call(flags));
    if (!status.ok()) return Fail(error, kFunction, file->path, status);
    return Succeed(error);
  });
}

int mdfs_fstat(mdfs_file* file, mdfs_attributes* attributes, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_fstat";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckFile(file, error, kFunction)) return rc;
    if (int rc = CheckPointer(attributes, "attributes", error, kFunction)) return rc;
    Result<Attributes> found = file->file->Stat();
    if (!found.ok()) return Fail(error, kFunction, file->path, found.status());
    ToC(*found, attributes);
    return Succeed(error);
  });
}

}  // extern "C"
