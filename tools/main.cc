// mdfs: the command-line tool for mdfs images. Parses the command line with
// CLI11 and dispatches to the command chosen; see doc/cli.md.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "escape.h"
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
      "mdfs help [COMMAND]\n"
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

HelpPage HelpHelp() {
  return {
      "help",
      "print the manual page of a command",
      "mdfs help [COMMAND]",
      "Prints the manual page of COMMAND on standard output: the same text as\n"
      "'mdfs COMMAND --help'. Without COMMAND it prints the overview of mdfs\n"
      "and its commands, as 'mdfs --help' does.",
      "0   the page was printed\n"
      "2   COMMAND is not an mdfs command, or more than one word was given",
      "mdfs help put\n"
      "mdfs help",
  };
}

// The subcommand of `app` called `name`, or nullptr.
const CLI::App* FindCommand(const CLI::App& app, std::string_view name) {
  for (const CLI::App* command : app.get_subcommands({})) {
    if (command->get_name() == name) return command;
  }
  return nullptr;
}

// "mdfs: unknown command 'mount' (commands: mkfs, fsck, ...; see 'mdfs
// --help')" on stderr (after "mdfs help: " for `mdfs help mount`).
int UnknownCommand(const CLI::App& app, std::string_view where, std::string_view word) {
  std::string names;
  for (const CLI::App* command : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + command->get_name();
  }
  std::cerr << where << "unknown command '" << EscapeControlCharacters(word)
            << "' (commands: " << names << "; see 'mdfs --help')" << std::endl;
  return kExitUsage;
}

// The word that names the command: the first argument that is not a
// global option. Empty when there is none, or when an option that is not
// global comes first (CLI11 then reports it).
std::string_view CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--access") {
      ++i;  // its value
    } else if (arg == "-h" || arg == "--help" || arg == "--version") {
      return {};  // CLI11 prints the page or the version
    } else if (!arg.starts_with("--access=")) {
      return arg.starts_with("-") ? std::string_view() : arg;
    }
  }
  return {};
}

// mdfs help [COMMAND]: the manual page, exactly as --help prints it.
int RunHelp(const CLI::App& app, const std::string& name) {
  const CLI::App* page = name.empty() ? &app : FindCommand(app, name);
  if (page == nullptr) return UnknownCommand(app, "mdfs help: ", name);
  std::cout << app.get_formatter()->make_help(page, page->get_name(), CLI::AppFormatMode::Normal);
  return kExitOk;
}

void AddHelpCommand(CLI::App& app, std::vector<Command>& out) {
  auto name = std::make_shared<std::string>();
  CLI::App* sub = AddCommandWithHelp(app, HelpHelp());
  sub->add_option("COMMAND", *name, "the command whose manual page to print");
  out.push_back({sub, [&app, name] { return RunHelp(app, *name); }});
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
    // No command was found; a word CLI11 set aside (an unknown option
    // before the command, say) is what to name.
    std::vector<std::string> left = app.remaining();
    what = left.empty() ? "a command is required"
                        : "'" + left.front() + "' is neither a command nor a global option";
  }
  std::cerr << where << EscapeControlCharacters(what) << " (see '" << help << "')" << std::endl;
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
  AddHelpCommand(app, commands);
  // CLI11 would take an unknown word for an extra argument and say "a
  // command is required" (or drop it in "mdfs foo put ...").
  std::string_view word = CommandWord(argc, argv);
  if (!word.empty() && FindCommand(app, word) == nullptr)
    return UnknownCommand(app, "mdfs: ", word);
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
