// mdfs seal IMAGE PATH     make a file's block map immutable (the swapfile rule)
// mdfs unseal IMAGE PATH   make it changeable again
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "command.h"
#include "help.h"
#include "output.h"

namespace mdfs::cli {
namespace {

struct SealArgs {
  std::string image;
  std::string path;
};

HelpPage SealHelp() {
  return {
      "seal",
      "make the block map of a file immutable",
      "mdfs seal IMAGE PATH",
      "Seals the regular file PATH (FileSystem::Seal): its block map becomes\n"
      "persistent and immutable, as a swap file's is in Linux. Afterwards\n"
      "every operation that would change which blocks hold the file fails\n"
      "with \"text file busy\" (exit 1): truncate, every fallocate mode, a\n"
      "write that allocates or extends the file, rm or mv over it when that\n"
      "frees its blocks. Writes that overwrite bytes inside the file still\n"
      "work. MAP_DIRECT mappings of a sealed file need no layout lease and\n"
      "are never recalled.\n"
      "\n"
      "Only a file whose every block below its size is written can be\n"
      "sealed: a hole or an unwritten (preallocated) extent is refused, and\n"
      "the error names the byte offset where it starts; write the range (or\n"
      "copy the file in again with mdfs put) first. Blocks preallocated past\n"
      "the end of the file (fallocate --keep-size) are freed by sealing.\n"
      "Sealing a sealed file does nothing. The flag shows as \"Flags: sealed\"\n"
      "in mdfs stat. Undo it with mdfs unseal.",
      "0   the file is sealed (or already was)\n"
      "1   it was not: PATH is missing, not a regular file, has a hole or an\n"
      "    unwritten extent (the message names its byte offset), or the\n"
      "    image could not be opened or written\n"
      "2   usage error: unknown option, missing argument",
      "mdfs put disk.img ./swap.bin /swap\n"
      "mdfs seal disk.img /swap\n"
      "mdfs stat disk.img /swap        # Flags: sealed\n"
      "mdfs truncate disk.img /swap 0  # fails: text file busy",
  };
}

HelpPage UnsealHelp() {
  return {
      "unseal",
      "make the block map of a sealed file changeable again",
      "mdfs unseal IMAGE PATH",
      "Clears the sealed flag of the regular file PATH (FileSystem::Unseal),\n"
      "so truncate, fallocate, allocating writes and removal work on it\n"
      "again. Unsealing a file that is not sealed does nothing.\n"
      "\n"
      "A process that holds MAP_DIRECT mappings of the sealed file (which\n"
      "took no layout lease) makes unseal fail with \"text file busy\" while\n"
      "they exist; an mdfs command never holds any once it has exited.",
      "0   the file is not sealed any more (or was not)\n"
      "1   the operation failed: PATH is missing or not a regular file,\n"
      "    mappings of the sealed file exist, or the image could not be\n"
      "    opened or written\n"
      "2   usage error: unknown option, missing argument",
      "mdfs unseal disk.img /swap\n"
      "mdfs truncate disk.img /swap 0",
  };
}

// Looks up the regular file PATH; prints the error on failure.
std::optional<Attributes> LookupRegularFile(std::string_view command, FileSystem& fs,
                                            const std::string& path) {
  auto attributes = LookupOrReport(command, fs, path);
  if (!attributes) return std::nullopt;
  uint32_t type = attributes->mode & S_IFMT;
  if (type == S_IFREG) return attributes;
  ReportError(command, path,
              type == S_IFDIR ? IsDirectory("only regular files can be sealed")
                              : InvalidArgument("not a regular file; only regular files can be "
                                                "sealed"));
  return std::nullopt;
}

int RunSeal(const SealArgs& args, const GlobalOptions& globals, bool seal) {
  const char* command = seal ? "seal" : "unseal";
  auto image = OpenImageOrReport(command, args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  auto attributes = LookupRegularFile(command, *image->fs, path);
  if (!attributes) return kExitFailure;
  Status status = seal ? image->fs->Seal(attributes->ino) : image->fs->Unseal(attributes->ino);
  if (!status.ok()) return ReportError(command, path, status);
  return kExitOk;
}

void AddSealCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out,
                    bool seal) {
  auto args = std::make_shared<SealArgs>();
  CLI::App* sub = AddCommandWithHelp(app, seal ? SealHelp() : UnsealHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("PATH", args->path, "the regular file in the image")->required();
  out.push_back({sub, [args, &globals, seal] { return RunSeal(*args, globals, seal); }});
}

}  // namespace

void AddSealCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  AddSealCommand(app, globals, out, /*seal=*/true);
  AddSealCommand(app, globals, out, /*seal=*/false);
}

}  // namespace mdfs::cli
