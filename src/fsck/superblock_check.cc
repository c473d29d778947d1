// Pass 1: the superblock and its backup.
#include <string>
#include <vector>

#include "fsck/checker.h"

namespace mdfs::fsck {

namespace {

Result<format::Superblock> ReadSuperblock(Device* device, uint64_t block_number) {
  format::Block block;
  MDFS_RETURN_IF_ERROR(format::ReadBlock(device, block_number, block)
                           .WithContext("block " + std::to_string(block_number)));
  return format::DecodeSuperblock(block, block_number);
}

// The names of the fields in which `a` and `b` differ.
std::vector<std::string> DifferentFields(const format::Superblock& a, const format::Superblock& b) {
  std::vector<std::string> fields;
  auto compare = [&fields](bool same, const char* name) {
    if (!same) fields.push_back(name);
  };
  compare(a.uuid == b.uuid, "uuid");
  compare(a.block_size == b.block_size, "block_size");
  compare(a.inode_size == b.inode_size, "inode_size");
  compare(a.total_blocks == b.total_blocks, "total_blocks");
  compare(a.journal_start == b.journal_start, "journal_start");
  compare(a.journal_blocks == b.journal_blocks, "journal_blocks");
  compare(a.inode_table_start == b.inode_table_start, "inode_table_start");
  compare(a.inode_table_blocks == b.inode_table_blocks, "inode_table_blocks");
  compare(a.inode_count == b.inode_count, "inode_count");
  compare(a.bitmap_start == b.bitmap_start, "bitmap_start");
  compare(a.bitmap_blocks == b.bitmap_blocks, "bitmap_blocks");
  compare(a.data_start == b.data_start, "data_start");
  compare(a.features_compat == b.features_compat, "features_compat");
  compare(a.features_ro_compat == b.features_ro_compat, "features_ro_compat");
  compare(a.features_incompat == b.features_incompat, "features_incompat");
  compare(a.root_inode == b.root_inode, "root_inode");
  compare(a.created_ns == b.created_ns, "created_ns");
  compare(a.label == b.label, "label");
  return fields;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const std::string& part : parts) joined += (joined.empty() ? "" : ", ") + part;
  return joined;
}

// Neither copy decodes: the most telling code wins — a newer format
// (kNotSupported) over an unreadable device (kIoError) over kCorruption.
Status BothBad(const Status& primary, const Status& backup) {
  const std::string detail = "primary superblock (block 0): " + primary.message() +
                             "; backup superblock (block 1): " + backup.message();
  for (Code code : {Code::kNotSupported, Code::kIoError}) {
    if (primary.code() == code || backup.code() == code) {
      return Status(code, "cannot check: " + detail);
    }
  }
  return Corruption("not an mdfs file system, or both superblocks are corrupt: " + detail);
}

void CheckAgainstDevice(Context& ctx) {
  const uint64_t device_blocks = ctx.device->size_bytes() / kBlockSize;
  if (ctx.sb.total_blocks > device_blocks) {
    ctx.Problem("device-too-small", "superblock",
                "the superblock says " + std::to_string(ctx.sb.total_blocks) +
                    " blocks but the device holds " + std::to_string(device_blocks));
  }
  if ((ctx.sb.features_ro_compat & ~format::kKnownRoCompatFeatures) != 0) {
    ctx.Problem("unknown-features", "superblock",
                "read-only-compatible features " + std::to_string(ctx.sb.features_ro_compat) +
                    " are unknown to this fsck; its checks may be incomplete");
  }
}

}  // namespace

Status CheckSuperblocks(Context& ctx) {
  Result<format::Superblock> primary = ReadSuperblock(ctx.device, format::kSuperblockPrimary);
  Result<format::Superblock> backup = ReadSuperblock(ctx.device, format::kSuperblockBackup);
  if (!primary.ok() && !backup.ok()) return BothBad(primary.status(), backup.status());
  if (!primary.ok()) {
    ctx.Problem("superblock-primary-bad", "block 0",
                primary.status().message() + "; checking with the backup superblock (block 1)");
    ctx.sb = *backup;
  } else {
    ctx.sb = *primary;
    if (!backup.ok()) {
      ctx.Problem("superblock-backup-bad", "block 1", backup.status().message());
    } else if (std::vector<std::string> fields = DifferentFields(*primary, *backup);
               !fields.empty()) {
      ctx.Problem("superblock-mismatch", "blocks 0 and 1",
                  "the primary and backup superblocks differ in " + Join(fields));
    }
  }
  ctx.report.total_blocks = ctx.sb.total_blocks;
  CheckAgainstDevice(ctx);
  return Status::Ok();
}

}  // namespace mdfs::fsck
