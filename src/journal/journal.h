// The metadata journal: physical block images, one transaction at a time.
//
// Invariants (see doc/format.md, "journal", and doc/durability.md):
//  J1. The journal region holds at most one transaction, starting at
//      journal_start: descriptor(s), the images they list, a commit block.
//  J2. A transaction is valid only if every descriptor and the commit decode,
//      their sequences are equal, and the commit's CRC32C covers exactly the
//      descriptor and image blocks as they are on the device.
//  J3. Before a transaction is written into the region, the home writes of
//      the previous one are durable (Commit flushes first), so overwriting —
//      or tearing — the region can never lose an acknowledged transaction.
//  J4. Replaying the valid transaction is idempotent: no block named in it
//      changes after its commit except through a later transaction, which
//      would have replaced it in the region (J3). Blocks freed by a
//      transaction are never among its images.
//
// States and transitions:
//   [idle] --Commit: Flush, write region, Flush--> [committed]
//   [committed] --(home writes, in Commit)--> [checkpoint pending]
//   [checkpoint pending] --next Commit's first Flush--> [idle]
//   any --crash--> Recover(): valid transaction → write images home, Flush
//
// Thread-safety: not thread-safe; the engine serializes commits.
#ifndef MDFS_SRC_JOURNAL_JOURNAL_H_
#define MDFS_SRC_JOURNAL_JOURNAL_H_

#include <cstdint>
#include <map>
#include <vector>

#include "format/format.h"
#include "mdfs/device.h"
#include "mdfs/status.h"

namespace mdfs {

struct BlockImage {
  uint64_t block_number = 0;
  format::Block data{};
};

// What the journal region held when it was read.
struct JournalTransaction {
  enum class State { kEmpty, kValid, kTorn };
  State state = State::kEmpty;
  uint64_t sequence = 0;
  std::vector<BlockImage> images;  // kValid only, in journal order
};

class Journal {
 public:
  Journal(Device* device, uint64_t start_block, uint64_t block_count);

  // Reads the region. Bad bytes make the transaction kTorn or kEmpty; fails
  // on device read errors, and with kCorruption when a transaction that
  // passes its checksum names an impossible target block.
  Result<JournalTransaction> Read() const;
  // Writes the images of a valid transaction to their home blocks and flushes.
  Status Replay(const JournalTransaction& transaction);

  // The largest number of images one transaction can carry.
  uint64_t max_images() const;
  // Makes `images` durable atomically: Flush (orders earlier data writes and
  // the previous checkpoint), write descriptors+images+commit in one device
  // write, Flush (the commit point), then write each image home. The home
  // writes are made durable by the next Commit's first Flush, or by Flush().
  // REQUIRES: 1 <= images.size() <= max_images(); each image sealed.
  Status Commit(uint64_t sequence, const std::vector<BlockImage>& images);

 private:
  Result<format::Block> ReadRegionBlock(uint64_t index) const;
  Status CheckTargets(const JournalTransaction& tx) const;

  Device* device_;
  uint64_t start_block_;
  uint64_t block_count_;
};

}  // namespace mdfs

#endif  // MDFS_SRC_JOURNAL_JOURNAL_H_
