// The C API: errors, mdfs_mkfs, volumes and sessions.
#include <sys/stat.h>

#include <cstddef>
#include <cstdio>
#include <vector>

#include "capi/capi_internal.h"

namespace mdfs::capi_internal {

// mdfs_attributes and mdfs_error are ABI: fixed-width fields, no padding.
static_assert(sizeof(mdfs_attributes) == 80);
static_assert(offsetof(mdfs_attributes, generation) == 8);
static_assert(offsetof(mdfs_attributes, size) == 32);
static_assert(offsetof(mdfs_attributes, atime_ns) == 48);
static_assert(offsetof(mdfs_attributes, btime_ns) == 72);
static_assert(sizeof(mdfs_error) == 8 + MDFS_ERROR_MESSAGE_SIZE);

// The MDFS_CODE_* values are Code's (never renumbered, either of them).
static_assert(MDFS_CODE_NOT_FOUND == static_cast<int>(Code::kNotFound));
static_assert(MDFS_CODE_CORRUPTION == static_cast<int>(Code::kCorruption));
static_assert(MDFS_CODE_IO_ERROR == static_cast<int>(Code::kIoError));
static_assert(MDFS_CODE_INVALID_ARGUMENT == static_cast<int>(Code::kInvalidArgument));
static_assert(MDFS_CODE_NOT_SUPPORTED == static_cast<int>(Code::kNotSupported));
static_assert(MDFS_CODE_NO_SPACE == static_cast<int>(Code::kNoSpace));
static_assert(MDFS_CODE_WOULD_BLOCK == static_cast<int>(Code::kWouldBlock));
static_assert(MDFS_CODE_LEASE_REVOKED == static_cast<int>(Code::kLeaseRevoked));
static_assert(MDFS_CODE_FENCED == static_cast<int>(Code::kFenced));
static_assert(MDFS_CODE_TEXT_FILE_BUSY == static_cast<int>(Code::kTextFileBusy));
static_assert(MDFS_CODE_EXISTS == static_cast<int>(Code::kExists));
static_assert(MDFS_CODE_NOT_DIRECTORY == static_cast<int>(Code::kNotDirectory));
static_assert(MDFS_CODE_IS_DIRECTORY == static_cast<int>(Code::kIsDirectory));
static_assert(MDFS_CODE_NOT_EMPTY == static_cast<int>(Code::kNotEmpty));
static_assert(MDFS_CODE_FILE_TOO_LARGE == static_cast<int>(Code::kFileTooLarge));
static_assert(MDFS_CODE_NAME_TOO_LONG == static_cast<int>(Code::kNameTooLong));
static_assert(MDFS_CODE_READ_ONLY == static_cast<int>(Code::kReadOnly));
static_assert(MDFS_CODE_PERMISSION_DENIED == static_cast<int>(Code::kPermissionDenied));
static_assert(MDFS_CODE_TOO_MANY_LINKS == static_cast<int>(Code::kTooManyLinks));
static_assert(MDFS_CODE_LOOP == static_cast<int>(Code::kLoop));
static_assert(MDFS_CODE_NO_DEVICE == static_cast<int>(Code::kNoDevice));
static_assert(MDFS_CODE_SHUTDOWN == static_cast<int>(Code::kShutdown));
static_assert(MDFS_CODE_HOLE == static_cast<int>(Code::kHole));
static_assert(MDFS_CODE_STALE == static_cast<int>(Code::kStale));
static_assert(MDFS_CODE_ACCESS_DENIED == static_cast<int>(Code::kAccessDenied));
static_assert(MDFS_CODE_BAD_HANDLE == static_cast<int>(Code::kBadHandle));

static_assert(MDFS_PERSISTENCE_CPU_CACHE == static_cast<int>(PersistenceMode::kCpuCache));
static_assert(MDFS_PERSISTENCE_MSYNC == static_cast<int>(PersistenceMode::kMsync));
static_assert(MDFS_PERSISTENCE_FDATASYNC == static_cast<int>(PersistenceMode::kFdatasync));
static_assert(MDFS_PERSISTENCE_VOLATILE == static_cast<int>(PersistenceMode::kVolatile));

int FailWith(mdfs_error* error, int error_number, Code code, const char* function,
             std::string_view object, std::string_view message) {
  if (error != nullptr) {
    error->error_number = error_number;
    error->code = static_cast<int>(code);
    std::snprintf(error->message, sizeof error->message, "%s%s%.*s: %.*s", function,
                  object.empty() ? "" : " ", static_cast<int>(object.size()), object.data(),
                  static_cast<int>(message.size()), message.data());
  }
  return -error_number;
}

int Fail(mdfs_error* error, const char* function, std::string_view object, const Status& status) {
  return FailWith(error, status.ToErrno(), status.code(), function, object, status.ToString());
}

int CheckPointer(const void* pointer, const char* name, mdfs_error* error, const char* function) {
  if (pointer != nullptr) return 0;
  return FailWith(error, EINVAL, Code::kInvalidArgument, function, "",
                  std::string(name) + " is NULL");
}

int CheckFlags(uint64_t flags, uint64_t known, const char* name, mdfs_error* error,
               const char* function) {
  if ((flags & ~known) == 0) return 0;
  char bits[32];
  std::snprintf(bits, sizeof bits, "0x%llx", static_cast<unsigned long long>(flags & ~known));
  return FailWith(error, EOPNOTSUPP, Code::kNotSupported, function, "",
                  std::string("unknown ") + name + " bits " + bits);
}

void ToC(const Attributes& attributes, mdfs_attributes* out) {
  *out = mdfs_attributes{};
  out->ino = attributes.ino;
  out->generation = attributes.generation;
  out->mode = attributes.mode;
  out->uid = attributes.uid;
  out->gid = attributes.gid;
  out->nlink = attributes.nlink;
  out->flags = attributes.flags;
  out->size = attributes.size;
  out->allocated_blocks = attributes.allocated_blocks;
  out->atime_ns = attributes.atime.ns;
  out->mtime_ns = attributes.mtime.ns;
  out->ctime_ns = attributes.ctime.ns;
  out->btime_ns = attributes.btime.ns;
}

namespace {

int OpenSession(mdfs_volume* volume, const Credentials& credentials, mdfs_session** out,
                mdfs_error* error, const char* function) {
  Result<std::unique_ptr<Session>> session = volume->volume->OpenSession(credentials);
  if (!session.ok()) return Fail(error, function, volume->path, session.status());
  auto handle = std::make_unique<mdfs_session>();
  handle->volume = volume;
  handle->session = std::move(*session);
  ++volume->children;
  *out = handle.release();
  return Succeed(error);
}

}  // namespace
}  // namespace mdfs::capi_internal

using namespace mdfs;
using namespace mdfs::capi_internal;

extern "C" {

int mdfs_mkfs(const char* path, uint64_t size_bytes, uint32_t flags, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_mkfs";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPointer(path, "path", error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_MKFS_EXISTING, "flags", error, kFunction)) return rc;
    const bool existing = flags & MDFS_MKFS_EXISTING;
    struct stat st;
    const bool exists = ::stat(path, &st) == 0;
    if (existing && size_bytes != 0) {
      return FailWith(error, EINVAL, Code::kInvalidArgument, kFunction, path,
                      "MDFS_MKFS_EXISTING formats the file at its size: size_bytes must be 0");
    }
    if (!existing && size_bytes == 0) {
      return FailWith(error, EINVAL, Code::kInvalidArgument, kFunction, path,
                      "size_bytes is 0 (MDFS_MKFS_EXISTING formats an existing file)");
    }
    if (!existing && exists) {
      return FailWith(error, EEXIST, Code::kExists, kFunction, path,
                      "exists (MDFS_MKFS_EXISTING formats it, destroying its contents)");
    }
    FileDeviceOptions options{.create = !existing, .create_size = size_bytes};
    Result<std::unique_ptr<Device>> device = OpenFileDevice(path, options);
    if (!device.ok()) return Fail(error, kFunction, path, device.status());
    Status formatted = FileSystem::Format(device->get());
    if (!formatted.ok()) return Fail(error, kFunction, path, formatted);
    return Succeed(error);
  });
}

int mdfs_volume_open(const char* path, uint32_t flags, int64_t lease_break_time_ms,
                     mdfs_volume** volume, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_volume_open";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPointer(path, "path", error, kFunction)) return rc;
    if (int rc = CheckPointer(volume, "volume (the result)", error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_VOLUME_READ_ONLY, "flags", error, kFunction)) return rc;
    if (lease_break_time_ms < MDFS_LEASE_BREAK_TIME_DEFAULT) {
      return FailWith(error, EINVAL, Code::kInvalidArgument, kFunction, path,
                      "lease_break_time_ms " + std::to_string(lease_break_time_ms) +
                          " (>= 0, or MDFS_LEASE_BREAK_TIME_DEFAULT)");
    }
    VolumeOptions options;
    options.read_only = flags & MDFS_VOLUME_READ_ONLY;
    if (lease_break_time_ms >= 0) {
      options.lease_break_time_ms = static_cast<uint64_t>(lease_break_time_ms);
    }
    Result<std::unique_ptr<Volume>> opened = Volume::Open(path, options);
    if (!opened.ok()) return Fail(error, kFunction, path, opened.status());
    auto handle = std::make_unique<mdfs_volume>();
    handle->volume = std::move(*opened);
    handle->path = path;
    *volume = handle.release();
    return Succeed(error);
  });
}

int mdfs_volume_close(mdfs_volume* volume, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_volume_close";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckVolume(volume, error, kFunction)) return rc;
    if (uint64_t children = volume->children.load(); children > 0) {
      return FailWith(error, EBUSY, Code::kWouldBlock, kFunction, volume->path,
                      std::to_string(children) +
                          " session(s), file(s) or mapping(s) of the volume are open: close "
                          "them first");
    }
    volume->magic = 0;
    delete volume;
    return Succeed(error);
  });
}

int mdfs_session_open(mdfs_volume* volume, uint32_t uid, uint32_t gid, const uint32_t* groups,
                      size_t group_count, int32_t pid, mdfs_session** session, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_session_open";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckVolume(volume, error, kFunction)) return rc;
    if (int rc = CheckPointer(session, "session (the result)", error, kFunction)) return rc;
    if (group_count > 0) {
      if (int rc = CheckPointer(groups, "groups (with group_count > 0)", error, kFunction)) {
        return rc;
      }
    }
    Credentials credentials{.uid = uid, .gid = gid, .groups = {}, .pid = pid};
    if (group_count > 0) credentials.groups.assign(groups, groups + group_count);
    return OpenSession(volume, credentials, session, error, kFunction);
  });
}

int mdfs_session_open_self(mdfs_volume* volume, mdfs_session** session, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_session_open_self";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckVolume(volume, error, kFunction)) return rc;
    if (int rc = CheckPointer(session, "session (the result)", error, kFunction)) return rc;
    return OpenSession(volume, Credentials::OfThisProcess(), session, error, kFunction);
  });
}

int mdfs_session_close(mdfs_session* session, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_session_close";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckSession(session, error, kFunction)) return rc;
    session->magic = 0;
    mdfs_volume* volume = session->volume;
    session->session->Close();
    delete session;
    --volume->children;  // after the Session is gone (invariant 2)
    return Succeed(error);
  });
}

}  // extern "C"
