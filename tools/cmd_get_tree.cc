// mdfs get -r IMAGE PATH DIR [--json]   copy a directory tree out of the image
//
// A depth-first walk of the image from PATH, in name order. Each object is
// read from the image before its host copy is made, so an object that
// cannot be read (a damaged inode, extent chain or directory block: the
// engine's kCorruption names the block) leaves nothing on the host; it is
// reported and the walk goes on with its siblings. Host writes go through
// host_tree.h, relative to directory descriptors.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <set>
#include <utility>
#include <vector>

#include "copy_out.h"
#include "escape.h"
#include "get_tree.h"
#include "host_io.h"
#include "host_tree.h"
#include "output.h"

namespace mdfs::cli {
namespace {

// Directories nested deeper below PATH are reported, not copied: each level
// holds one host directory descriptor (and one stack frame) while its
// subtree is copied, and the usual limit is 1024 descriptors.
constexpr int kMaxDepth = 1000;

bool IsDirectoryMode(uint32_t mode) { return (mode & S_IFMT) == S_IFDIR; }

// One object of the tree: where it is in the image and on the host.
struct Place {
  std::string image_path;
  std::string host_path;  // for messages only; every write is relative to a descriptor
};

struct Failure {
  std::string path;
  Status status;
};

struct TreeCounts {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t bytes = 0;  // the sizes of the files copied
};

// "1 file", "2 files".
std::string Count(uint64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

class TreeCopier {
 public:
  TreeCopier(FileSystem& fs, HostIdentity image, std::string image_path)
      : fs_(fs), image_(image), image_path_(std::move(image_path)), progress_("get", -1) {}

  // Copies PATH's `entries` into `top` (DIR), then gives DIR PATH's
  // attributes.
  Status CopyTop(const Attributes& attributes, std::vector<DirectoryEntry> entries, HostFile& top,
                 const Place& place) {
    directories_seen_.insert(attributes.ino);
    return CopyContents(attributes, std::move(entries), top, place, 0);
  }

  // Reports an object that was not copied: one line on stderr.
  void Fail(const std::string& image_path, const Status& status) {
    progress_.Erase();
    ReportError("get", image_path, status);
    failures_.push_back({image_path, status});
  }

  void FinishProgress() { progress_.Finish(); }
  const TreeCounts& counts() const { return counts_; }
  const std::vector<Failure>& failures() const { return failures_; }

 private:
  Status CopyContents(const Attributes& attributes, std::vector<DirectoryEntry> entries,
                      HostFile& directory, const Place& place, int depth);
  void CopyEntry(const DirectoryEntry& entry, int dir_fd, const Place& parent, int depth);
  Status CopyObject(const Attributes& attributes, const std::string& name, int dir_fd,
                    const Place& place, int depth);
  Status CopyDirectory(const Attributes& attributes, const std::string& name, int dir_fd,
                       const Place& place, int depth);
  Status CopyFile(const Attributes& attributes, const std::string& name, int dir_fd,
                  const Place& place);
  Status CopySymlink(const Attributes& attributes, const std::string& name, int dir_fd,
                     const Place& place);
  void ShowProgress(uint64_t offset_in_file) {
    progress_.Update(counts_.bytes + offset_in_file, Count(counts_.files, "file", "files"));
  }

  FileSystem& fs_;
  const HostIdentity image_;
  const std::string image_path_;
  // Directories entered: a damaged image may name one twice (fsck's
  // directory-hard-link, directory-cycle); it is copied once.
  std::set<InodeNumber> directories_seen_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kCopyChunkBytes);
  Progress progress_;
  TreeCounts counts_;
  std::vector<Failure> failures_;
};

Status TreeCopier::CopyContents(const Attributes& attributes, std::vector<DirectoryEntry> entries,
                                HostFile& directory, const Place& place, int depth) {
  std::sort(entries.begin(), entries.end(),
            [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
  for (const DirectoryEntry& entry : entries) {
    CopyEntry(entry, directory.fd(), place, depth);
  }
  // After the contents, which change its times (and may need its write
  // bit); an existing directory too, as cp -a does.
  Status status = ApplyAttributes(directory.fd(), attributes, place.host_path);
  if (status.ok()) status = directory.Close().WithContext(place.host_path);
  if (!status.ok()) return Status(status.code(), status.message() + " (its contents were copied)");
  ++counts_.directories;
  return Status::Ok();
}

void TreeCopier::CopyEntry(const DirectoryEntry& entry, int dir_fd, const Place& parent,
                           int depth) {
  Place place{JoinPath(parent.image_path, entry.name), JoinPath(parent.host_path, entry.name)};
  auto attributes = fs_.GetAttributes(entry.ino);
  Status status = attributes.ok() ? CopyObject(*attributes, entry.name, dir_fd, place, depth)
                                  : attributes.status();
  if (!status.ok()) Fail(place.image_path, status);
}

Status TreeCopier::CopyObject(const Attributes& attributes, const std::string& name, int dir_fd,
                              const Place& place, int depth) {
  switch (attributes.mode & S_IFMT) {
    case S_IFREG:
      return CopyFile(attributes, name, dir_fd, place);
    case S_IFLNK:
      return CopySymlink(attributes, name, dir_fd, place);
    case S_IFDIR:
      return CopyDirectory(attributes, name, dir_fd, place, depth + 1);
    default:
      return NotSupported("inode " + std::to_string(attributes.ino) + " has file type " +
                          OctalMode(attributes.mode & S_IFMT) + ", which get does not copy");
  }
}

Status TreeCopier::CopyDirectory(const Attributes& attributes, const std::string& name, int dir_fd,
                                 const Place& place, int depth) {
  if (depth > kMaxDepth) {
    return NotSupported("nested more than " + std::to_string(kMaxDepth) +
                        " directories below PATH; not copied");
  }
  if (!directories_seen_.insert(attributes.ino).second) {
    return Corruption("directory inode " + std::to_string(attributes.ino) +
                      " appears twice in the tree (a directory hard link or cycle; mdfs fsck "
                      "reports it); copied once, not again here");
  }
  // Read first: a directory that cannot be listed leaves nothing on the host.
  MDFS_ASSIGN_OR_RETURN(std::vector<DirectoryEntry> entries, fs_.ReadDirectory(attributes.ino));
  MDFS_ASSIGN_OR_RETURN(HostFile directory, OpenDirectoryAt(dir_fd, name, place.host_path));
  return CopyContents(attributes, std::move(entries), directory, place, depth);
}

// `failure` with what happened to the host file a failed copy had written.
Status RemovePartialFile(int dir_fd, const std::string& name, const Place& place, bool created,
                         const Status& failure) {
  std::string what = "the partly written host file " + place.host_path;
  if (!created) what += " (it had replaced an existing file)";
  std::string note =
      ::unlinkat(dir_fd, name.c_str(), 0) == 0
          ? what + " was removed"
          : what + " could not be removed: " + HostErrnoStatus("remove", errno).ToString();
  return Status(failure.code(), failure.message() + " (" + note + ")");
}

Status TreeCopier::CopyFile(const Attributes& attributes, const std::string& name, int dir_fd,
                            const Place& place) {
  MDFS_ASSIGN_OR_RETURN(std::vector<ByteRange> ranges, WrittenRanges(fs_, attributes));
  MDFS_ASSIGN_OR_RETURN(HostRegularFile file,
                        OpenRegularFileAt(dir_fd, name, place.host_path, image_, image_path_));
  CopyProgress on_progress = [this](uint64_t offset) { ShowProgress(offset); };
  const int fd = file.file.fd();
  Status status =
      CopyRangesToHostFile(fs_, attributes, ranges, fd, place.host_path, buffer_, on_progress);
  if (status.ok()) status = ApplyAttributes(fd, attributes, place.host_path);
  if (status.ok()) status = file.file.Close().WithContext(place.host_path);
  if (!status.ok()) return RemovePartialFile(dir_fd, name, place, file.created, status);
  ++counts_.files;
  counts_.bytes += attributes.size;
  ShowProgress(0);
  return Status::Ok();
}

Status TreeCopier::CopySymlink(const Attributes& attributes, const std::string& name, int dir_fd,
                               const Place& place) {
  MDFS_ASSIGN_OR_RETURN(std::string target, fs_.ReadLink(attributes.ino));
  MDFS_RETURN_IF_ERROR(MakeSymlinkAt(dir_fd, name, target, place.host_path));
  MDFS_RETURN_IF_ERROR(ApplySymlinkAttributes(dir_fd, name, attributes, place.host_path));
  ++counts_.symlinks;
  return Status::Ok();
}

// "get: copied 3 files, 2 directories, 1 symlink (12288 bytes); 1 object
// could not be read or written".
std::string SummaryLine(const TreeCopier& copier) {
  const TreeCounts& c = copier.counts();
  uint64_t failed = copier.failures().size();
  return "get: copied " + Count(c.files, "file", "files") + ", " +
         Count(c.directories, "directory", "directories") + ", " +
         Count(c.symlinks, "symlink", "symlinks") + " (" + Count(c.bytes, "byte", "bytes") + "); " +
         Count(failed, "object", "objects") + " could not be read or written";
}

nlohmann::json SummaryJson(const GetTreeArgs& args, const std::string& path,
                           const TreeCopier& copier) {
  const TreeCounts& c = copier.counts();
  nlohmann::json json = nlohmann::json::object();
  SetJsonText(json, "image", args.image);
  SetJsonText(json, "path", path);
  SetJsonText(json, "directory", args.directory);
  json["files"] = c.files;
  json["directories"] = c.directories;
  json["symlinks"] = c.symlinks;
  json["bytes"] = c.bytes;
  json["failure_count"] = copier.failures().size();
  json["failures"] = nlohmann::json::array();
  for (const Failure& failure : copier.failures()) {
    nlohmann::json item = nlohmann::json::object();
    SetJsonText(item, "path", failure.path);
    SetJsonText(item, "error", failure.status.ToString());
    json["failures"].push_back(std::move(item));
  }
  return json;
}

}  // namespace

int RunGetTree(const GetTreeArgs& args, const GlobalOptions& globals) {
  if (args.directory == "-") {
    return ReportMessage("get",
                         "-r writes a directory tree, which standard output ('-') cannot hold; "
                         "give a host directory (see 'mdfs get --help')",
                         kExitUsage);
  }
  const HostIdentity identity = IdentityOfPath(args.image);
  auto image = OpenImageOrReport("get", args.image, globals, /*read_only=*/true);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  auto attributes = LookupOrReport("get", *image->fs, path);
  if (!attributes) return kExitFailure;
  if (!IsDirectoryMode(attributes->mode)) {
    return ReportError("get", path,
                       NotDirectory("get -r copies a directory tree; without -r "
                                    "get copies one file"));
  }
  auto entries = image->fs->ReadDirectory(attributes->ino);
  if (!entries.ok()) return ReportError("get", path, entries.status());
  auto top = OpenTopDirectory(args.directory, identity, args.image);
  if (!top.ok()) return ReportError("get", args.directory, top.status());
  TreeCopier copier(*image->fs, identity, args.image);
  Status status =
      copier.CopyTop(*attributes, std::move(entries).value(), *top, {path, args.directory});
  if (!status.ok()) copier.Fail(path, status);
  copier.FinishProgress();
  if (args.json) {
    PrintJson(SummaryJson(args, path, copier));
  } else {
    std::cout << SummaryLine(copier) << std::endl;
  }
  return copier.failures().empty() ? kExitOk : kExitFailure;
}

}  // namespace mdfs::cli
