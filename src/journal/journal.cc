#include "journal/journal.h"

#include <cstring>

#include "util/crc32c.h"

namespace mdfs {

using format::Block;

Journal::Journal(Device* device, uint64_t start_block, uint64_t block_count)
    : device_(device), start_block_(start_block), block_count_(block_count) {}

uint64_t Journal::max_images() const {
  // n images need ceil(n / 507) descriptors and one commit block.
  uint64_t usable = block_count_ - 1;
  uint64_t per_group = format::kTargetsPerDescriptor + 1;
  uint64_t full_groups = usable / per_group;
  uint64_t rest = usable % per_group;
  return full_groups * format::kTargetsPerDescriptor + (rest > 1 ? rest - 1 : 0);
}

Result<Block> Journal::ReadRegionBlock(uint64_t index) const {
  Block block;
  MDFS_RETURN_IF_ERROR(format::ReadBlock(device_, start_block_ + index, block));
  return block;
}

Result<JournalTransaction> Journal::Read() const {
  JournalTransaction tx;
  uint64_t index = 0;
  uint32_t crc = 0;
  bool first = true;
  while (true) {
    if (index >= block_count_) {
      tx.state = JournalTransaction::State::kTorn;
      tx.images.clear();
      return tx;
    }
    MDFS_ASSIGN_OR_RETURN(Block block, ReadRegionBlock(index));
    Result<format::JournalDescriptor> descriptor =
        format::DecodeJournalDescriptor(block, start_block_ + index);
    if (!descriptor.ok() || (!first && descriptor->sequence != tx.sequence)) {
      // A region that never held a transaction (zeros, or a stale
      // non-descriptor block) is empty; a damaged descriptor, or a chain
      // that breaks off, is the torn start of a never-acknowledged one.
      bool looks_like_descriptor =
          format::DecodeHeader(block).kind == format::BlockKind::kJournalDescriptor;
      tx.state = first && !looks_like_descriptor ? JournalTransaction::State::kEmpty
                                                 : JournalTransaction::State::kTorn;
      tx.images.clear();
      return tx;
    }
    if (first) tx.sequence = descriptor->sequence;
    first = false;
    crc = Crc32cExtend(crc, block);
    ++index;
    for (uint64_t target : descriptor->targets) {
      if (index >= block_count_) break;
      MDFS_ASSIGN_OR_RETURN(Block image, ReadRegionBlock(index));
      crc = Crc32cExtend(crc, image);
      tx.images.push_back(BlockImage{target, image});
      ++index;
    }
    if (!descriptor->more) break;
  }
  tx.state = JournalTransaction::State::kTorn;
  if (index < block_count_) {
    MDFS_ASSIGN_OR_RETURN(Block block, ReadRegionBlock(index));
    Result<format::JournalCommit> commit = format::DecodeJournalCommit(block, start_block_ + index);
    if (commit.ok() && commit->sequence == tx.sequence && commit->data_crc32c == crc &&
        commit->total_blocks == index && commit->image_count == tx.images.size()) {
      tx.state = JournalTransaction::State::kValid;
    }
  }
  if (tx.state != JournalTransaction::State::kValid) {
    tx.images.clear();
    return tx;
  }
  MDFS_RETURN_IF_ERROR(CheckTargets(tx));
  return tx;
}

// A committed transaction whose images would land outside the device, on a
// superblock or inside the journal itself was not written by mdfs: replaying
// it could destroy the journal or fail forever. Refuse it by name.
Status Journal::CheckTargets(const JournalTransaction& tx) const {
  uint64_t device_blocks = device_->size_bytes() / kBlockSize;
  for (const BlockImage& image : tx.images) {
    uint64_t b = image.block_number;
    bool in_journal = b >= start_block_ && b < start_block_ + block_count_;
    if (b >= device_blocks || b <= format::kSuperblockBackup || in_journal) {
      return Corruption("journal transaction " + std::to_string(tx.sequence) +
                        " names block " + std::to_string(b) +
                        " as a target (outside the device, a superblock, or the journal); "
                        "run mdfs fsck");
    }
  }
  return Status::Ok();
}

Status Journal::Replay(const JournalTransaction& transaction) {
  if (transaction.state != JournalTransaction::State::kValid) return Status::Ok();
  for (const BlockImage& image : transaction.images) {
    MDFS_RETURN_IF_ERROR(format::WriteBlock(device_, image.block_number, image.data)
                             .WithContext("journal replay"));
  }
  return device_->Flush().WithContext("journal replay flush");
}

Status Journal::Commit(uint64_t sequence, const std::vector<BlockImage>& images) {
  if (images.empty() || images.size() > max_images()) {
    return NoSpace("transaction of " + std::to_string(images.size()) +
                   " metadata blocks exceeds the journal (at most " +
                   std::to_string(max_images()) + ")");
  }
  // Lay out the region: [descriptor, images...]..., commit.
  std::vector<Block> region;
  uint32_t crc = 0;
  for (size_t first = 0; first < images.size(); first += format::kTargetsPerDescriptor) {
    size_t last = std::min(images.size(), first + format::kTargetsPerDescriptor);
    format::JournalDescriptor descriptor;
    descriptor.sequence = sequence;
    descriptor.more = last < images.size();
    for (size_t i = first; i < last; ++i) descriptor.targets.push_back(images[i].block_number);
    region.emplace_back();
    format::EncodeJournalDescriptor(descriptor, start_block_ + region.size() - 1, region.back());
    crc = Crc32cExtend(crc, region.back());
    for (size_t i = first; i < last; ++i) {
      region.push_back(images[i].data);
      crc = Crc32cExtend(crc, region.back());
    }
  }
  format::JournalCommit commit;
  commit.sequence = sequence;
  commit.total_blocks = static_cast<uint32_t>(region.size());
  commit.data_crc32c = crc;
  commit.image_count = images.size();
  region.emplace_back();
  format::EncodeJournalCommit(commit, start_block_ + region.size() - 1, region.back());

  MDFS_RETURN_IF_ERROR(device_->Flush().WithContext("journal: ordering flush"));
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(region.data()),
                                   region.size() * kBlockSize);
  MDFS_RETURN_IF_ERROR(
      device_->Write(start_block_ * kBlockSize, bytes).WithContext("journal: write"));
  MDFS_RETURN_IF_ERROR(device_->Flush().WithContext("journal: commit flush"));
  for (const BlockImage& image : images) {
    MDFS_RETURN_IF_ERROR(
        format::WriteBlock(device_, image.block_number, image.data).WithContext("checkpoint"));
  }
  return Status::Ok();
}

}  // namespace mdfs
