// mdfs truncate IMAGE PATH SIZE
// mdfs fallocate IMAGE PATH [MODE FLAGS] OFFSET LENGTH
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>

#include "command.h"
#include "help.h"
#include "output.h"
#include "size_parse.h"

namespace mdfs::cli {
namespace {

// Parses one SIZE/OFFSET/LENGTH argument; prints the error on failure.
std::optional<uint64_t> ParseSizeOrReport(std::string_view command, const std::string& text) {
  auto value = ParseSize(text);
  if (value.ok()) return *value;
  ReportMessage(command, value.status().message(), kExitUsage);
  return std::nullopt;
}

// Looks up a regular file for a space operation; prints the error on failure.
std::optional<Attributes> LookupRegularFile(std::string_view command, FileSystem& fs,
                                            const std::string& path) {
  auto attributes = LookupOrReport(command, fs, path);
  if (!attributes) return std::nullopt;
  uint32_t type = attributes->mode & S_IFMT;
  if (type == S_IFREG) return attributes;
  ReportError(command, path,
              type == S_IFDIR ? IsDirectory("only regular files have a size to change")
                              : InvalidArgument("not a regular file"));
  return std::nullopt;
}

// --------------------------------------------------------------- truncate
struct TruncateArgs {
  std::string image;
  std::string path;
  std::string size;
};

HelpPage TruncateHelp() {
  return {
      "truncate",
      "set the size of a file",
      "mdfs truncate IMAGE PATH SIZE",
      "Sets the size of the regular file PATH to SIZE bytes, as truncate(2)\n"
      "does: shrinking frees the blocks past the new end; growing leaves a\n"
      "hole that reads as zeros and allocates nothing. SIZE takes a K, M, G\n"
      "or T suffix (powers of 1024). The change is one journal transaction.",
      StandardExitStatus("the size was set"),
      "mdfs truncate disk.img /data/log 0\n"
      "mdfs truncate disk.img /data/sparse 10G",
  };
}

int RunTruncate(const TruncateArgs& args, const GlobalOptions& globals) {
  std::optional<uint64_t> size = ParseSizeOrReport("truncate", args.size);
  if (!size) return kExitUsage;
  auto image = OpenImageOrReport("truncate", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  auto attributes = LookupRegularFile("truncate", *image->fs, path);
  if (!attributes) return kExitFailure;
  Status status = image->fs->Truncate(attributes->ino, *size);
  if (!status.ok()) return ReportError("truncate", path, status);
  return kExitOk;
}

// -------------------------------------------------------------- fallocate
struct FallocateArgs {
  std::string image;
  std::string path;
  std::string offset;
  std::string length;
  bool keep_size = false;
  bool punch_hole = false;
  bool zero_range = false;
  bool collapse_range = false;
  bool insert_range = false;

  uint32_t Mode() const {
    uint32_t mode = keep_size ? kFallocateKeepSize : 0;
    if (punch_hole) mode |= kFallocatePunchHole | kFallocateKeepSize;
    if (zero_range) mode |= kFallocateZeroRange;
    if (collapse_range) mode |= kFallocateCollapseRange;
    if (insert_range) mode |= kFallocateInsertRange;
    return mode;
  }
};

HelpPage FallocateHelp() {
  return {
      "fallocate",
      "allocate, punch, zero, collapse or insert a file range",
      "mdfs fallocate IMAGE PATH [-k] OFFSET LENGTH\n"
      "mdfs fallocate IMAGE PATH -p OFFSET LENGTH\n"
      "mdfs fallocate IMAGE PATH -z [-k] OFFSET LENGTH\n"
      "mdfs fallocate IMAGE PATH -c OFFSET LENGTH\n"
      "mdfs fallocate IMAGE PATH -i OFFSET LENGTH",
      "Changes the space of [OFFSET, OFFSET+LENGTH) of the regular file PATH\n"
      "as Linux fallocate(2) does, in one journal transaction:\n"
      "\n"
      "  (no flag)  allocate the range as unwritten extents (reads as zeros)\n"
      "             and grow the size to cover it\n"
      "  -k         allocate, but keep the size\n"
      "  -p         punch a hole: free the range; implies -k (as util-linux)\n"
      "  -z         zero the range (unwritten extents); grows the size unless -k\n"
      "  -c         collapse: remove the range, shift the rest down\n"
      "  -i         insert: shift the data from OFFSET up, leaving a hole\n"
      "\n"
      "-c and -i need OFFSET and LENGTH to be multiples of 4096 and fail as\n"
      "Linux does otherwise. OFFSET and LENGTH take K, M, G, T suffixes.",
      StandardExitStatus("the range was changed"),
      "mdfs fallocate disk.img /data/db 0 1G\n"
      "mdfs fallocate disk.img /data/db --punch-hole 4K 64K\n"
      "mdfs fallocate disk.img /data/db --zero-range --keep-size 0 1M\n"
      "mdfs fallocate disk.img /data/db --collapse-range 0 4K\n"
      "mdfs fallocate disk.img /data/db --insert-range 8K 4K",
  };
}

// The end of [OFFSET, OFFSET + LENGTH) must be a file offset: past 2^64 it
// is a usage error (exit 2); past the maximum file size it fails as Linux's
// vfs_fallocate does (EFBIG, exit 1). Prints the error; 0 when the end is
// fine.
int CheckRangeEnd(const std::string& path, uint64_t offset, uint64_t length) {
  std::string maximum = HumanBytes(kMaxFileSize) + " (" + std::to_string(kMaxFileSize) + " bytes)";
  if (length > UINT64_MAX - offset) {
    return ReportMessage("fallocate",
                         "invalid range: OFFSET " + std::to_string(offset) + " + LENGTH " +
                             std::to_string(length) + " is past 2^64; the maximum file size is " +
                             maximum,
                         kExitUsage);
  }
  if (offset + length <= kMaxFileSize) return kExitOk;
  return ReportError("fallocate", path,
                     FileTooLarge("the range ends at byte " + std::to_string(offset + length) +
                                  ", past the maximum file size " + maximum));
}

int RunFallocate(const FallocateArgs& args, const GlobalOptions& globals) {
  std::optional<uint64_t> offset = ParseSizeOrReport("fallocate", args.offset);
  if (!offset) return kExitUsage;
  std::optional<uint64_t> length = ParseSizeOrReport("fallocate", args.length);
  if (!length) return kExitUsage;
  if (int failed = CheckRangeEnd(NormalizePath(args.path), *offset, *length)) return failed;
  auto image = OpenImageOrReport("fallocate", args.image, globals, /*read_only=*/false);
  if (!image) return kExitFailure;
  std::string path = NormalizePath(args.path);
  auto attributes = LookupRegularFile("fallocate", *image->fs, path);
  if (!attributes) return kExitFailure;
  Status status = image->fs->Fallocate(attributes->ino, args.Mode(), *offset, *length);
  if (!status.ok()) return ReportError("fallocate", path, status);
  return kExitOk;
}

// ------------------------------------------------------------ registration
void AddTruncate(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<TruncateArgs>();
  CLI::App* sub = AddCommandWithHelp(app, TruncateHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("PATH", args->path, "the regular file in the image")->required();
  sub->add_option("SIZE", args->size, "the new size: bytes or K, M, G, T (KiB..TiB)")->required();
  out.push_back({sub, [args, &globals] { return RunTruncate(*args, globals); }});
}

void AddFallocate(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<FallocateArgs>();
  CLI::App* sub = AddCommandWithHelp(app, FallocateHelp());
  sub->add_option("IMAGE", args->image, "the image file or block device")->required();
  sub->add_option("PATH", args->path, "the regular file in the image")->required();
  sub->add_option("OFFSET", args->offset, "start of the range: bytes or K, M, G, T")->required();
  sub->add_option("LENGTH", args->length, "length of the range: bytes or K, M, G, T")->required();
  auto* keep = sub->add_flag("-k,--keep-size", args->keep_size, "do not change the file size");
  auto* punch = sub->add_flag("-p,--punch-hole", args->punch_hole,
                              "free the range (FALLOC_FL_PUNCH_HOLE); implies --keep-size");
  auto* zero =
      sub->add_flag("-z,--zero-range", args->zero_range, "zero the range (FALLOC_FL_ZERO_RANGE)");
  auto* collapse = sub->add_flag("-c,--collapse-range", args->collapse_range,
                                 "remove the range and shift the rest down "
                                 "(FALLOC_FL_COLLAPSE_RANGE)");
  auto* insert = sub->add_flag("-i,--insert-range", args->insert_range,
                               "insert a hole, shifting the rest up (FALLOC_FL_INSERT_RANGE)");
  punch->excludes(zero)->excludes(collapse)->excludes(insert);
  zero->excludes(collapse)->excludes(insert);
  collapse->excludes(insert)->excludes(keep);
  insert->excludes(keep);
  out.push_back({sub, [args, &globals] { return RunFallocate(*args, globals); }});
}

}  // namespace

void AddSpaceCommands(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  AddTruncate(app, globals, out);
  AddFallocate(app, globals, out);
}

}  // namespace mdfs::cli
