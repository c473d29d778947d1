// Path resolution for a session: components looked up one by one, each
// directory needing search permission, symlinks followed (at most 40, as
// Linux's MAXSYMLINKS), "." and ".." as in a local file system (".." of the
// root is the root).
#include <sys/stat.h>

#include "session/permissions.h"
#include "session/session_impl.h"

namespace mdfs::session_internal {
namespace {

constexpr int kMaxSymlinks = 40;
constexpr size_t kMaxPathLength = 4095;  // PATH_MAX less the NUL

// The next component of `path` from `*position`, skipping slashes.
std::string_view NextComponent(std::string_view path, size_t* position) {
  while (*position < path.size() && path[*position] == '/') ++*position;
  size_t begin = *position;
  while (*position < path.size() && path[*position] != '/') ++*position;
  return path.substr(begin, *position - begin);
}

bool OnlySlashesFrom(std::string_view path, size_t position) {
  return path.find_first_not_of('/', position) == std::string_view::npos;
}

}  // namespace

Result<Attributes> SessionImpl::Resolve(std::string_view path, bool follow_last,
                                        std::optional<Handle> at) {
  MDFS_RETURN_IF_ERROR(state_->CheckOpen());
  if (path.empty()) return NotFound("empty path");
  if (path.size() > kMaxPathLength) {
    return NameTooLong("path of " + std::to_string(path.size()) + " bytes (at most 4095)");
  }
  if (path.find('\0') != std::string_view::npos) return InvalidArgument("path holds a NUL byte");
  MDFS_ASSIGN_OR_RETURN(Attributes start, Current(path[0] == '/' || !at ? root_ : *at));
  int links_left = kMaxSymlinks;
  return WalkFrom(start, path, follow_last, &links_left);
}

Result<Attributes> SessionImpl::WalkFrom(Attributes dir, std::string_view path, bool follow_last,
                                         int* links_left) {
  if (!path.empty() && path[0] == '/') {
    MDFS_ASSIGN_OR_RETURN(dir, Current(root_));
  }
  size_t position = 0;
  for (;;) {
    std::string_view name = NextComponent(path, &position);
    if (name.empty()) return dir;  // the path ended (possibly with slashes)
    const bool last = OnlySlashesFrom(path, position);
    const bool trailing_slash = last && position < path.size();
    if (!S_ISDIR(dir.mode)) {
      return NotDirectory("inode " + std::to_string(dir.ino) + " is not a directory");
    }
    MDFS_RETURN_IF_ERROR(CheckAccess(who(), dir, kMayExec));
    if (name == ".") continue;
    Attributes child;
    if (name == "..") {
      MDFS_ASSIGN_OR_RETURN(child,
                            dir.ino == root_.ino ? Current(root_) : engine().Lookup(dir.ino, ".."));
    } else {
      MDFS_ASSIGN_OR_RETURN(child, engine().Lookup(dir.ino, name));
    }
    if (S_ISLNK(child.mode) && (!last || follow_last || trailing_slash)) {
      if (--*links_left < 0) return Loop("more than 40 symbolic links in " + std::string(path));
      MDFS_ASSIGN_OR_RETURN(std::string target, engine().ReadLink(child.ino));
      MDFS_ASSIGN_OR_RETURN(child, WalkFrom(dir, target, true, links_left));
    }
    if (trailing_slash && !S_ISDIR(child.mode)) {
      return NotDirectory(std::string(path) + ": not a directory");
    }
    dir = child;
  }
}

}  // namespace mdfs::session_internal
