#include "mdfs/status.h"

#include <cerrno>

namespace mdfs {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kNotFound: return "not found";
    case Code::kCorruption: return "corruption";
    case Code::kIoError: return "I/O error";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotSupported: return "not supported";
    case Code::kNoSpace: return "no space";
    case Code::kWouldBlock: return "would block";
    case Code::kLeaseRevoked: return "lease revoked";
    case Code::kFenced: return "fenced";
    case Code::kTextFileBusy: return "text file busy";
    case Code::kExists: return "exists";
    case Code::kNotDirectory: return "not a directory";
    case Code::kIsDirectory: return "is a directory";
    case Code::kNotEmpty: return "directory not empty";
    case Code::kFileTooLarge: return "file too large";
    case Code::kNameTooLong: return "name too long";
    case Code::kReadOnly: return "read-only file system";
    case Code::kPermissionDenied: return "operation not permitted";
    case Code::kTooManyLinks: return "too many links";
    case Code::kLoop: return "too many levels of symbolic links";
    case Code::kNoDevice: return "no such device";
    case Code::kShutdown: return "file system shut down";
    case Code::kHole: return "hole";
    case Code::kStale: return "stale handle";
    case Code::kAccessDenied: return "permission denied";
    case Code::kBadHandle: return "bad file handle";
  }
  return "unknown error";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string text = CodeName(code_);
  if (!message_.empty()) text += ": " + message_;
  return text;
}

int Status::ToErrno() const {
  switch (code_) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kCorruption: return EUCLEAN;
    case Code::kIoError: return EIO;
    case Code::kInvalidArgument: return EINVAL;
    case Code::kNotSupported: return EOPNOTSUPP;
    case Code::kNoSpace: return ENOSPC;
    case Code::kWouldBlock: return EWOULDBLOCK;
    case Code::kLeaseRevoked: return EIO;
    case Code::kFenced: return ESTALE;
    case Code::kTextFileBusy: return ETXTBSY;
    case Code::kExists: return EEXIST;
    case Code::kNotDirectory: return ENOTDIR;
    case Code::kIsDirectory: return EISDIR;
    case Code::kNotEmpty: return ENOTEMPTY;
    case Code::kFileTooLarge: return EFBIG;
    case Code::kNameTooLong: return ENAMETOOLONG;
    case Code::kReadOnly: return EROFS;
    case Code::kPermissionDenied: return EPERM;
    case Code::kTooManyLinks: return EMLINK;
    case Code::kLoop: return ELOOP;
    case Code::kNoDevice: return ENODEV;
    case Code::kShutdown: return EIO;
    case Code::kHole: return ENXIO;
    case Code::kStale: return ESTALE;
    case Code::kAccessDenied: return EACCES;
    case Code::kBadHandle: return EBADF;
  }
  return EIO;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  if (!message_.empty()) message += ": " + message_;
  return Status(code_, std::move(message));
}

}  // namespace mdfs
