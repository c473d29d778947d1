// mdfs mkdir IMAGE PATH [-p] [-m MODE]
// mdfs rm IMAGE PATH [-r] [-d] [-f]
// mdfs mv IMAGE FROM TO [--no-replace] [--exchange] [-T]
// mdfs ln IMAGE TARGET PATH [-s]
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "escape.h"
#include "help.h"
#include "output.h"

namespace mdfs::cli {
namespace {

bool IsDirectoryMode(uint32_t mode) { return (mode & S_IFMT) == S_IFDIR; }

// The parent directory of `path` (normalized, not "/") and the last name.
Result<std::pair<Attributes, std::string>> LookupParent(FileSystem& fs, const std::string& path) {
  PathParts parts = SplitPath(path);
  auto parent = fs.LookupPath(parts.parent);
  if (!parent.ok()) return parent.status();  // the engine's message names the path
  if (!IsDirectoryMode(parent->mode)) return NotDirectory(parts.parent + " is not a directory");
  return std::make_pair(*parent, parts.name);
}

// ------------------------------------------------------------------ mkdir
struct MkdirArgs {
  std::string image;
  std::string path;
  std::string mode = "0755";
  bool parents = false;
};

HelpPage MkdirHelp() {
  return {
      "mkdir",
      "create a directory",
      "mdfs mkdir IMAGE PATH [-p] [-m MODE]",
      "Creates the directory PATH in the image. Its parent must exist unless\n"
      "-p is given, which creates missing parents and accepts a PATH that is\n"
      "already a directory. The new directories are owned by the caller's\n"
      "uid and gid. Each directory is one journal transaction; when -p cannot\n"
      "create one (no free inode or block, a name too long), the directories\n"
      "it created before are removed again, deepest first, so that a failing\n"
      "command leaves the namespace as it was.",
      StandardExitStatus("the directory was created (or, with -p, exists)"),
      "mdfs mkdir disk.img /data\n"
      "mdfs mkdir disk.img /data/2024/05 -p -m 0700",
  };
}

// A directory `mkdir -p` created, to be removed again if a later one fails.
struct CreatedDirectory {
  InodeNumber parent;
  std::string name;
  std::string path;
};

// "/z/1" or "/z/1 .. /z/1/2/3": the first and last of `created`.
std::string DirectoryRange(const std::vector<CreatedDirectory>& created, size_t last) {
  std::string range = created.front().path;
  if (last > 0) range += " .. " + created[last].path;
  return range;
}

// Removes `created` in reverse order (deepest first) and returns `failure`
// with what was removed, or what could not be and stays, appended.
Status UndoMkdirs(FileSystem& fs, const std::vector<CreatedDirectory>& created,
                  const Status& failure) {
  if (created.empty()) return failure;
  for (size_t i = created.size(); i-- > 0;) {
    Status removed = fs.Rmdir(created[i].parent, created[i].name);
    if (!removed.ok()) {
      return Status(failure.code(), failure.message() + "; removing the directories created " +
                                        "before it failed at " + created[i].path + " (" +
                                        removed.ToString() + "), so " + DirectoryRange(created, i) +
                                        " stay");
    }
  }
  return Status(failure.code(), failure.message() + "; the directories created before it (" +
                                    DirectoryRange(created, created.size() - 1) +
                                    ") were removed again");
}

// mkdir -p: creates each missing directory of `path`, from the root down.
// If one fails, those it created are removed again, so that a failing
// command changes nothing.
Status MakeParents(FileSystem& fs, const std::string& path, uint32_t mode) {
  std::vector<CreatedDirectory> created;
  InodeNumber current = kRootInode;
  std::string walked;
  for (size_t start = 1; start < path.size();) {
    size_t slash = std::min(path.find('/', start), path.size());
    std::string name = path.substr(start, slash - start);
    walked += "/" + name;
    start = slash + 1;
    auto found = fs.Lookup(current, name);
    if (found.ok() && !IsDirectoryMode(found->mode)) {
      return UndoMkdirs(fs, created, NotDirectory(walked + " is not a directory"));
    }
    if (!found.ok() && found.status().code() != Code::kNotFound) {
      return UndoMkdirs(fs, created, found.status());
    }
    if (!found.ok()) {
      found = fs.Mkdir(current, name, S_IFDIR | mode, ::getuid(), ::getgid());
      if (!found.ok()) return UndoMkdirs(fs, created, found.status().WithContext(walked));
      created.push_back({current, name, walked});
    }
    current = found->ino;
  }
  return Status::Ok();
}

Status MakeDirectories(FileSystem& fs, const std::string& path, uint32_t mode, bool parents) {
  if (parents) return MakeParents(fs, path, mode);
  if (path == "/") return Exists("the root directory always exists");
  MDFS_ASSIGN_OR_RETURN(auto parent, LookupParent(fs, path));
  return fs.Mkdir(parent.first.ino, parent.second, S_IFDIR | mode, ::getuid(), ::getgid()).status();
}

int RunMkdir(const MkdirArgs& args, const GlobalOptions& globals) {
  char* end = nullptr;
  unsigned long mode = std::strtoul(args.mode.c_str(), &end, 8);
  if (args.mode.empty() || *end != '\0' || mode > 07777) {
    return ReportMessage("mkdir", "invalid mode '" + args.mode + "': expected octal 0000..7777",
                         kExitUsage);
  }
  auto image = OpenImageOrReport("mkdir", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  Status status = MakeDirectories(*image->fs, path, static_cast<uint32_t>(mode), args.parents);
  if (!status.ok()) return ReportError("mkdir", path, status);
  return kExitOk;
}

// --------------------------------------------------------------------- rm
struct RmArgs {
  std::string image;
  std::string path;
  bool recursive = false;
  bool empty_directory = false;
  bool force = false;
};

HelpPage RmHelp() {
  return {
      "rm",
      "remove a file, symbolic link or directory",
      "mdfs rm IMAGE PATH [-r | -d] [-f]",
      "Removes the file or symbolic link PATH from the image. A directory is\n"
      "removed only with -d (it must be empty) or -r (its whole tree, depth\n"
      "first). The blocks of a file are freed when its last link goes. The\n"
      "root directory cannot be removed.",
      StandardExitStatus("PATH was removed (or, with -f, did not exist)"),
      "mdfs rm disk.img /data/old.log\n"
      "mdfs rm disk.img /data/empty -d\n"
      "mdfs rm disk.img /data -r",
  };
}

Status RemoveTree(FileSystem& fs, InodeNumber directory, const std::string& path) {
  MDFS_ASSIGN_OR_RETURN(auto entries, fs.ReadDirectory(directory));
  for (const DirectoryEntry& entry : entries) {
    std::string child = JoinPath(path, entry.name);
    Status status;
    if (entry.type == S_IFDIR) {
      status = RemoveTree(fs, entry.ino, child);
      if (status.ok()) status = fs.Rmdir(directory, entry.name);
    } else {
      status = fs.Unlink(directory, entry.name);
    }
    if (!status.ok()) return status.WithContext(child);
  }
  return Status::Ok();
}

Status Remove(FileSystem& fs, const RmArgs& args, const std::string& path) {
  if (path == "/") return InvalidArgument("the root directory cannot be removed");
  auto found = fs.LookupPath(path);
  if (!found.ok()) return found.status();
  MDFS_ASSIGN_OR_RETURN(auto parent, LookupParent(fs, path));
  if (!IsDirectoryMode(found->mode)) return fs.Unlink(parent.first.ino, parent.second);
  if (args.recursive) MDFS_RETURN_IF_ERROR(RemoveTree(fs, found->ino, path));
  if (!args.recursive && !args.empty_directory) {
    return IsDirectory("use -d to remove an empty directory or -r for a tree");
  }
  return fs.Rmdir(parent.first.ino, parent.second);
}

int RunRm(const RmArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("rm", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  Status status = Remove(*image->fs, args, path);
  if (status.code() == Code::kNotFound && args.force) return kExitOk;
  if (!status.ok()) return ReportError("rm", path, status);
  return kExitOk;
}

// --------------------------------------------------------------------- mv
struct MvArgs {
  std::string image;
  std::string from;
  std::string to;
  bool no_replace = false;
  bool exchange = false;
  bool no_target_directory = false;
};

HelpPage MvHelp() {
  return {
      "mv",
      "rename or move a file or directory",
      "mdfs mv IMAGE FROM TO [--no-replace | --exchange] [-T]",
      "Renames FROM to TO in one atomic journal transaction. When TO is an\n"
      "existing directory, FROM moves into it under its own name (as mv\n"
      "does) unless -T is given. An existing file at TO is replaced\n"
      "atomically (an empty directory may replace a directory), unless\n"
      "--no-replace is given. --exchange swaps FROM and TO, which must both\n"
      "exist (Linux RENAME_EXCHANGE).",
      StandardExitStatus("FROM was renamed"),
      "mdfs mv disk.img /data/a.log /data/b.log\n"
      "mdfs mv disk.img /data/b.log /archive\n"
      "mdfs mv disk.img /current /next --exchange",
  };
}

// Renames `from` to `to`; on failure `*what` names the path concerned.
Status Move(FileSystem& fs, const MvArgs& args, const std::string& from, std::string to,
            std::string* what) {
  *what = from;
  if (from == "/") return InvalidArgument("the root directory cannot be moved");
  auto source = fs.LookupPath(from);
  if (!source.ok()) return source.status();
  if (!args.exchange && !args.no_target_directory) {
    auto target = fs.LookupPath(to);
    if (target.ok() && IsDirectoryMode(target->mode) && target->ino != source->ino) {
      to = JoinPath(to, SplitPath(from).name);
    }
  }
  MDFS_ASSIGN_OR_RETURN(auto old_parent, LookupParent(fs, from));
  *what = to;
  if (to == "/") return InvalidArgument("cannot replace the root directory");
  MDFS_ASSIGN_OR_RETURN(auto new_parent, LookupParent(fs, to));
  *what = ShellEscapeIfUnprintable(from) + " -> " + ShellEscapeIfUnprintable(to);
  uint32_t flags = (args.no_replace ? kRenameNoReplace : 0) | (args.exchange ? kRenameExchange : 0);
  return fs.Rename(old_parent.first.ino, old_parent.second, new_parent.first.ino, new_parent.second,
                   flags);
}

int RunMv(const MvArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("mv", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string what;
  Status status = Move(*image->fs, args, NormalizePath(args.from), NormalizePath(args.to), &what);
  if (!status.ok()) return ReportError("mv", what, status);
  return kExitOk;
}

// --------------------------------------------------------------------- ln
struct LnArgs {
  std::string image;
  std::string target;
  std::string path;
  bool symbolic = false;
};

HelpPage LnHelp() {
  return {
      "ln",
      "create a hard or symbolic link",
      "mdfs ln IMAGE TARGET PATH [-s]",
      "Creates PATH as a new hard link to the existing file TARGET (a path\n"
      "in the image), or with -s as a symbolic link whose contents are\n"
      "TARGET (any text up to 4095 bytes; it is not resolved). The parent of\n"
      "PATH must exist and PATH must not.",
      StandardExitStatus("the link was created"),
      "mdfs ln disk.img /data/a.log /data/a-link.log\n"
      "mdfs ln disk.img ../a.log /data/latest -s",
  };
}

Status MakeLink(FileSystem& fs, const LnArgs& args, const std::string& path) {
  if (path == "/") return Exists("the root directory exists");
  MDFS_ASSIGN_OR_RETURN(auto parent, LookupParent(fs, path));
  if (args.symbolic) {
    return fs.Symlink(parent.first.ino, parent.second, args.target, ::getuid(), ::getgid())
        .status();
  }
  std::string target = NormalizePath(args.target);
  auto existing = fs.LookupPath(target);
  if (!existing.ok()) return existing.status();
  return fs.Link(existing->ino, parent.first.ino, parent.second).status();
}

int RunLn(const LnArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("ln", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  Status status = MakeLink(*image->fs, args, path);
  if (!status.ok()) return ReportError("ln", path, status);
  return kExitOk;
}

// ------------------------------------------------------------ registration
void AddMkdir(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<MkdirArgs>();
  CLI::App* sub = AddCommandWithHelp(app, MkdirHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("PATH", args->path, "the directory to create")->required();
  sub->add_flag("-p,--parents", args->parents, "create missing parents; no error if PATH exists");
  sub->add_option("-m,--mode", args->mode, "permission bits in octal (default 0755)")
      ->option_text("MODE");
  out.push_back({sub, [args, &globals] { return RunMkdir(*args, globals); }});
}

void AddRm(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<RmArgs>();
  CLI::App* sub = AddCommandWithHelp(app, RmHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("PATH", args->path, "the file, symbolic link or directory to remove")->required();
  auto* recursive = sub->add_flag("-r,--recursive", args->recursive,
                                  "remove a directory and everything below it");
  sub->add_flag("-d,--dir", args->empty_directory, "remove an empty directory")
      ->excludes(recursive);
  sub->add_flag("-f,--force", args->force, "no error when PATH does not exist");
  out.push_back({sub, [args, &globals] { return RunRm(*args, globals); }});
}

void AddMv(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<MvArgs>();
  CLI::App* sub = AddCommandWithHelp(app, MvHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("FROM", args->from, "the existing path")->required();
  sub->add_option("TO", args->to, "the new path, or an existing directory to move into")
      ->required();
  auto* no_replace =
      sub->add_flag("-n,--no-replace", args->no_replace, "fail if TO exists (RENAME_NOREPLACE)");
  sub->add_flag("-x,--exchange", args->exchange, "swap FROM and TO atomically (RENAME_EXCHANGE)")
      ->excludes(no_replace);
  sub->add_flag("-T,--no-target-directory", args->no_target_directory,
                "treat TO as the new name even when it is a directory");
  out.push_back({sub, [args, &globals] { return RunMv(*args, globals); }});
}

void AddLn(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<LnArgs>();
  CLI::App* sub = AddCommandWithHelp(app, LnHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("TARGET", args->target, "the existing file, or the symbolic link's contents")
      ->required();
  sub->add_option("PATH", args->path, "the link to create")->required();
  sub->add_flag("-s,--symbolic", args->symbolic, "create a symbolic link");
  out.push_back({sub, [args, &globals] { return RunLn(*args, globals); }});
}

}  // namespace

void AddNamespaceCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  AddMkdir(app, globals, out);
  AddRm(app, globals, out);
  AddMv(app, globals, out);
  AddLn(app, globals, out);
}

}  // namespace mdfs::cli
