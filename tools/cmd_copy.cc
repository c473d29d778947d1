// mdfs put IMAGE HOST_FILE PATH   copy a host file (or stdin) into the image
// mdfs get IMAGE PATH HOST_FILE   copy a file out of the image (or to stdout)
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "command.h"
#include "help.h"
#include "host_io.h"
#include "output.h"

namespace mdfs::cli {
namespace {

// Each Write of one chunk is one journal transaction.
constexpr size_t kChunkBytes = size_t{8} << 20;

struct CopyArgs {
  std::string image;
  std::string from;
  std::string to;
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
      "the file is fsynced at the end. When stderr is a terminal and the copy\n"
      "is larger than 64 MiB, progress is shown on stderr.\n"
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
      "copy a file out of the image",
      "mdfs get IMAGE PATH HOST_FILE\n"
      "mdfs get IMAGE PATH -",
      "Copies the regular file PATH from the image to HOST_FILE, or to\n"
      "standard output when HOST_FILE is '-'. An existing HOST_FILE is\n"
      "overwritten; when HOST_FILE is a host directory the file is created\n"
      "inside it under its own name. Directories and symbolic links in the\n"
      "image are refused. Holes and unwritten extents read as zeros. The\n"
      "image is opened read-only. If the copy fails, a HOST_FILE that get\n"
      "created is removed again.",
      StandardExitStatus("the file was copied"),
      "mdfs get disk.img /docs/report.pdf ./report.pdf\n"
      "mdfs get disk.img /backup/src.tar - | tar x",
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

// Fails with kNoSpace, before anything changes, when a source of known size
// cannot fit in the free blocks (plus those of the file it replaces).
Status CheckFits(FileSystem& fs, const PutTarget& target, int64_t size) {
  if (size < 0) return Status::Ok();
  MDFS_ASSIGN_OR_RETURN(FileSystemStats stats, fs.StatFs());
  uint64_t needed = (static_cast<uint64_t>(size) + kBlockSize - 1) / kBlockSize;
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

// Copies the source into `ino` in chunks, then fsyncs it.
Status CopyIn(FileSystem& fs, InodeNumber ino, HostSource& source) {
  std::vector<std::byte> buffer(kChunkBytes);
  Progress progress("put", source.size);
  uint64_t offset = 0;
  while (true) {
    MDFS_ASSIGN_OR_RETURN(size_t n, ReadFull(source.file.fd(), buffer));
    if (n == 0) break;
    auto written = fs.Write(ino, offset, std::span<const std::byte>(buffer.data(), n));
    if (!written.ok()) {
      progress.Finish();
      return written.status();
    }
    offset += n;
    progress.Update(offset);
    if (n < buffer.size()) break;
  }
  progress.Finish();
  return fs.Fsync(ino);
}

// Writes the file (creating or truncating it); on failure removes it.
Status WriteTarget(FileSystem& fs, const PutTarget& target, HostSource& source) {
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
  Status status = CopyIn(fs, ino, source);
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
  auto image = OpenImageOrReport("put", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.to);
  auto target = ResolvePutTarget(*image->fs, path, args.from);
  if (!target.ok()) return ReportError("put", path, target.status());
  Status status = CheckFits(*image->fs, *target, source->size);
  if (status.ok()) status = WriteTarget(*image->fs, *target, *source);
  if (!status.ok()) return ReportError("put", target->path, status);
  return kExitOk;
}

// Copies `attributes.size` bytes of `ino` to the destination.
Status CopyOut(FileSystem& fs, const Attributes& attributes, HostDestination& destination) {
  std::vector<std::byte> buffer(std::min<uint64_t>(kChunkBytes, attributes.size));
  Progress progress("get", static_cast<int64_t>(attributes.size));
  uint64_t offset = 0;
  while (offset < attributes.size) {
    MDFS_ASSIGN_OR_RETURN(size_t n, fs.Read(attributes.ino, offset, buffer));
    if (n == 0) break;  // the file shrank meanwhile
    Status status = WriteAll(destination.file.fd(), std::span<const std::byte>(buffer.data(), n));
    if (!status.ok()) return status.WithContext(destination.path);
    offset += n;
    progress.Update(offset);
  }
  progress.Finish();
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
  get->add_option("PATH", get_args->from, "the regular file in the image to copy")->required();
  get->add_option("HOST_FILE", get_args->to,
                  "destination on the host (a file or directory); '-' writes standard output")
      ->required();
  out.push_back({get, [get_args, &globals] { return RunGet(*get_args, globals); }});
}

}  // namespace mdfs::cli
