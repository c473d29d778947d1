// mdfs: the command-line tool for mdfs images. Parses the command line with
// CLI11 and dispatches to the command chosen; see doc/cli.md.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"
#include "help.h"
#include "output.h"

#ifndef MDFS_VERSION
#define MDFS_VERSION "unknown"
#endif

namespace mdfs::cli {
namespace {

HelpPage TopLevelHelp() {
  return {
      "",
      "create, inspect and change mdfs file system images",
      "mdfs [--access pread|mmap] COMMAND [OPTIONS] IMAGE [ARGUMENTS]\n"
      "mdfs COMMAND --help\n"
      "mdfs --version",
      "mdfs works on an image (a regular file or a block device holding an\n"
      "mdfs file system) in-process: each command opens the image, does one\n"
      "thing, and closes it. Every change is a committed journal transaction\n"
      "by the time the command exits. Paths inside the image are absolute\n"
      "(\"/dir/file\"); sizes take K, M, G, T suffixes (powers of 1024).\n"
      "\n"
      "Errors are printed on stderr as one line:\n"
      "  mdfs COMMAND: WHAT: REASON\n"
      "and a failing command changes nothing on the image.",
      "0   success\n"
      "1   the operation failed\n"
      "2   usage error (unknown option, missing argument, unparsable number)\n"
      "4   fsck: problems found\n"
      "8   fsck: the image could not be checked",
      "mdfs mkfs disk.img --size 256M\n"
      "mdfs mkdir disk.img /data\n"
      "mdfs put disk.img ./photo.jpg /data/\n"
      "mdfs ls disk.img /data\n"
      "mdfs stat disk.img /data/photo.jpg\n"
      "mdfs get disk.img /data/photo.jpg copy.jpg\n"
      "mdfs fsck disk.img",
  };
}

// The command whose arguments were being parsed when parsing failed.
std::string FailedCommandName(const CLI::App& app) {
  std::vector<CLI::App*> chosen = app.get_subcommands();
  return chosen.empty() ? std::string() : chosen.back()->get_name();
}

int UsageError(const CLI::App& app, const CLI::ParseError& error) {
  std::string command = FailedCommandName(app);
  std::string help = command.empty() ? "mdfs --help" : "mdfs " + command + " --help";
  std::string where = command.empty() ? "mdfs: " : "mdfs " + command + ": ";
  std::string what = error.what();
  if (command.empty() && what.find("subcommand") != std::string::npos) {
    what = "a command is required";
  }
  std::cerr << where << what << " (see '" << help << "')" << std::endl;
  return kExitUsage;
}

int Main(int argc, char** argv) {
  CLI::App app("", "mdfs");
  InstallManualHelp(app, TopLevelHelp());
  app.set_help_flag("-h,--help", "print this manual page and exit");
  app.set_version_flag("--version", "mdfs " MDFS_VERSION " (on-device format v1)",
                       "print the version and exit");
  GlobalOptions globals;
  CLI::Option* access =
      app.add_option("--access", globals.access,
                     "how the image is accessed: pread (pread/pwrite, the default) or mmap "
                     "(a shared mapping, the DAX path); may also follow the command name")
          ->check(CLI::IsMember({"pread", "mmap"}))
          ->option_text("pread|mmap");
  app.require_subcommand(1, 1);
  app.fallthrough();
  std::vector<Command> commands;
  AddMkfsCommand(app, globals, commands);
  AddFsckCommand(app, globals, commands);
  AddDfCommand(app, globals, commands);
  AddStatLsCommands(app, globals, commands);
  AddNamespaceCommands(app, globals, commands);
  AddCopyCommands(app, globals, commands);
  AddSpaceCommands(app, globals, commands);
  AddSealCommands(app, globals, commands);
  AddDemoCommand(app, globals, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);  // --help, --version: printed on stdout
  } catch (const CLI::ParseError& error) {
    return UsageError(app, error);
  }
  globals.access_given = access->count() > 0;
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return UsageError(app, CLI::RequiredError("subcommand"));
}

}  // namespace
}  // namespace mdfs::cli

int main(int argc, char** argv) {
  try {
    return mdfs::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mdfs: internal error: " << e.what() << std::endl;
    return mdfs::cli::kExitFailure;
  }
}
