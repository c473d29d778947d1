// An inode in memory: the decoded record plus its extent map, the blocks
// that hold the map on the device, and (directories) the entries.
#ifndef MDFS_SRC_ENGINE_INODE_H_
#define MDFS_SRC_ENGINE_INODE_H_

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/directory.h"
#include "engine/extent_map.h"
#include "format/format.h"

namespace mdfs {

struct Inode {
  uint64_t ino = 0;
  format::InodeRecord record;  // extent fields are derived at encode time
  ExtentMap map;
  std::vector<uint64_t> extent_blocks;  // the on-device chain holding `map`, when > 6 extents
  // Directories only. Shared by an inode and its saved copy in a transaction;
  // aborted edits are undone through the transaction's directory edit log.
  std::shared_ptr<Directory> directory;
  // Set at load when the inode cannot be trusted (its inode-table block,
  // extent chain or directory block is damaged, or a value is out of range):
  // the error every access gets ("block N (inode table, inodes A-B): ...").
  // Only a read-only open keeps such inodes (load.cc).
  std::string damage;

  bool in_use() const { return record.mode != 0; }
  // Free for allocation: not in use and not damaged.
  bool free_slot() const { return record.mode == 0 && damage.empty(); }
  bool is_directory() const { return S_ISDIR(record.mode); }
  bool is_regular() const { return S_ISREG(record.mode); }
  bool is_symlink() const { return S_ISLNK(record.mode); }
  uint8_t type_code() const { return static_cast<uint8_t>((record.mode & S_IFMT) >> 12); }
};

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_INODE_H_
