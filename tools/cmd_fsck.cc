// mdfs fsck IMAGE [--json] [--repair]: check every on-device invariant;
// with --repair, fix what can be fixed (RepairFileSystem) and check again.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <memory>

#include "command.h"
#include "escape.h"
#include "help.h"
#include "mdfs/fsck.h"
#include "output.h"

namespace mdfs::cli {
namespace {

struct FsckArgs {
  std::string image;
  bool json = false;
  bool repair = false;
};

HelpPage FsckHelp() {
  return {
      "fsck",
      "check an mdfs file system",
      "mdfs fsck IMAGE [--json] [--repair]",
      "Checks every on-device invariant of the file system in IMAGE: both\n"
      "superblocks, the inode table, every extent map, directory contents,\n"
      "link counts, block ownership against the free-space bitmap, and the\n"
      "journal. A committed journal transaction that was not yet applied is\n"
      "applied in memory (the state recovery would produce) before checking.\n"
      "\n"
      "Without --repair, fsck opens IMAGE read-only and never writes to it.\n"
      "Each problem is printed as CHECK (a stable identifier), WHERE and a\n"
      "message, followed by the journal state and the counts.\n"
      "\n"
      "--repair opens IMAGE for writing, with the image lock held exclusively\n"
      "(an image in use by a server or another command is refused), and fixes\n"
      "what it can, as e2fsck -p does: replays or discards the journal,\n"
      "rewrites a damaged superblock copy, clears inodes that cannot be\n"
      "decoded or trusted, drops bad directory entries, reconnects unreachable\n"
      "files and directories under /lost+found as #INODE, fixes link counts,\n"
      "sizes and parents, and rebuilds the free-space bitmap. Every change is\n"
      "printed as a 'fixed:' line; then the file system is checked again and\n"
      "reported as without --repair. Data in cleared inodes is lost. Running\n"
      "it again changes nothing. doc/fsck.md says what each check's repair does.",
      "0   the file system is clean (with --repair: nothing needed fixing)\n"
      "1   --repair: problems were found and all fixed; the file system is\n"
      "    now clean\n"
      "4   problems were found (listed on stdout); with --repair: problems\n"
      "    remain that it could not fix\n"
      "8   IMAGE could not be checked: it does not exist, cannot be read, or\n"
      "    holds no mdfs superblock\n"
      "2   usage error",
      "mdfs fsck disk.img\n"
      "# Machine-readable, e.g. for a script:\n"
      "mdfs fsck disk.img --json | jq .clean\n"
      "# Fix what can be fixed (the image must not be in use):\n"
      "mdfs fsck disk.img --repair",
  };
}

nlohmann::json ProblemToJson(const FsckProblem& problem) {
  nlohmann::json json = {{"check", problem.check}};
  SetJsonText(json, "where", problem.where);
  SetJsonText(json, "message", problem.message);
  return json;
}

nlohmann::json ReportToJson(const std::string& image, const FsckReport& report) {
  nlohmann::json problems = nlohmann::json::array();
  for (const FsckProblem& p : report.problems) problems.push_back(ProblemToJson(p));
  nlohmann::json json = {
      {"clean", report.clean()},
      {"problem_count", report.problems.size()},
      {"problems", problems},
      {"inodes_in_use", report.inodes_in_use},
      {"directories", report.directories},
      {"regular_files", report.regular_files},
      {"symlinks", report.symlinks},
      {"unlinked_inodes", report.unlinked_inodes},
      {"blocks_in_use", report.blocks_in_use},
      {"blocks_free", report.blocks_free},
      {"total_blocks", report.total_blocks},
      {"journal_state", report.journal_state},
      {"journal_sequence", report.journal_sequence},
  };
  SetJsonText(json, "image", image);
  return json;
}

void PrintReport(const std::string& image, const FsckReport& report) {
  if (!report.problems.empty()) {
    Table table({"CHECK", "WHERE", "MESSAGE"});
    for (const FsckProblem& p : report.problems) {
      table.AddRow({p.check, EscapeControlCharacters(p.where), EscapeControlCharacters(p.message)});
    }
    table.Print(std::cout);
    std::cout << '\n';
  }
  KeyValueList list;
  list.Add("Journal",
           report.journal_state + " (sequence " + std::to_string(report.journal_sequence) + ")");
  list.Add("Inodes", std::to_string(report.inodes_in_use) + " in use (" +
                         std::to_string(report.directories) + " directories, " +
                         std::to_string(report.regular_files) + " files, " +
                         std::to_string(report.symlinks) + " symlinks)");
  if (report.unlinked_inodes > 0) {
    list.Add("Unlinked", std::to_string(report.unlinked_inodes) +
                             " open when their last name was removed; the next writable open "
                             "frees them");
  }
  list.Add("Blocks", std::to_string(report.blocks_in_use) + " in use, " +
                         std::to_string(report.blocks_free) + " free, " +
                         std::to_string(report.total_blocks) + " total");
  list.Print(std::cout);
  std::string name = ShellEscapeIfUnprintable(image);
  if (report.clean()) {
    std::cout << name << ": clean\n";
  } else {
    std::cout << name << ": " << report.problems.size()
              << (report.problems.size() == 1 ? " problem" : " problems") << " found\n";
  }
}

int CouldNotCheck(const FsckArgs& args, const Status& status) {
  if (args.json) {
    nlohmann::json json = {{"clean", false}};
    SetJsonText(json, "image", args.image);
    SetJsonText(json, "error", status.ToString());
    PrintJson(json);
  }
  ReportError("fsck", args.image, status);
  return kExitFsckError;
}

// --repair: fixes, prints every change, then reports the check after it.
int RunRepair(const FsckArgs& args, Device* device) {
  auto repair = RepairFileSystem(device);
  if (!repair.ok()) return CouldNotCheck(args, repair.status());
  if (args.json) {
    nlohmann::json json = ReportToJson(args.image, repair->after);
    nlohmann::json changes = nlohmann::json::array();
    for (const std::string& change : repair->changes) {
      nlohmann::json item = nlohmann::json::object();
      SetJsonText(item, "change", change);
      changes.push_back(item);
    }
    json["changes"] = changes;
    PrintJson(json);
  } else {
    for (const std::string& change : repair->changes) {
      std::cout << "fixed: " << EscapeControlCharacters(change) << '\n';
    }
    if (!repair->changes.empty()) std::cout << '\n';
    PrintReport(args.image, repair->after);
  }
  if (!repair->after.clean()) return kExitFsckProblems;
  return repair->changes.empty() ? kExitOk : kExitFsckFixed;
}

int RunFsck(const FsckArgs& args, const GlobalOptions& globals) {
  FileDeviceOptions options;
  options.read_only = !args.repair;
  auto device = OpenImageDevice(args.image, globals.access_mode(), options);
  if (!device.ok()) return CouldNotCheck(args, device.status());
  Status size = CheckImageSize(**device);
  if (!size.ok()) return CouldNotCheck(args, size);
  if (args.repair) return RunRepair(args, device->get());
  auto report = CheckFileSystem(device->get());
  if (!report.ok()) return CouldNotCheck(args, report.status());
  if (args.json) {
    PrintJson(ReportToJson(args.image, *report));
  } else {
    PrintReport(args.image, *report);
  }
  return report->clean() ? kExitOk : kExitFsckProblems;
}

// fsck's exit codes are 0, 1, 4 and 8 only: an unexpected failure is "could
// not check" too, never main's exit 1.
int RunFsckOrReport(const FsckArgs& args, const GlobalOptions& globals) {
  try {
    return RunFsck(args, globals);
  } catch (const std::exception& e) {
    ReportError("fsck", args.image, IoError(std::string("internal error: ") + e.what()));
    return kExitFsckError;
  }
}

}  // namespace

void AddFsckCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<FsckArgs>();
  CLI::App* sub = AddCommandWithHelp(app, FsckHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device to check")->required();
  sub->add_flag("--json", args->json, "print the report as one JSON object (see doc/cli.md)");
  sub->add_flag("--repair", args->repair,
                "fix what can be fixed, print each change, then check again (writes IMAGE)");
  out.push_back({sub, [args, &globals] { return RunFsckOrReport(*args, globals); }});
}

}  // namespace mdfs::cli
