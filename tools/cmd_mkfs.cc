// mdfs mkfs IMAGE [--size SIZE] [--force] [--inodes-per BYTES] [--journal-blocks N]
//           [--lease-break-time MS]
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "command.h"
#include "escape.h"
#include "format/format.h"
#include "help.h"
#include "output.h"
#include "size_parse.h"

namespace mdfs::cli {
namespace {

struct MkfsArgs {
  std::string image;
  std::string size;
  std::string inodes_per;
  std::string journal_blocks;
  std::string lease_break_time;
  bool force = false;
};

struct MkfsPlan {
  std::optional<uint64_t> size;  // --size, parsed
  FormatOptions format;
};

HelpPage MkfsHelp() {
  return {
      "mkfs",
      "create an empty mdfs file system",
      "mdfs mkfs IMAGE --size SIZE [--inodes-per BYTES] [--journal-blocks N]\n"
      "          [--lease-break-time MS]\n"
      "mdfs mkfs IMAGE [--size SIZE] --force [...]",
      "Writes a new, empty mdfs file system (the root directory only) onto\n"
      "IMAGE, a regular file, a block device or a device-dax character\n"
      "device (/dev/daxN.M, always accessed through a mapping), and prints\n"
      "its geometry.\n"
      "\n"
      "When IMAGE does not exist it is created with --size bytes. When it\n"
      "exists and holds a known signature (mdfs, ext2/3/4, xfs, btrfs, LUKS,\n"
      "swap, GPT, ISO 9660, NTFS, FAT, f2fs: the error names it) or its first\n"
      "8 KiB hold anything but zeros, mkfs refuses unless --force is given.\n"
      "--size on an existing regular file with --force resizes the file\n"
      "first. A block or device-dax device is formatted whole; --size, if\n"
      "given, must equal its size.\n"
      "\n"
      "SIZE takes a K, M, G or T suffix (powers of 1024); plain numbers are\n"
      "bytes. The file system needs at least 2 MiB.\n"
      "\n"
      "--lease-break-time is stored in the superblock: how long a recall of\n"
      "layout leases (MAP_DIRECT mappings, device registrations) may take\n"
      "before a breaker (truncate, punch hole, ...) revokes the holders that\n"
      "have not given their layout back. 0 means never revoke: the breaker\n"
      "waits as long as it takes. Default 45000 ms (45 s), Linux's\n"
      "lease-break-time. mdfs df shows it.",
      "0   the file system was written\n"
      "1   it was not: IMAGE holds data (no --force), cannot be created or\n"
      "    opened, is too small, or a write failed\n"
      "2   usage error: unknown option, missing --size for a new image,\n"
      "    unparsable size or time",
      "# A new 256 MiB image file:\n"
      "mdfs mkfs disk.img --size 256M\n"
      "# Reformat an existing image, growing it to 4 GiB:\n"
      "mdfs mkfs disk.img --size 4G --force\n"
      "# One inode per 64 KiB, a 2048-block journal:\n"
      "mdfs mkfs disk.img --size 1G --inodes-per 64K --journal-blocks 2048\n"
      "# Revoke layout leases 5 s after a recall started (0: never):\n"
      "mdfs mkfs disk.img --size 256M --lease-break-time 5s",
  };
}

// Parses the numeric options; prints the error and returns nullopt on failure.
std::optional<MkfsPlan> ParseMkfsArgs(const MkfsArgs& args) {
  MkfsPlan plan;
  auto parse = [](const std::string& text) -> std::optional<uint64_t> {
    auto value = ParseSize(text);
    if (value.ok()) return *value;
    ReportMessage("mkfs", value.status().message(), kExitUsage);
    return std::nullopt;
  };
  if (!args.size.empty()) {
    plan.size = parse(args.size);
    if (!plan.size) return std::nullopt;
  }
  if (!args.inodes_per.empty()) {
    auto value = parse(args.inodes_per);
    if (!value) return std::nullopt;
    if (*value == 0) {
      ReportMessage("mkfs", "invalid size '" + args.inodes_per + "': must be > 0", kExitUsage);
      return std::nullopt;
    }
    plan.format.bytes_per_inode = *value;
  }
  if (!args.journal_blocks.empty()) {
    auto value = parse(args.journal_blocks);
    if (!value) return std::nullopt;
    plan.format.journal_blocks = *value;
  }
  if (!args.lease_break_time.empty()) {
    auto value = ParseMilliseconds(args.lease_break_time);
    if (!value.ok()) {
      ReportMessage("mkfs", value.status().message(), kExitUsage);
      return std::nullopt;
    }
    plan.format.lease_break_time_ms = *value;
  }
  return plan;
}

// A known on-device signature: `magic` at byte `offset`.
struct Signature {
  const char* name;
  uint64_t offset;
  std::string_view magic;
};

// What blkid would find first, for the formats most likely on a disk or a
// pmem namespace. mdfs's own superblock magic is "MDFS" at block 0 or 1.
constexpr Signature kSignatures[] = {
    {"an mdfs file system", 0, "MDFS"},
    {"an mdfs file system (backup superblock)", 4096, "MDFS"},
    {"an ext2/ext3/ext4 file system", 1080, std::string_view("\x53\xef", 2)},
    {"an xfs file system", 0, "XFSB"},
    {"a btrfs file system", 65600, "_BHRfS_M"},
    {"a LUKS encrypted volume", 0, std::string_view("LUKS\xba\xbe", 6)},
    {"a swap area", 4086, "SWAPSPACE2"},
    {"a swap area", 4086, "SWAP-SPACE"},
    {"a GPT partition table", 512, "EFI PART"},
    {"an ISO 9660 file system", 32769, "CD001"},
    {"an NTFS file system", 3, "NTFS    "},
    {"a FAT32 file system", 82, "FAT32   "},
    {"a FAT12/16 file system", 54, "FAT1"},
    {"an f2fs file system", 1024, std::string_view("\x10\x20\xf5\xf2", 4)},
};

// The first known signature on `device`, or nullopt. A read error is returned.
Result<std::optional<std::string>> FindSignature(Device* device) {
  for (const Signature& signature : kSignatures) {
    if (signature.offset + signature.magic.size() > device->size_bytes()) continue;
    std::vector<std::byte> bytes(signature.magic.size());
    MDFS_RETURN_IF_ERROR(device->Read(signature.offset, bytes));
    if (std::memcmp(bytes.data(), signature.magic.data(), bytes.size()) == 0) {
      return std::optional<std::string>(std::string(signature.name) + ": signature at byte " +
                                        std::to_string(signature.offset));
    }
  }
  return std::optional<std::string>();
}

// Refuses, without --force, a device that holds a known signature or any
// non-zero byte in its first 8 KiB.
Status CheckOverwrite(const MkfsArgs& args, Device* device) {
  if (args.force) return Status::Ok();
  auto signature = FindSignature(device);
  if (!signature.ok()) return signature.status();
  if (*signature) {
    return Exists("already holds data; use --force to overwrite (it holds " + **signature + ")");
  }
  auto zero = DeviceStartIsZero(device);
  if (!zero.ok()) return zero.status();
  if (!*zero) return Exists("already holds data; use --force to overwrite");
  return Status::Ok();
}

// The mapping alignment of a device-dax character device (its sysfs
// "align"), 0 when unreadable.
uint64_t DeviceDaxAlignBytes(const struct stat& st) {
  std::ifstream in("/sys/dev/char/" + std::to_string(major(st.st_rdev)) + ":" +
                   std::to_string(minor(st.st_rdev)) + "/align");
  uint64_t align = 0;
  in >> align;
  return align;
}

// device-dax maps only whole units of its alignment (doc/hardware.md).
Status CheckDeviceDaxRoomOf(const struct stat& st, const FormatOptions& format, uint64_t bytes) {
  return CheckDeviceDaxRoom(bytes, DeviceDaxAlignBytes(st), format);
}

// Opens an existing IMAGE for formatting: refuses data without --force and
// resizes a regular file to --size.
Result<std::unique_ptr<Device>> OpenExisting(const MkfsArgs& args, const MkfsPlan& plan,
                                             const struct stat& st, Access access) {
  FileDeviceOptions options;
  auto device = OpenImageDevice(args.image, access, options);
  if (!device.ok()) return device.status();
  MDFS_RETURN_IF_ERROR(CheckOverwrite(args, device->get()));
  if (S_ISCHR(st.st_mode)) {
    MDFS_RETURN_IF_ERROR(CheckDeviceDaxRoomOf(st, plan.format, (*device)->size_bytes()));
  }
  if (!plan.size || *plan.size == (*device)->size_bytes()) return device;
  if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
    return InvalidArgument(std::string("cannot resize a ") +
                           (S_ISBLK(st.st_mode) ? "block device" : "device-dax device") +
                           "; it holds " + std::to_string((*device)->size_bytes()) + " bytes");
  }
  if (!args.force) {
    return Exists("already exists with " + std::to_string((*device)->size_bytes()) +
                  " bytes; use --force to resize it");
  }
  device->reset();  // close before resizing
  if (::truncate(args.image.c_str(), static_cast<off_t>(*plan.size)) != 0) {
    return IoError("resize " + args.image + ": " + std::strerror(errno));
  }
  return OpenImageDevice(args.image, access, options);
}

Result<std::unique_ptr<Device>> OpenForMkfs(const MkfsArgs& args, const MkfsPlan& plan, bool exists,
                                            const struct stat& st, const GlobalOptions& globals) {
  if (exists) return OpenExisting(args, plan, st, globals.access_mode());
  FileDeviceOptions options;
  options.create = true;
  options.create_size = *plan.size;
  return OpenImageDevice(args.image, globals.access_mode(), options);
}

void PrintGeometry(const std::string& image, Device* device) {
  KeyValueList list;
  format::Block block{};
  auto fs = FileSystem::Open(device);
  std::optional<FileSystemStats> stats;
  if (fs.ok()) {
    auto result = (*fs)->StatFs();
    if (result.ok()) stats = *result;
  }
  uint64_t bytes = device->size_bytes();
  list.Add("Size", HumanBytes(bytes) + " (" + std::to_string(bytes) + " bytes)");
  if (format::ReadBlock(device, format::kSuperblockPrimary, block).ok()) {
    auto sb = format::DecodeSuperblock(block, format::kSuperblockPrimary);
    if (sb.ok()) {
      list.Add("Blocks", std::to_string(sb->total_blocks) + " of " +
                             std::to_string(sb->block_size) + " bytes");
      list.Add("Inodes", std::to_string(sb->inode_count));
      list.Add("Journal", std::to_string(sb->journal_blocks) + " blocks (" +
                              HumanBytes(sb->journal_blocks * sb->block_size) + ")");
      list.Add("Data start", "block " + std::to_string(sb->data_start));
      list.Add("UUID", UuidString(sb->uuid));
      list.Add("Lease break time", LeaseBreakTimeString(sb->lease_break_time_ms));
    }
  }
  if (stats) {
    list.Add("Free", std::to_string(stats->free_blocks) + " blocks (" +
                         HumanBytes(stats->free_blocks * stats->block_size) + ")");
  }
  list.Add("Persistence", PersistenceModeName(device->persistence_mode()));
  std::cout << "mdfs mkfs: formatted " << ShellEscapeIfUnprintable(image) << "\n";
  list.Print(std::cout);
}

int RunMkfs(const MkfsArgs& args, const GlobalOptions& globals) {
  std::optional<MkfsPlan> plan = ParseMkfsArgs(args);
  if (!plan) return kExitUsage;
  struct stat st {};
  bool exists = ::stat(args.image.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) {
    return ReportError("mkfs", args.image, IoError(std::string("stat: ") + std::strerror(errno)));
  }
  if (!exists && !plan->size) {
    return ReportMessage("mkfs", args.image + " does not exist; give --size to create it",
                         kExitUsage);
  }
  if (plan->size) {
    // Refuse an impossible geometry before creating or resizing anything.
    auto geometry = format::ComputeGeometry(*plan->size, plan->format.bytes_per_inode,
                                            plan->format.journal_blocks);
    if (!geometry.ok()) return ReportError("mkfs", args.image, geometry.status());
  }
  Result<std::unique_ptr<Device>> device = OpenForMkfs(args, *plan, exists, st, globals);
  if (!device.ok()) return ReportError("mkfs", args.image, device.status());
  Status status = FileSystem::Format(device->get(), plan->format);
  if (!status.ok()) {
    device->reset();
    if (!exists) ::unlink(args.image.c_str());  // leave nothing behind
    return ReportError("mkfs", args.image, status);
  }
  PrintGeometry(args.image, device->get());
  return kExitOk;
}

}  // namespace

void AddMkfsCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<MkfsArgs>();
  CLI::App* sub = AddCommandWithHelp(app, MkfsHelp());
  sub->add_option("IMAGE", args->image, "the image file (created if absent) or block device")
      ->required();
  sub->add_option("--size", args->size,
                  "size of the file system: bytes or K, M, G, T (KiB..TiB); required when "
                  "IMAGE does not exist")
      ->option_text("SIZE");
  sub->add_flag("-f,--force", args->force,
                "overwrite an IMAGE that already holds data (and resize it to --size)");
  sub->add_option("--inodes-per", args->inodes_per,
                  "one inode per this many bytes of device (default 16K)")
      ->option_text("BYTES");
  sub->add_option("--journal-blocks", args->journal_blocks,
                  "journal size in 4 KiB blocks (default: chosen from the device size)")
      ->option_text("N");
  sub->add_option("--lease-break-time", args->lease_break_time,
                  "how long a layout recall may take before the holders are revoked: "
                  "milliseconds, or with an ms or s suffix; 0 = never revoke "
                  "(default 45000)")
      ->option_text("MS");
  out.push_back({sub, [args, &globals] { return RunMkfs(*args, globals); }});
}

}  // namespace mdfs::cli
