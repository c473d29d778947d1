#include "mdfs/device.h"

namespace mdfs {

const char* PersistenceModeName(PersistenceMode mode) {
  switch (mode) {
    case PersistenceMode::kCpuCache:
      return "cpu-cache";
    case PersistenceMode::kMsync:
      return "msync";
    case PersistenceMode::kFdatasync:
      return "fdatasync";
    case PersistenceMode::kVolatile:
      return "volatile";
  }
  return "unknown";
}

}  // namespace mdfs
