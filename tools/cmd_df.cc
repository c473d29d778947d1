// mdfs df IMAGE [--json]: space, inodes, persistence mode, uuid, journal.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "command.h"
#include "escape.h"
#include "help.h"
#include "output.h"

namespace mdfs::cli {
namespace {

struct DfArgs {
  std::string image;
  bool json = false;
};

HelpPage DfHelp() {
  return {
      "df",
      "report space and inode usage of an image",
      "mdfs [--access pread|mmap] df IMAGE [--json]",
      "Opens the file system in IMAGE read-only and reports its size, used\n"
      "and free space (in 4 KiB blocks and in bytes), used and free inodes,\n"
      "the UUID, the sequence number of the last committed journal\n"
      "transaction, the lease break time (how long a recall of layout leases\n"
      "may take before the holders are revoked; 0: never), and the\n"
      "persistence mode of the device as it was opened:\n"
      "\n"
      "  fdatasync  pread/pwrite access (--access pread, the default)\n"
      "  msync      a shared mapping of an ordinary file (--access mmap)\n"
      "  cpu-cache  a DAX mapping with MAP_SYNC or device-dax (--access mmap)\n"
      "  volatile   tmpfs or memory: nothing survives a reboot\n"
      "\n"
      "Used space includes the metadata regions (superblocks, journal, inode\n"
      "table, bitmap); Data blocks is the part of the device that files and\n"
      "directories can use at all.",
      StandardExitStatus("the report was printed"),
      "mdfs df disk.img\n"
      "# The persistence mode of a shared mapping of the image:\n"
      "mdfs --access mmap df disk.img\n"
      "mdfs df disk.img --json",
  };
}

nlohmann::json StatsToJson(const std::string& image, const Device& device,
                           const FileSystemStats& s) {
  uint64_t used_blocks = s.total_blocks - s.free_blocks;
  nlohmann::json json = {
      {"block_size", s.block_size},
      {"total_blocks", s.total_blocks},
      {"used_blocks", used_blocks},
      {"free_blocks", s.free_blocks},
      {"data_blocks", s.data_blocks},
      {"total_bytes", s.total_blocks * s.block_size},
      {"used_bytes", used_blocks * s.block_size},
      {"free_bytes", s.free_blocks * s.block_size},
      {"total_inodes", s.total_inodes},
      {"used_inodes", s.total_inodes - s.free_inodes},
      {"free_inodes", s.free_inodes},
      {"max_name_length", s.max_name_length},
      {"uuid", UuidString(s.uuid)},
      {"persistence_mode", PersistenceModeName(device.persistence_mode())},
      {"read_only", s.read_only},
      {"journal_sequence", s.journal_sequence},
      {"lease_break_time_ms", s.lease_break_time_ms},
  };
  SetJsonText(json, "image", image);
  SetJsonText(json, "device", device.Describe());
  return json;
}

std::string BlocksAndBytes(uint64_t blocks, uint32_t block_size) {
  return HumanBytes(blocks * block_size) + " (" + std::to_string(blocks) + " blocks)";
}

void PrintStats(const std::string& image, const Device& device, const FileSystemStats& s) {
  uint64_t used_blocks = s.total_blocks - s.free_blocks;
  uint64_t used_inodes = s.total_inodes - s.free_inodes;
  KeyValueList list;
  list.Add("Image", ShellEscapeIfUnprintable(image));
  list.Add("Device", EscapeControlCharacters(device.Describe()));
  list.Add("Size", HumanBytes(s.total_blocks * s.block_size) + " (" +
                       std::to_string(s.total_blocks) + " blocks of " +
                       std::to_string(s.block_size) + " bytes)");
  list.Add("Used", BlocksAndBytes(used_blocks, s.block_size));
  list.Add("Free", BlocksAndBytes(s.free_blocks, s.block_size));
  list.Add("Data blocks", BlocksAndBytes(s.data_blocks, s.block_size));
  list.Add("Inodes", std::to_string(used_inodes) + " used, " + std::to_string(s.free_inodes) +
                         " free, " + std::to_string(s.total_inodes) + " total");
  list.Add("Persistence", PersistenceModeName(device.persistence_mode()));
  list.Add("UUID", UuidString(s.uuid));
  list.Add("Journal sequence", std::to_string(s.journal_sequence));
  list.Add("Lease break time", LeaseBreakTimeString(s.lease_break_time_ms));
  list.Print(std::cout);
}

int RunDf(const DfArgs& args, const GlobalOptions& globals) {
  auto image = OpenImageOrReport("df", args.image, globals, /*read_only=*/true);
  if (!image) return kExitFailure;
  auto stats = image->fs->StatFs();
  if (!stats.ok()) return ReportError("df", args.image, stats.status());
  if (args.json) {
    PrintJson(StatsToJson(args.image, *image->device, *stats));
  } else {
    PrintStats(args.image, *image->device, *stats);
  }
  return kExitOk;
}

}  // namespace

void AddDfCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<DfArgs>();
  CLI::App* sub = AddCommandWithHelp(app, DfHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_flag("--json", args->json, "print one JSON object (see doc/cli.md)");
  out.push_back({sub, [args, &globals] { return RunDf(*args, globals); }});
}

}  // namespace mdfs::cli
