// Status and Result<T>: the one error convention of mdfs.
//
// A Status is OK (no message, nothing allocated) or carries a Code and a
// human-readable message that names the problem ("inode 12: extent 3 overlaps
// extent 2"). Codes follow POSIX where POSIX has an error for the situation,
// so front ends (the CLI, FUSE, the server) map them to errno with ToErrno().
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads freely.
#ifndef MDFS_INCLUDE_MDFS_STATUS_H_
#define MDFS_INCLUDE_MDFS_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mdfs {

// Values are part of the API (and may cross the wire later): never renumber.
enum class Code : int {
  kOk = 0,
  kNotFound = 1,          // ENOENT
  kCorruption = 2,        // EUCLEAN: on-device data failed a check
  kIoError = 3,           // EIO
  kInvalidArgument = 4,   // EINVAL
  kNotSupported = 5,      // EOPNOTSUPP
  kNoSpace = 6,           // ENOSPC
  kWouldBlock = 7,        // EWOULDBLOCK / EAGAIN: busy, try again
  kLeaseRevoked = 8,      // a layout lease was recalled and revoked
  kFenced = 9,            // the holder was fenced and must reconnect
  kTextFileBusy = 10,     // ETXTBSY: the block map is sealed
  kExists = 11,           // EEXIST
  kNotDirectory = 12,     // ENOTDIR
  kIsDirectory = 13,      // EISDIR
  kNotEmpty = 14,         // ENOTEMPTY
  kFileTooLarge = 15,     // EFBIG
  kNameTooLong = 16,      // ENAMETOOLONG
  kReadOnly = 17,         // EROFS
  kPermissionDenied = 18, // EPERM
  kTooManyLinks = 19,     // EMLINK
  kLoop = 20,             // ELOOP
  kNoDevice = 21,         // ENODEV: operation not valid for this file type
  kShutdown = 22,         // EIO: the file system shut down after an I/O error; reopen it
  kHole = 23,             // ENXIO: the range has a hole (or lies past the end of the file)
  kStale = 24,            // ESTALE: a handle names an inode that was freed (and maybe reused)
  kAccessDenied = 25,     // EACCES: the caller's credentials lack a permission bit
  kBadHandle = 26,        // EBADF: a closed file, or one not open for this access
};

class Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "no space: need 12 blocks, 3 free" — the code name, then the message.
  std::string ToString() const;
  // The POSIX errno that corresponds to code() (0 when ok()).
  int ToErrno() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Short constructors, one per code, so call sites read naturally:
//   return NotFound("no entry named " + name);
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
inline Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
inline Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
inline Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
inline Status NotDirectory(std::string m) { return {Code::kNotDirectory, std::move(m)}; }
inline Status IsDirectory(std::string m) { return {Code::kIsDirectory, std::move(m)}; }
inline Status NotEmpty(std::string m) { return {Code::kNotEmpty, std::move(m)}; }
inline Status FileTooLarge(std::string m) { return {Code::kFileTooLarge, std::move(m)}; }
inline Status NameTooLong(std::string m) { return {Code::kNameTooLong, std::move(m)}; }
inline Status ReadOnly(std::string m) { return {Code::kReadOnly, std::move(m)}; }
inline Status TextFileBusy(std::string m) { return {Code::kTextFileBusy, std::move(m)}; }
inline Status WouldBlock(std::string m) { return {Code::kWouldBlock, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status TooManyLinks(std::string m) { return {Code::kTooManyLinks, std::move(m)}; }
inline Status NoDevice(std::string m) { return {Code::kNoDevice, std::move(m)}; }
inline Status Shutdown(std::string m) { return {Code::kShutdown, std::move(m)}; }
inline Status Hole(std::string m) { return {Code::kHole, std::move(m)}; }
inline Status Loop(std::string m) { return {Code::kLoop, std::move(m)}; }
inline Status Stale(std::string m) { return {Code::kStale, std::move(m)}; }
inline Status AccessDenied(std::string m) { return {Code::kAccessDenied, std::move(m)}; }
inline Status BadHandle(std::string m) { return {Code::kBadHandle, std::move(m)}; }

const char* CodeName(Code code);

// Result<T>: a T, or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace mdfs

// Propagate a non-OK Status to the caller.
#define MDFS_RETURN_IF_ERROR(expr)             \
  do {                                         \
    ::mdfs::Status mdfs_status_ = (expr);      \
    if (!mdfs_status_.ok()) return mdfs_status_; \
  } while (0)

#define MDFS_CONCAT_INNER_(a, b) a##b
#define MDFS_CONCAT_(a, b) MDFS_CONCAT_INNER_(a, b)
// MDFS_ASSIGN_OR_RETURN(auto x, Function()): unwrap a Result or return its Status.
#define MDFS_ASSIGN_OR_RETURN(lhs, expr) \
  MDFS_ASSIGN_OR_RETURN_IMPL_(MDFS_CONCAT_(mdfs_result_, __LINE__), lhs, expr)
#define MDFS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // MDFS_INCLUDE_MDFS_STATUS_H_
