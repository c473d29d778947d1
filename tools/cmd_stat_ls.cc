// mdfs stat IMAGE PATH [--json]   attributes and the extent map
// mdfs ls IMAGE [PATH] [--json]   a directory's entries, or a file itself
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <utility>

#include "command.h"
#include "escape.h"
#include "help.h"
#include "output.h"

namespace mdfs::cli {
namespace {

struct PathArgs {
  std::string image;
  std::string path = "/";
  bool json = false;
};

HelpPage StatHelp() {
  return {
      "stat",
      "show the attributes and extent map of a file",
      "mdfs [--access pread|mmap] stat IMAGE PATH [--json]",
      "Prints every attribute of PATH (inode number, type, mode, uid, gid,\n"
      "size, link count, generation, allocated blocks, flags such as sealed,\n"
      "and the access, modify, change and birth times in ISO 8601 UTC with\n"
      "nanoseconds), the target of a symbolic link, and the extent map: for\n"
      "each mapped range its file offset, device offset and length in bytes\n"
      "and its flags (unwritten: allocated but reads as zeros; last: the last\n"
      "extent of the file). Holes are not listed. The persistence mode of the\n"
      "device as opened is shown too (see mdfs df --help).\n"
      "\n"
      "The image is opened read-only. Symbolic links in PATH are not followed.\n"
      "The path and target are quoted as mdfs ls quotes names; with --json,\n"
      "text that is not UTF-8 comes with a path_hex or target_hex field.",
      StandardExitStatus("the attributes were printed"),
      "mdfs stat disk.img /data/log\n"
      "mdfs --access mmap stat disk.img /data/log --json",
  };
}

HelpPage LsHelp() {
  return {
      "ls",
      "list a directory",
      "mdfs ls IMAGE [PATH] [--json]",
      "Lists the entries of directory PATH (default /), sorted by name, as a\n"
      "table of type, mode, inode number, size, modification time (UTC) and\n"
      "name; symbolic links show their target. When PATH is not a directory\n"
      "it lists PATH itself. The image is opened read-only.\n"
      "\n"
      "Names are bytes. A name (or target) that holds a space, a character\n"
      "special to the shell, a control character or bytes that are not UTF-8\n"
      "is printed quoted as GNU ls --quoting-style=shell-escape prints it, so\n"
      "that the output is one line per entry and each name can be pasted into\n"
      "a shell: 'a b', 'a'$'\\n''b' (a newline), ''$'\\377' (the byte 0xff).\n"
      "With --json a name that is not UTF-8 comes with name_hex, its exact\n"
      "bytes in hex (see doc/cli.md).",
      StandardExitStatus("the listing was printed"),
      "mdfs ls disk.img /\n"
      "mdfs ls disk.img /data --json",
  };
}

struct Entry {
  std::string name;
  Attributes attributes;
  std::string target;  // symbolic links only
  Status error;        // not OK: the entry exists but cannot be read (damage)
};

bool IsSymlink(const Attributes& a) { return (a.mode & S_IFMT) == S_IFLNK; }

Result<Entry> LoadEntry(FileSystem& fs, std::string name, InodeNumber ino) {
  Entry entry{std::move(name), {}, {}, Status::Ok()};
  MDFS_ASSIGN_OR_RETURN(entry.attributes, fs.GetAttributes(ino));
  if (IsSymlink(entry.attributes)) {
    MDFS_ASSIGN_OR_RETURN(entry.target, fs.ReadLink(ino));
  }
  return entry;
}

// The entries to list for `path`: the directory's children sorted by name,
// or the file itself.
Result<std::vector<Entry>> LoadListing(FileSystem& fs, const std::string& path,
                                       const Attributes& attributes) {
  std::vector<Entry> entries;
  if ((attributes.mode & S_IFMT) != S_IFDIR) {
    MDFS_ASSIGN_OR_RETURN(Entry self, LoadEntry(fs, SplitPath(path).name, attributes.ino));
    entries.push_back(std::move(self));
    return entries;
  }
  MDFS_ASSIGN_OR_RETURN(auto children, fs.ReadDirectory(attributes.ino));
  std::sort(children.begin(), children.end(),
            [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
  for (const DirectoryEntry& child : children) {
    auto entry = LoadEntry(fs, child.name, child.ino);
    if (entry.ok()) {
      entries.push_back(std::move(entry).value());
    } else if (entry.status().code() == Code::kCorruption) {
      // Listed as unreadable, like GNU ls's "??????????" for a failed stat.
      entries.push_back(Entry{child.name, {}, {}, entry.status()});
    } else {
      return entry.status().WithContext(JoinPath(path, child.name));
    }
  }
  return entries;
}

nlohmann::json EntryToJson(const Entry& entry) {
  if (!entry.error.ok()) {
    nlohmann::json json = nlohmann::json::object();
    SetJsonText(json, "name", entry.name);
    SetJsonText(json, "error", entry.error.ToString());
    return json;
  }
  nlohmann::json json = AttributesToJson(entry.attributes);
  SetJsonText(json, "name", entry.name);
  if (IsSymlink(entry.attributes)) SetJsonText(json, "target", entry.target);
  return json;
}

void PrintListing(const std::vector<Entry>& entries) {
  Table table({"TYPE", "MODE", "INO", "SIZE", "MTIME", "NAME"}, {2, 3});
  for (const Entry& e : entries) {
    if (!e.error.ok()) {
      table.AddRow({"?", "??????????", "?", "?", "?", ShellEscape(e.name)});
      continue;
    }
    std::string name = ShellEscape(e.name);
    if (IsSymlink(e.attributes)) name += " -> " + ShellEscape(e.target);
    if ((e.attributes.mode & S_IFMT) == S_IFDIR) name += "/";
    table.AddRow({TypeName(e.attributes.mode), ModeString(e.attributes.mode),
                  std::to_string(e.attributes.ino), std::to_string(e.attributes.size),
                  ShortTime(e.attributes.mtime), name});
  }
  table.Print(std::cout);
}

int RunLs(const PathArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("ls", args.image, globals, /*read_only=*/true);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  auto attributes = LookupOrReport("ls", *image->fs, path);
  if (!attributes) return kExitFailure;
  auto entries = LoadListing(*image->fs, path, *attributes);
  if (!entries.ok()) return ReportError("ls", path, entries.status());
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Entry& e : *entries) list.push_back(EntryToJson(e));
    nlohmann::json json = nlohmann::json::object();
    SetJsonText(json, "path", path);
    json["type"] = TypeName(attributes->mode);
    json["entries"] = std::move(list);
    PrintJson(json);
  } else {
    PrintListing(*entries);
  }
  // Each unreadable entry is also an error line; the exit says some failed.
  int exit_code = kExitOk;
  for (const Entry& e : *entries) {
    if (!e.error.ok()) exit_code = ReportError("ls", JoinPath(path, e.name), e.error);
  }
  return exit_code;
}

void PrintAttributes(const std::string& path, const Entry& entry, const Device& device) {
  const Attributes& a = entry.attributes;
  KeyValueList list;
  list.Add("Path", ShellEscape(path));
  list.Add("Type", TypeName(a.mode));
  if (IsSymlink(a)) list.Add("Target", ShellEscape(entry.target));
  list.Add("Inode", std::to_string(a.ino) + " (generation " + std::to_string(a.generation) + ")");
  list.Add("Mode", OctalPermissions(a.mode) + " (" + ModeString(a.mode) + ")");
  list.Add("Uid/Gid", std::to_string(a.uid) + "/" + std::to_string(a.gid));
  list.Add("Size", std::to_string(a.size) + " bytes (" + HumanBytes(a.size) + ")");
  list.Add("Allocated", std::to_string(a.allocated_blocks) + " blocks (" +
                            HumanBytes(a.allocated_blocks * kBlockSize) + ")");
  list.Add("Links", std::to_string(a.nlink));
  std::string flags = InodeFlagsString(a.flags);
  list.Add("Flags", flags.empty() ? "none" : flags);
  list.Add("Access", IsoTime(a.atime));
  list.Add("Modify", IsoTime(a.mtime));
  list.Add("Change", IsoTime(a.ctime));
  list.Add("Birth", IsoTime(a.btime));
  list.Add("Persistence", PersistenceModeName(device.persistence_mode()));
  list.Print(std::cout);
}

void PrintExtents(const std::vector<ExtentInfo>& extents) {
  std::cout << "Extents: " << extents.size() << "\n";
  if (extents.empty()) return;
  Table table({"FILE_OFFSET", "DEVICE_OFFSET", "LENGTH", "FLAGS"}, {0, 1, 2});
  for (const ExtentInfo& e : extents) {
    std::string flags = ExtentFlagsString(e.flags);
    table.AddRow({std::to_string(e.file_offset), std::to_string(e.device_offset),
                  std::to_string(e.length), flags.empty() ? "-" : flags});
  }
  table.Print(std::cout);
}

int RunStat(const PathArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("stat", args.image, globals, /*read_only=*/true);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  auto attributes = LookupOrReport("stat", *image->fs, path);
  if (!attributes) return kExitFailure;
  auto entry = LoadEntry(*image->fs, SplitPath(path).name, attributes->ino);
  if (!entry.ok()) return ReportError("stat", path, entry.status());
  auto extents = image->fs->GetExtents(attributes->ino);
  if (!extents.ok()) return ReportError("stat", path, extents.status());
  if (args.json) {
    nlohmann::json json = EntryToJson(*entry);
    SetJsonText(json, "path", path);
    json["persistence_mode"] = PersistenceModeName(image->device->persistence_mode());
    json["extents"] = nlohmann::json::array();
    for (const ExtentInfo& e : *extents) json["extents"].push_back(ExtentToJson(e));
    PrintJson(json);
  } else {
    PrintAttributes(path, *entry, *image->device);
    PrintExtents(*extents);
  }
  return kExitOk;
}

}  // namespace

void AddStatLsCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto stat_args = std::make_shared<PathArgs>();
  CLI::App* stat = AddCommandWithHelp(app, StatHelp());
  stat->add_option("IMAGE", stat_args->image, "the image file or block device")->required();
  stat->add_option("PATH", stat_args->path, "absolute path inside the image")->required();
  stat->add_flag("--json", stat_args->json, "print one JSON object (see doc/cli.md)");
  out.push_back({stat, [stat_args, &globals] { return RunStat(*stat_args, globals); }});

  auto ls_args = std::make_shared<PathArgs>();
  CLI::App* ls = AddCommandWithHelp(app, LsHelp());
  ls->add_option("IMAGE", ls_args->image, "the image file or block device")->required();
  ls->add_option("PATH", ls_args->path, "directory (or file) inside the image; default /");
  ls->add_flag("--json", ls_args->json, "print one JSON object (see doc/cli.md)");
  out.push_back({ls, [ls_args, &globals] { return RunLs(*ls_args, globals); }});
}

}  // namespace mdfs::cli
