// MapDirect on an engine and its lease manager, by inode number: what
// File::MapDirect (include/mdfs/session.h) runs, and what the layer's own
// tests and benchmarks call directly. Internal wiring: the pair must be an
// engine and the manager attached to it.
#ifndef MDFS_SRC_DIRECT_MAP_DIRECT_ENGINE_H_
#define MDFS_SRC_DIRECT_MAP_DIRECT_ENGINE_H_

#include <memory>

#include "lease/leases.h"
#include "mdfs/map_direct.h"

namespace mdfs {

// `prot`: PROT_READ or PROT_READ|PROT_WRITE. `offset` must be a multiple of
// 4096; `length` > 0 is rounded up to 4096. The device must support MapAt
// (kNotSupported otherwise, naming the device).
Result<std::unique_ptr<DirectMapping>> MapDirect(FileSystem* fs, LeaseManager* leases,
                                                 InodeNumber ino, uint64_t offset, uint64_t length,
                                                 int prot, uint32_t flags,
                                                 MapDirectOptions options = {});

}  // namespace mdfs

#endif  // MDFS_SRC_DIRECT_MAP_DIRECT_ENGINE_H_
