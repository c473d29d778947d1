// The C API: the namespace by path (mkdir, unlink, rmdir, rename, readdir,
// stat). A path's last component is looked up in its parent, which the
// session resolves (search permission on each directory, symlinks
// followed), as the kernel's *at calls do.
#include <sys/stat.h>

#include <string>

#include "capi/capi_internal.h"

namespace mdfs::capi_internal {
namespace {

static_assert(MDFS_RENAME_NOREPLACE == kRenameNoReplace);
static_assert(MDFS_RENAME_EXCHANGE == kRenameExchange);

// A path cut at its last component: "/a/b/" is ("/a", "b", trailing slash),
// "c" is ("", "c"), "/" is ("/", "").
struct PathParts {
  std::string_view parent;  // "": the root
  std::string_view name;    // "": the path names the root
  bool trailing_slash = false;
};

PathParts SplitPath(std::string_view path) {
  const size_t end = path.find_last_not_of('/');
  if (end == std::string_view::npos) return {"/", "", false};
  PathParts parts;
  parts.trailing_slash = end + 1 < path.size();
  const size_t slash = path.rfind('/', end);
  const size_t begin = slash == std::string_view::npos ? 0 : slash + 1;
  parts.name = path.substr(begin, end + 1 - begin);
  if (slash != std::string_view::npos) parts.parent = path.substr(0, slash == 0 ? 1 : slash);
  return parts;
}

// The parent directory of `parts`, or the failure already reported.
struct Parent {
  int rc = 0;
  Handle dir;
};

Parent ResolveParent(mdfs_session* session, const PathParts& parts, const char* path,
                     mdfs_error* error, const char* function) {
  if (parts.parent.empty()) return {0, session->session->root()};
  Result<Attributes> dir = session->session->Resolve(parts.parent, true);
  if (!dir.ok()) return {Fail(error, function, path, dir.status()), {}};
  return {0, Handle::Of(*dir)};
}

// The checks every path entry makes: the session, the path pointer, an
// empty path (ENOENT, as Linux).
int CheckPathCall(mdfs_session* session, const char* path, mdfs_error* error,
                  const char* function) {
  if (int rc = CheckSession(session, error, function)) return rc;
  if (int rc = CheckPointer(path, "path", error, function)) return rc;
  if (path[0] == '\0') {
    return FailWith(error, ENOENT, Code::kNotFound, function, "\"\"", "empty path");
  }
  return 0;
}

// "name/" of a non-directory: ENOTDIR, as Linux (unlink, rmdir, rename).
int CheckTrailingSlash(mdfs_session* session, Handle dir, const PathParts& parts, const char* path,
                       mdfs_error* error, const char* function) {
  if (!parts.trailing_slash) return 0;
  Result<Attributes> entry = session->session->Lookup(dir, parts.name);
  if (!entry.ok()) return Fail(error, function, path, entry.status());
  if (!S_ISDIR(entry->mode)) {
    return FailWith(error, ENOTDIR, Code::kNotDirectory, function, path,
                    "not a directory (the path ends with '/')");
  }
  return 0;
}

CallOptions Call(uint32_t flags) { return {.nonblocking = (flags & MDFS_NONBLOCK) != 0}; }

}  // namespace
}  // namespace mdfs::capi_internal

using namespace mdfs;
using namespace mdfs::capi_internal;

extern "C" {

int mdfs_mkdir(mdfs_session* session, const char* path, uint32_t mode, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_mkdir";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPathCall(session, path, error, kFunction)) return rc;
    const PathParts parts = SplitPath(path);
    if (parts.name.empty()) {
      return FailWith(error, EEXIST, Code::kExists, kFunction, path, "the root exists");
    }
    Parent parent = ResolveParent(session, parts, path, error, kFunction);
    if (parent.rc != 0) return parent.rc;
    Result<Attributes> made = session->session->Mkdir(parent.dir, parts.name, mode);
    if (!made.ok()) return Fail(error, kFunction, path, made.status());
    return Succeed(error);
  });
}

int mdfs_unlink(mdfs_session* session, const char* path, uint32_t flags, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_unlink";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPathCall(session, path, error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_NONBLOCK, "flags", error, kFunction)) return rc;
    const PathParts parts = SplitPath(path);
    if (parts.name.empty()) {
      return FailWith(error, EISDIR, Code::kIsDirectory, kFunction, path, "the root");
    }
    Parent parent = ResolveParent(session, parts, path, error, kFunction);
    if (parent.rc != 0) return parent.rc;
    if (int rc = CheckTrailingSlash(session, parent.dir, parts, path, error, kFunction)) {
      return rc;
    }
    Status status = session->session->Unlink(parent.dir, parts.name, Call(flags));
    if (!status.ok()) return Fail(error, kFunction, path, status);
    return Succeed(error);
  });
}

int mdfs_rmdir(mdfs_session* session, const char* path, uint32_t flags, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_rmdir";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPathCall(session, path, error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_NONBLOCK, "flags", error, kFunction)) return rc;
    const PathParts parts = SplitPath(path);
    if (parts.name.empty()) {
      return FailWith(error, EBUSY, Code::kWouldBlock, kFunction, path, "the root");
    }
    Parent parent = ResolveParent(session, parts, path, error, kFunction);
    if (parent.rc != 0) return parent.rc;
    Status status = session->session->Rmdir(parent.dir, parts.name, Call(flags));
    if (!status.ok()) return Fail(error, kFunction, path, status);
    return Succeed(error);
  });
}

int mdfs_rename(mdfs_session* session, const char* from, const char* to, uint32_t flags,
                mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_rename";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPathCall(session, from, error, kFunction)) return rc;
    if (int rc = CheckPointer(to, "to", error, kFunction)) return rc;
    constexpr uint32_t kKnown = MDFS_RENAME_NOREPLACE | MDFS_RENAME_EXCHANGE | MDFS_NONBLOCK;
    if (int rc = CheckFlags(flags, kKnown, "flags", error, kFunction)) return rc;
    if (to[0] == '\0') {
      return FailWith(error, ENOENT, Code::kNotFound, kFunction, "\"\"", "empty path");
    }
    const PathParts source = SplitPath(from);
    const PathParts target = SplitPath(to);
    if (source.name.empty() || target.name.empty()) {
      return FailWith(error, EBUSY, Code::kWouldBlock, kFunction, source.name.empty() ? from : to,
                      "the root cannot be renamed or replaced");
    }
    Parent from_dir = ResolveParent(session, source, from, error, kFunction);
    if (from_dir.rc != 0) return from_dir.rc;
    Parent to_dir = ResolveParent(session, target, to, error, kFunction);
    if (to_dir.rc != 0) return to_dir.rc;
    if (int rc = CheckTrailingSlash(session, from_dir.dir, source, from, error, kFunction)) {
      return rc;
    }
    Status status = session->session->Rename(from_dir.dir, source.name, to_dir.dir, target.name,
                                             flags & (MDFS_RENAME_NOREPLACE | MDFS_RENAME_EXCHANGE),
                                             Call(flags));
    if (!status.ok()) return Fail(error, kFunction, std::string(from) + " -> " + to, status);
    return Succeed(error);
  });
}

int64_t mdfs_readdir(mdfs_session* session, const char* path, mdfs_readdir_fn fn, void* user_data,
                     mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_readdir";
  return Guard(error, kFunction, [&]() -> int64_t {
    if (int rc = CheckPathCall(session, path, error, kFunction)) return rc;
    if (fn == nullptr) {
      return FailWith(error, EINVAL, Code::kInvalidArgument, kFunction, path, "fn is NULL");
    }
    Result<Attributes> dir = session->session->Resolve(path, true);
    if (!dir.ok()) return Fail(error, kFunction, path, dir.status());
    Result<std::vector<DirectoryEntry>> entries = session->session->ReadDirectory(Handle::Of(*dir));
    if (!entries.ok()) return Fail(error, kFunction, path, entries.status());
    int64_t delivered = 0;
    for (const DirectoryEntry& entry : *entries) {
      ++delivered;
      if (fn(entry.name.c_str(), entry.ino, entry.type, user_data) != 0) break;
    }
    Succeed(error);
    return delivered;
  });
}

int mdfs_stat(mdfs_session* session, const char* path, uint32_t flags, mdfs_attributes* attributes,
              mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_stat";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckPathCall(session, path, error, kFunction)) return rc;
    if (int rc = CheckPointer(attributes, "attributes", error, kFunction)) return rc;
    if (int rc = CheckFlags(flags, MDFS_STAT_NOFOLLOW, "flags", error, kFunction)) return rc;
    Result<Attributes> found = session->session->Resolve(path, (flags & MDFS_STAT_NOFOLLOW) == 0);
    if (!found.ok()) return Fail(error, kFunction, path, found.status());
    ToC(*found, attributes);
    return Succeed(error);
  });
}

}  // extern "C"
