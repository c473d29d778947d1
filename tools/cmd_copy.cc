// mdfs put IMAGE HOST_FILE PATH   copy a host file (or stdin) into the image
// mdfs get IMAGE PATH HOST_FILE   copy a file out of the image (or to stdout)
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "command.h"
#include "copy_out.h"
#include "get_tree.h"
#include "help.h"
#include "host_io.h"
#include "output.h"

namespace mdfs::cli {
namespace {

struct CopyArgs {
  std::string image;
  std::string from;
  std::string to;
  bool recursive = false;  // get -r
  bool json = false;       // get -r --json
};

HelpPage PutHelp() {
  return {
      "put",
      "copy a host file into the image",
      "mdfs put IMAGE HOST_FILE PATH\n"
      "mdfs put IMAGE - PATH",
      "Copies HOST_FILE (or standard input when HOST_FILE is '-') to PATH in\n"
      "the image. The parent directory of PATH must exist. When PATH is an\n"
      "existing directory the file is created inside it under the base name\n"
      "of HOST_FILE, as cp does. An existing file at PATH is replaced: it is\n"
      "truncated, then written. New files get the permission bits of\n"
      "HOST_FILE (0644 for standard input) minus the umask, and the uid and\n"
      "gid of the caller.\n"
      "\n"
      "Data is written in 8 MiB chunks, each one journal transaction, and\n"
      "the file is fsynced at the end; the fsync frees the blocks the\n"
      "allocator preallocated past the end, so the file keeps only the\n"
      "blocks its data needs. The holes of a sparse HOST_FILE (SEEK_DATA /\n"
      "SEEK_HOLE) stay holes: only its data is written, then its size is set.\n"
      "When stderr is a terminal and the copy is larger than 64 MiB,\n"
      "progress is shown on stderr.\n"
      "\n"
      "When a regular HOST_FILE does not fit in the free space, put fails\n"
      "before changing anything. When the image fills up during the copy\n"
      "(e.g. from standard input), the partly written file is removed, so no\n"
      "half-written file stays behind; if it replaced an existing file, the\n"
      "error says that the old file is gone.",
      StandardExitStatus("the file was copied and fsynced"),
      "mdfs put disk.img ./report.pdf /docs/report.pdf\n"
      "# Into a directory, keeping the name:\n"
      "mdfs put disk.img ./report.pdf /docs\n"
      "# From a pipe:\n"
      "tar c src | mdfs put disk.img - /backup/src.tar",
  };
}

HelpPage GetHelp() {
  return {
      "get",
      "copy a file or a directory tree out of the image",
      "mdfs get IMAGE PATH HOST_FILE\n"
      "mdfs get IMAGE PATH -\n"
      "mdfs get -r IMAGE PATH DIR [--json]",
      "Copies the regular file PATH from the image to HOST_FILE, or to\n"
      "standard output when HOST_FILE is '-'. An existing HOST_FILE is\n"
      "overwritten; when HOST_FILE is a host directory the file is created\n"
      "inside it under its own name. Directories and symbolic links in the\n"
      "image are refused (see -r). Holes and unwritten extents read as zeros:\n"
      "to a regular HOST_FILE only the written extents are written (at their\n"
      "offsets, then the size is set), so it is sparse where the file is;\n"
      "standard output and other destinations get every byte, zeros\n"
      "included. The image is opened read-only. If the copy fails, a\n"
      "HOST_FILE that get created is removed again.\n"
      "\n"
      "With -r, PATH is a directory and its tree is copied into the host\n"
      "directory DIR, as 'cp -a PATH/. DIR' would: DIR is created when it is\n"
      "missing (its parent must exist) and refused when it exists and is not\n"
      "a directory. Regular files are copied with their data (sparse, as\n"
      "above), directories are created, symbolic links are made with the same\n"
      "target. Each copy gets the permission bits and the access and\n"
      "modification times of the object in the image (a directory after its\n"
      "contents, DIR too) and, when get runs as root, its owner and group.\n"
      "An existing host directory is merged into, an existing regular file\n"
      "is overwritten (never the image itself), an existing symbolic link is\n"
      "replaced; any other host entry in the way is left alone and reported.\n"
      "Nothing below DIR is opened through a symbolic link that get did not\n"
      "create, so an image cannot make get write outside DIR. Hard links are\n"
      "copied as separate files.\n"
      "\n"
      "On a damaged image (served read-only around the damage; see mdfs fsck\n"
      "--help) everything that can be read is copied. Each object that cannot\n"
      "be read or written - a damaged inode, a file whose extent chain is\n"
      "damaged, a directory whose block is damaged (its contents are\n"
      "skipped), a host write that fails - is one line on stderr with the\n"
      "reason, in which the engine names the damaged block, and the copy goes\n"
      "on. A file that fails part way is removed from the host again. At the\n"
      "end one line goes to standard output:\n"
      "  get: copied N files, M directories, K symlinks (B bytes);\n"
      "  U objects could not be read or written\n"
      "or, with --json, one JSON object with the counts and the failures.\n"
      "When stderr is a terminal and more than 64 MiB have been copied,\n"
      "progress is shown on stderr.",
      "0   the file was copied; with -r, every object of the tree was copied\n"
      "1   the operation failed (the error is printed on stderr); with -r also\n"
      "    when any object could not be read or written (one line each)\n"
      "2   usage error: unknown option, missing argument, --json without -r,\n"
      "    -r with '-'",
      "mdfs get disk.img /docs/report.pdf ./report.pdf\n"
      "mdfs get disk.img /backup/src.tar - | tar x\n"
      "# Everything that can be read, from a damaged image too:\n"
      "mdfs get -r disk.img / ./rescue",
  };
}

// Where put writes: the directory, the name in it, and an existing file there.
struct PutTarget {
  Attributes parent;
  std::string name;
  std::string path;
  std::optional<Attributes> existing;
};

Result<PutTarget> ResolvePutTarget(FileSystem& fs, std::string path, const std::string& host) {
  auto found = fs.LookupPath(path);
  if (found.ok() && (found->mode & S_IFMT) == S_IFDIR) {
    if (host == "-") return IsDirectory("give a file name to put standard input into");
    path = JoinPath(path, HostBaseName(host));
    found = fs.LookupPath(path);
  }
  if (!found.ok() && found.status().code() != Code::kNotFound) return found.status();
  PathParts parts = SplitPath(path);
  if (parts.name.empty()) return IsDirectory("cannot replace the root directory");
  auto parent = fs.LookupPath(parts.parent);
  if (!parent.ok()) return parent.status();  // the engine's message names the path
  if ((parent->mode & S_IFMT) != S_IFDIR) return NotDirectory(parts.parent + " is not a directory");
  PutTarget target{*parent, parts.name, path, std::nullopt};
  if (found.ok()) {
    if ((found->mode & S_IFMT) == S_IFDIR) return IsDirectory("a directory is in the way");
    if ((found->mode & S_IFMT) != S_IFREG) return InvalidArgument("not a regular file");
    target.existing = *found;
  }
  return target;
}

// What put reads: a regular source that can be read at offsets is copied
// range by range, its holes left out (SEEK_DATA / SEEK_HOLE); a stream
// (a pipe, a terminal, stdin read part way) is read to its end.
struct SourceLayout {
  bool sparse = false;
  std::vector<ByteRange> data;  // sparse only
};

Result<SourceLayout> LayoutOf(const HostSource& source) {
  if (source.size < 0 || ::lseek(source.file.fd(), 0, SEEK_CUR) != 0) return SourceLayout{};
  MDFS_ASSIGN_OR_RETURN(std::vector<ByteRange> data,
                        HostDataRanges(source.file.fd(), static_cast<uint64_t>(source.size)));
  return SourceLayout{true, std::move(data)};
}

// The 4 KiB blocks the copy will write: those the data ranges touch (each
// once), or every block of a stream of known size. nullopt: unknown.
std::optional<uint64_t> BlocksNeeded(const HostSource& source, const SourceLayout& layout) {
  if (source.size < 0) return std::nullopt;
  if (!layout.sparse) return (static_cast<uint64_t>(source.size) + kBlockSize - 1) / kBlockSize;
  uint64_t blocks = 0;
  uint64_t counted_end = 0;  // blocks below it are counted
  for (const ByteRange& range : layout.data) {
    uint64_t first = std::max(range.offset / kBlockSize, counted_end);
    uint64_t end = (range.end() + kBlockSize - 1) / kBlockSize;
    if (end > first) blocks += end - first;
    counted_end = std::max(counted_end, end);
  }
  return blocks;
}

// Fails with kNoSpace, before anything changes, when a source of known size
// cannot fit in the free blocks (plus those of the file it replaces).
Status CheckFits(FileSystem& fs, const PutTarget& target, std::optional<uint64_t> needed_blocks) {
  if (!needed_blocks) return Status::Ok();
  MDFS_ASSIGN_OR_RETURN(FileSystemStats stats, fs.StatFs());
  uint64_t needed = *needed_blocks;
  uint64_t available = stats.free_blocks;
  if (target.existing) available += target.existing->allocated_blocks;
  if (needed <= available) return Status::Ok();
  return NoSpace("the file needs " + std::to_string(needed) + " blocks (" +
                 HumanBytes(needed * kBlockSize) + ") but the image has " +
                 std::to_string(available) + " free (" + HumanBytes(available * kBlockSize) +
                 "); nothing was changed");
}

uint32_t CreationMode(uint32_t host_mode) {
  mode_t mask = ::umask(0);
  ::umask(mask);
  return S_IFREG | (host_mode & 07777 & ~mask);
}

// Copies a stream into `ino` in chunks, to its end.
Status CopyStreamIn(FileSystem& fs, InodeNumber ino, HostSource& source, Progress& progress) {
  std::vector<std::byte> buffer(kCopyChunkBytes);
  uint64_t offset = 0;
  while (true) {
    MDFS_ASSIGN_OR_RETURN(size_t n, ReadFull(source.file.fd(), buffer));
    if (n == 0) break;
    MDFS_RETURN_IF_ERROR(
        fs.Write(ino, offset, std::span<const std::byte>(buffer.data(), n)).status());
    offset += n;
    progress.Update(offset);
    if (n < buffer.size()) break;
  }
  return Status::Ok();
}

// Copies the data ranges of a regular source to the same offsets of `ino`,
// then sets the size, so holes (a trailing one too) stay holes.
Status CopySparseIn(FileSystem& fs, InodeNumber ino, HostSource& source,
                    const std::vector<ByteRange>& data, Progress& progress) {
  std::vector<std::byte> buffer(kCopyChunkBytes);
  for (const ByteRange& range : data) {
    for (uint64_t offset = range.offset; offset < range.end();) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kCopyChunkBytes, range.end() - offset));
      MDFS_ASSIGN_OR_RETURN(size_t n, ReadFullAt(source.file.fd(), offset,
                                                 std::span<std::byte>(buffer.data(), want)));
      if (n == 0) break;  // the host file shrank meanwhile
      MDFS_RETURN_IF_ERROR(
          fs.Write(ino, offset, std::span<const std::byte>(buffer.data(), n)).status());
      offset += n;
      progress.Update(offset);
    }
  }
  MDFS_ASSIGN_OR_RETURN(Attributes attributes, fs.GetAttributes(ino));
  uint64_t size = static_cast<uint64_t>(source.size);
  return attributes.size < size ? fs.Truncate(ino, size) : Status::Ok();
}

// Copies the source into `ino`, then fsyncs it. The engine's Fsync trims
// the preallocation past the final size (doc/format.md, "allocation"), so
// the file keeps only the blocks its data needs.
Status CopyIn(FileSystem& fs, InodeNumber ino, HostSource& source, const SourceLayout& layout) {
  Progress progress("put", source.size);
  Status status = layout.sparse ? CopySparseIn(fs, ino, source, layout.data, progress)
                                : CopyStreamIn(fs, ino, source, progress);
  progress.Finish();
  MDFS_RETURN_IF_ERROR(status);
  return fs.Fsync(ino);
}

// Writes the file (creating or truncating it); on failure removes it.
Status WriteTarget(FileSystem& fs, const PutTarget& target, HostSource& source,
                   const SourceLayout& layout) {
  InodeNumber ino = 0;
  if (target.existing) {
    ino = target.existing->ino;
    MDFS_RETURN_IF_ERROR(fs.Truncate(ino, 0));
  } else {
    MDFS_ASSIGN_OR_RETURN(Attributes created,
                          fs.Create(target.parent.ino, target.name, CreationMode(source.mode),
                                    ::getuid(), ::getgid()));
    ino = created.ino;
  }
  Status status = CopyIn(fs, ino, source, layout);
  if (status.ok()) return status;
  Status removed = fs.Unlink(target.parent.ino, target.name);
  std::string note =
      target.existing ? "put replaced the existing file: its old contents are lost; " : "";
  note += removed.ok() ? "the partly written file was removed"
                       : "the partly written file could not be removed: " + removed.ToString();
  return Status(status.code(), status.message() + " (" + note + ")");
}

int RunPut(const CopyArgs& args, const GlobalOptions& globals) {
  auto source = OpenHostSource(args.from);
  if (!source.ok()) return ReportError("put", args.from, source.status());
  Status itself = RefuseTheImage(source->file.fd(), args.from == "-" ? "standard input" : args.from,
                                 IdentityOfPath(args.image), args.image, "copy into itself");
  if (!itself.ok()) return ReportError("put", args.from, itself);
  auto layout = LayoutOf(*source);
  if (!layout.ok()) return ReportError("put", args.from, layout.status());
  auto image = OpenImageOrReport("put", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.to);
  auto target = ResolvePutTarget(*image->fs, path, args.from);
  if (!target.ok()) return ReportError("put", path, target.status());
  Status status = CheckFits(*image->fs, *target, BlocksNeeded(*source, *layout));
  if (status.ok()) status = WriteTarget(*image->fs, *target, *source, *layout);
  if (!status.ok()) return ReportError("put", target->path, status);
  return kExitOk;
}

// Copies `attributes.size` bytes of the file to the destination: to a
// regular host file only the written ranges, then its size, so holes stay
// holes; to stdout or a device every byte, zeros included.
Status CopyOut(FileSystem& fs, const Attributes& attributes, HostDestination& destination) {
  std::vector<std::byte> buffer(std::min<uint64_t>(kCopyChunkBytes, attributes.size));
  Progress progress("get", static_cast<int64_t>(attributes.size));
  CopyProgress on_progress = [&](uint64_t offset) { progress.Update(offset); };
  int fd = destination.file.fd();
  Status status;
  if (destination.seekable) {
    auto ranges = WrittenRanges(fs, attributes);
    status = ranges.ok() ? CopyRangesToHostFile(fs, attributes, *ranges, fd, destination.path,
                                                buffer, on_progress)
                         : ranges.status();
  } else {
    status = CopyFileToStream(fs, attributes, fd, destination.path, buffer, on_progress);
  }
  progress.Finish();
  MDFS_RETURN_IF_ERROR(status);
  return destination.file.Close();
}

Status CheckGettable(FileSystem& fs, const Attributes& attributes) {
  switch (attributes.mode & S_IFMT) {
    case S_IFREG:
      return Status::Ok();
    case S_IFDIR:
      return IsDirectory("get copies regular files only");
    case S_IFLNK: {
      auto target = fs.ReadLink(attributes.ino);
      return InvalidArgument("a symbolic link" +
                             (target.ok() ? " to '" + *target + "'" : std::string()) +
                             "; get copies regular files only");
    }
    default:
      return InvalidArgument("not a regular file");
  }
}

int RunGet(const CopyArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("get", args.image, globals, /*read_only=*/true);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.from);
  auto attributes = LookupOrReport("get", *image->fs, path);
  if (!attributes) return kExitFailure;
  Status gettable = CheckGettable(*image->fs, *attributes);
  if (!gettable.ok()) return ReportError("get", path, gettable);
  auto destination =
      OpenHostDestination(args.to, SplitPath(path).name, IdentityOfPath(args.image), args.image);
  if (!destination.ok()) return ReportError("get", args.to, destination.status());
  Status status = CopyOut(*image->fs, *attributes, *destination);
  if (status.ok()) return kExitOk;
  if (destination->created) ::unlink(destination->path.c_str());
  return ReportError("get", path, status);
}

}  // namespace

void AddCopyCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto put_args = std::make_shared<CopyArgs>();
  CLI::App* put = AddCommandWithHelp(app, PutHelp());
  put->add_option("IMAGE", put_args->image, "the image file or block device")->required();
  put->add_option("HOST_FILE", put_args->from, "the host file to copy; '-' reads standard input")
      ->required();
  put->add_option("PATH", put_args->to, "destination in the image: a file or a directory")
      ->required();
  out.push_back({put, [put_args, &globals] { return RunPut(*put_args, globals); }});

  auto get_args = std::make_shared<CopyArgs>();
  CLI::App* get = AddCommandWithHelp(app, GetHelp());
  get->add_option("IMAGE", get_args->image, "the image file or block device")->required();
  get->add_option("PATH", get_args->from,
                  "the regular file in the image to copy (with -r: the directory)")
      ->required();
  get->add_option("HOST_FILE", get_args->to,
                  "destination on the host (a file or directory); '-' writes standard output; "
                  "with -r the directory DIR to copy the tree into")
      ->required();
  CLI::Option* recursive = get->add_flag(
      "-r,--recursive", get_args->recursive,
      "copy the directory tree at PATH into the host directory DIR; go on past what cannot be "
      "read");
  get->add_flag("--json", get_args->json, "with -r: print the summary as one JSON object")
      ->needs(recursive);
  out.push_back({get, [get_args, &globals] {
                   if (!get_args->recursive) return RunGet(*get_args, globals);
                   GetTreeArgs tree{get_args->image, get_args->from, get_args->to, get_args->json};
                   return RunGetTree(tree, globals);
                 }});
}

}  // namespace mdfs::cli
