// The host side of `mdfs get -r`: creating the copy of a tree under a host
// directory DIR, each step relative to an open directory descriptor, so
// that an image cannot make get write outside DIR:
//
//   * names are single components (no "/", never "." or ".."), checked
//     before use although the engine never returns such a name;
//   * nothing is opened through a symbolic link that get did not create
//     (O_NOFOLLOW on every component below DIR);
//   * an existing host entry is reused only when it has the same type: a
//     regular file is overwritten in place (never when it is the image
//     itself), a directory is merged into, a symbolic link is replaced (a
//     link is never followed). Anything else is left alone and reported.
#ifndef MDFS_TOOLS_HOST_TREE_H_
#define MDFS_TOOLS_HOST_TREE_H_

#include <string>

#include "host_io.h"
#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs::cli {

// kInvalidArgument unless `name` can name one entry of a host directory.
Status CheckHostName(const std::string& name);

// The directories of the copy are opened read-only (O_DIRECTORY); one that
// get makes has mode 0700 until ApplyAttributes gives it the image's, after
// its contents. An existing directory is merged into.

// DIR itself: created when missing (its parent must exist), reused when it
// is a directory (DIR is the caller's own path: a symbolic link to a
// directory is followed there, and only there). Refused when it exists and
// is not a directory, and when it is the image (`image`).
Result<HostFile> OpenTopDirectory(const std::string& path, const HostIdentity& image,
                                  const std::string& image_path);

// `name` in the directory `parent_fd`, created or reused; `host_path`
// names it in errors.
Result<HostFile> OpenDirectoryAt(int parent_fd, const std::string& name,
                                 const std::string& host_path);

// A regular file `name` in `dir_fd`, ready to be written from offset 0:
// created (mode 0600 until ApplyAttributes), or an existing regular file
// opened without following a link, checked not to be the image, then
// truncated. `created` says which, so a failed copy can say what it removed.
struct HostRegularFile {
  HostFile file;
  bool created = false;
};
Result<HostRegularFile> OpenRegularFileAt(int dir_fd, const std::string& name,
                                          const std::string& host_path, const HostIdentity& image,
                                          const std::string& image_path);

// A symbolic link `name` -> `target` in `dir_fd`; an existing symbolic link
// there is replaced, anything else refused.
Status MakeSymlinkAt(int dir_fd, const std::string& name, const std::string& target,
                     const std::string& host_path);

// Gives the host file or directory `fd` the image object's owner (when run
// as root, as cp -a does), permission bits (set-user-ID and set-group-ID
// only when the owner is the image's, as cp does) and access and
// modification times, in that order.
Status ApplyAttributes(int fd, const Attributes& attributes, const std::string& host_path);

// The same for the symbolic link `name` in `dir_fd` (owner and times; a
// link has no mode of its own).
Status ApplySymlinkAttributes(int dir_fd, const std::string& name, const Attributes& attributes,
                              const std::string& host_path);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_HOST_TREE_H_
