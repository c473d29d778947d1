// Manual-page style --help for `mdfs` and each of its commands.
//
// CLI11 prints a compact usage block by default; mdfs renders every --help
// as a small manual page instead: NAME, SYNOPSIS, DESCRIPTION, ARGUMENTS,
// OPTIONS (both generated from the CLI11 definitions), EXIT STATUS, EXAMPLES.
#ifndef MDFS_TOOLS_HELP_H_
#define MDFS_TOOLS_HELP_H_

#include <string>

namespace CLI {
class App;
}

namespace mdfs::cli {

// The hand-written parts of one manual page. Multi-line fields are plain
// text with '\n' between lines, at most ~74 columns wide; they are
// indented when printed.
struct HelpPage {
  std::string name;         // "put"; empty for the top-level page
  std::string summary;      // one line, lower case: "copy a host file into the image"
  std::string synopsis;     // "mdfs put [OPTIONS] IMAGE HOST_FILE PATH"
  std::string description;  // paragraphs separated by blank lines
  std::string exit_status;  // "0  the file was copied\n1  ..."
  std::string examples;     // command lines, each with a comment line above
};

// Makes `app` (the top-level mdfs app, before any subcommand is added) print
// `page` as its --help; subcommands added later inherit the formatter.
void InstallManualHelp(CLI::App& app, HelpPage page);

// Adds subcommand `page.name` to `parent` with `page` as its --help.
// REQUIRES: InstallManualHelp(parent's root) was called first.
CLI::App* AddCommandWithHelp(CLI::App& parent, HelpPage page);

// The EXIT STATUS text shared by ordinary commands.
std::string StandardExitStatus(const std::string& success);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_HELP_H_
