// What every `mdfs` subcommand shares: exit codes, global options, and the
// registration functions main.cc calls (one per command group file).
#ifndef MDFS_TOOLS_COMMAND_H_
#define MDFS_TOOLS_COMMAND_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image.h"

namespace CLI {
class App;
}

namespace mdfs::cli {

// Exit codes (doc/cli.md). fsck uses its own 0 / 4 / 8.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFsckFixed = 1;  // fsck --repair: problems found, all fixed
inline constexpr int kExitFsckProblems = 4;
inline constexpr int kExitFsckError = 8;

// Options given before (or after) the command name.
struct GlobalOptions {
  std::string access = "pread";  // "pread" or "mmap"
  bool access_given = false;     // --access was on the command line
  Access access_mode() const { return access == "mmap" ? Access::kMmap : Access::kPread; }
};

// A registered subcommand: its CLI11 node and what runs when it was chosen.
// `run` returns the process exit code.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Opens IMAGE for `command`. On failure prints "mdfs <command>: IMAGE: ..."
// and returns nullopt (the caller exits with kExitFailure). A superblock
// copy found damaged (and restored by a writable open), or damage a
// read-only open serves around, is a warning line on stderr.
std::optional<Image> OpenImageOrReport(std::string_view command, const std::string& image,
                                       const GlobalOptions& globals, bool read_only);
// The warnings of OpenImageOrReport, for commands that open images otherwise.
void WarnAboutDamage(std::string_view command, const std::string& image, FileSystem& fs);

// Looks up `path` (normalized); on failure prints "mdfs <command>: PATH: ..."
// and returns nullopt.
std::optional<Attributes> LookupOrReport(std::string_view command, FileSystem& fs,
                                         const std::string& path);

// Each adds its subcommands to `app`; `globals` outlives the commands.
void AddMkfsCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddFsckCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddDfCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddStatLsCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddCopyCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddNamespaceCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddSpaceCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddSealCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);
void AddDemoCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_COMMAND_H_
