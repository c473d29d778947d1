// The C API (include/mdfs/mdfs.h) over the session layer: what its opaque
// handles hold, and the helpers every entry point uses.
//
//   capi_volume.cc     mdfs_mkfs, volumes, sessions
//   capi_namespace.cc  mkdir, unlink, rmdir, rename, readdir, stat
//   capi_file.cc       open, close, pread, pwrite, fsync, ftruncate,
//                      fallocate, fstat
//   capi_mapping.cc    map_direct, mapping info, persist, unmap
//
// Invariants:
//   1. Every handle starts with its kind's magic while open; closing sets
//      it to 0 before the handle is freed. CheckHandle refuses NULL and a
//      handle of another kind with EBADF. (A handle used after its close is
//      undefined behaviour, as a FILE* is; the magic catches it only
//      sometimes.)
//   2. mdfs_volume::children counts the volume's open sessions, files and
//      mappings: each handle increments it when made and decrements it when
//      freed, so mdfs_volume_close can refuse (EBUSY) before the C++
//      objects' lifetime rule (Volume last) would be broken.
//   3. No C++ exception leaves an entry point (Guard).
#ifndef MDFS_SRC_CAPI_CAPI_INTERNAL_H_
#define MDFS_SRC_CAPI_CAPI_INTERNAL_H_

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "mdfs/mdfs.h"
#include "mdfs/session.h"

namespace mdfs::capi_internal {

inline constexpr uint32_t kVolumeMagic = 0x4d564f4c;   // "MVOL"
inline constexpr uint32_t kSessionMagic = 0x4d534553;  // "MSES"
inline constexpr uint32_t kFileMagic = 0x4d46494c;     // "MFIL"
inline constexpr uint32_t kMappingMagic = 0x4d4d4150;  // "MMAP"

}  // namespace mdfs::capi_internal

struct mdfs_volume {
  uint32_t magic = mdfs::capi_internal::kVolumeMagic;
  std::unique_ptr<mdfs::Volume> volume;
  std::string path;                   // for messages
  std::atomic<uint64_t> children{0};  // invariant 2
};

struct mdfs_session {
  uint32_t magic = mdfs::capi_internal::kSessionMagic;
  mdfs_volume* volume = nullptr;
  std::unique_ptr<mdfs::Session> session;
};

struct mdfs_file {
  uint32_t magic = mdfs::capi_internal::kFileMagic;
  mdfs_volume* volume = nullptr;
  std::unique_ptr<mdfs::File> file;
  std::string path;  // as opened, for messages
};

struct mdfs_mapping {
  uint32_t magic = mdfs::capi_internal::kMappingMagic;
  mdfs_volume* volume = nullptr;
  // Set once MapDirect returned; read by accessors that a recall callback
  // may call on the breaker's thread (null before: the window between the
  // grant and the return).
  std::atomic<mdfs::DirectMapping*> mapping{nullptr};
  std::unique_ptr<mdfs::DirectMapping> owned;  // touched by mdfs_map_direct and mdfs_unmap only
  mdfs_recall_fn on_recall = nullptr;
  void* user_data = nullptr;
};

namespace mdfs::capi_internal {

// Clears `error` (may be null) and returns 0.
inline int Succeed(mdfs_error* error) {
  if (error != nullptr) {
    error->error_number = 0;
    error->code = MDFS_CODE_OK;
    error->message[0] = '\0';
  }
  return 0;
}

// Fills `error` with "<function>[ <object>]: <message>" and returns
// -error_number.
int FailWith(mdfs_error* error, int error_number, Code code, const char* function,
             std::string_view object, std::string_view message);
// The same for a non-OK Status: its errno, code and ToString().
int Fail(mdfs_error* error, const char* function, std::string_view object, const Status& status);

// EBADF for NULL or a handle that is not an open handle of its kind.
template <typename Handle>
int CheckHandle(const Handle* handle, uint32_t magic, const char* kind, mdfs_error* error,
                const char* function) {
  if (handle == nullptr) {
    return FailWith(error, EBADF, Code::kBadHandle, function, "",
                    std::string(kind) + " handle is NULL");
  }
  uint32_t found;
  std::memcpy(&found, handle, sizeof found);
  if (found != magic) {
    return FailWith(error, EBADF, Code::kBadHandle, function, "",
                    std::string("not an open ") + kind + " handle (closed, or another kind)");
  }
  return 0;
}

inline int CheckVolume(const mdfs_volume* h, mdfs_error* e, const char* f) {
  return CheckHandle(h, kVolumeMagic, "mdfs_volume", e, f);
}
inline int CheckSession(const mdfs_session* h, mdfs_error* e, const char* f) {
  return CheckHandle(h, kSessionMagic, "mdfs_session", e, f);
}
inline int CheckFile(const mdfs_file* h, mdfs_error* e, const char* f) {
  return CheckHandle(h, kFileMagic, "mdfs_file", e, f);
}
inline int CheckMapping(const mdfs_mapping* h, mdfs_error* e, const char* f) {
  return CheckHandle(h, kMappingMagic, "mdfs_mapping", e, f);
}

// EINVAL when a pointer argument the call needs is NULL.
int CheckPointer(const void* pointer, const char* name, mdfs_error* error, const char* function);
// EOPNOTSUPP for bits of `flags` outside `known`.
int CheckFlags(uint64_t flags, uint64_t known, const char* name, mdfs_error* error,
               const char* function);

// Runs `body` (which returns an int or int64_t result) and turns an escaping
// exception into -ENOMEM / -EIO (invariant 3).
template <typename Body>
auto Guard(mdfs_error* error, const char* function, Body&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return FailWith(error, ENOMEM, Code::kNoSpace, function, "", "out of memory");
  } catch (const std::exception& exception) {
    return FailWith(error, EIO, Code::kIoError, function, "", exception.what());
  } catch (...) {
    return FailWith(error, EIO, Code::kIoError, function, "", "unknown exception");
  }
}

void ToC(const Attributes& attributes, mdfs_attributes* out);

}  // namespace mdfs::capi_internal

#endif  // MDFS_SRC_CAPI_CAPI_INTERNAL_H_
