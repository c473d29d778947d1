// The C API: MAP_DIRECT mappings (map_direct, mapping info, persist, unmap)
// and their recall callbacks.
#include <string>

#include "capi/capi_internal.h"

namespace mdfs::capi_internal {
namespace {

static_assert(MDFS_MAP_ALLOCATE == kMapDirectAllocate);

// The mapping whose on_recall runs on this thread (mdfs_unmap of it from
// inside its callback would destroy the mapping under the callback).
thread_local const mdfs_mapping* recall_running_here = nullptr;

class RecallScope {
 public:
  explicit RecallScope(const mdfs_mapping* mapping) : previous_(recall_running_here) {
    recall_running_here = mapping;
  }
  ~RecallScope() { recall_running_here = previous_; }
  RecallScope(const RecallScope&) = delete;
  RecallScope& operator=(const RecallScope&) = delete;

 private:
  const mdfs_mapping* const previous_;
};

std::string Describe(const mdfs_mapping* mapping, const DirectMapping* live) {
  if (live == nullptr) return "mapping " + std::to_string(reinterpret_cast<uintptr_t>(mapping));
  return "inode " + std::to_string(live->ino()) + " [" + std::to_string(live->file_offset()) +
         ", +" + std::to_string(live->size()) + ")";
}

// The mapping behind a handle, or nullptr (EAGAIN reported) in the window
// before mdfs_map_direct returned it — only a recall callback can see that.
DirectMapping* Live(const mdfs_mapping* mapping, mdfs_error* error, const char* function) {
  DirectMapping* live = mapping->mapping.load(std::memory_order_acquire);
  if (live == nullptr) {
    FailWith(error, EAGAIN, Code::kWouldBlock, function, Describe(mapping, nullptr),
             "mdfs_map_direct has not returned the mapping yet");
  }
  return live;
}

}  // namespace
}  // namespace mdfs::capi_internal

using namespace mdfs;
using namespace mdfs::capi_internal;

extern "C" {

int mdfs_map_direct(mdfs_file* file, uint64_t offset, uint64_t length, int prot, uint32_t flags,
                    mdfs_recall_fn on_recall, void* user_data, mdfs_mapping** mapping,
                    mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_map_direct";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckFile(file, error, kFunction)) return rc;
    if (int rc = CheckPointer(mapping, "mapping (the result)", error, kFunction)) return rc;
    // prot, flags, offset and length are checked by MapDirect (EOPNOTSUPP
    // for unknown prot or flag bits, EINVAL for the range).
    auto handle = std::make_unique<mdfs_mapping>();
    handle->volume = file->volume;
    handle->on_recall = on_recall;
    handle->user_data = user_data;
    MapDirectOptions options;
    if (on_recall != nullptr) {
      mdfs_mapping* raw = handle.get();
      options.on_recall = [raw] {
        RecallScope scope(raw);
        raw->on_recall(raw, raw->user_data);
      };
    }
    Result<std::unique_ptr<DirectMapping>> made =
        file->file->MapDirect(offset, length, prot, flags, std::move(options));
    if (!made.ok()) {
      return Fail(error, kFunction,
                  file->path + " [" + std::to_string(offset) + ", +" + std::to_string(length) + ")",
                  made.status());
    }
    handle->owned = std::move(*made);
    handle->mapping.store(handle->owned.get(), std::memory_order_release);
    ++handle->volume->children;
    *mapping = handle.release();
    return Succeed(error);
  });
}

int mdfs_mapping_info_get(const mdfs_mapping* mapping, mdfs_mapping_info* info, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_mapping_info_get";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckMapping(mapping, error, kFunction)) return rc;
    if (int rc = CheckPointer(info, "info", error, kFunction)) return rc;
    DirectMapping* live = Live(mapping, error, kFunction);
    if (live == nullptr) return -EAGAIN;
    *info = mdfs_mapping_info{};
    info->data = live->data();
    info->size = live->size();
    info->file_offset = live->file_offset();
    info->ino = live->ino();
    info->persistence_mode = static_cast<int>(live->persistence_mode());
    info->state = (live->torn_down() ? MDFS_MAPPING_TORN_DOWN : 0u) |
                  (live->revoked() ? MDFS_MAPPING_REVOKED : 0u);
    return Succeed(error);
  });
}

int mdfs_persist(mdfs_mapping* mapping, const void* address, size_t length, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_persist";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckMapping(mapping, error, kFunction)) return rc;
    if (int rc = CheckPointer(address, "address", error, kFunction)) return rc;
    DirectMapping* live = Live(mapping, error, kFunction);
    if (live == nullptr) return -EAGAIN;
    // The range must lie inside the mapping (EINVAL), which must not be
    // torn down (EIO, MDFS_CODE_LEASE_REVOKED).
    Status status = live->Persist(address, length);
    if (!status.ok()) return Fail(error, kFunction, Describe(mapping, live), status);
    return Succeed(error);
  });
}

int mdfs_unmap(mdfs_mapping* mapping, mdfs_error* error) {
  static constexpr const char* kFunction = "mdfs_unmap";
  return Guard(error, kFunction, [&]() -> int {
    if (int rc = CheckMapping(mapping, error, kFunction)) return rc;
    if (recall_running_here == mapping) {
      return FailWith(error, EDEADLK, Code::kWouldBlock, kFunction,
                      Describe(mapping, mapping->mapping.load()),
                      "called from the mapping's own on_recall callback: unmap it after the "
                      "callback returned");
    }
    mapping->magic = 0;
    mdfs_volume* volume = mapping->volume;
    // Unmaps, releases the layout and waits for a callback of this mapping
    // running on another thread: none touches the handle after this.
    mapping->owned.reset();
    delete mapping;
    --volume->children;  // after the mapping is gone (invariant 2)
    return Succeed(error);
  });
}

}  // extern "C"
