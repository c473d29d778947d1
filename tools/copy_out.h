// Copying a regular file of the image out to a host descriptor: what
// `mdfs get` (one file) and `mdfs get -r` (a tree) share.
#ifndef MDFS_TOOLS_COPY_OUT_H_
#define MDFS_TOOLS_COPY_OUT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "host_io.h"
#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs::cli {

// Each Read or Write of the image moves at most this much (a put's Write of
// one chunk is one journal transaction).
inline constexpr size_t kCopyChunkBytes = size_t{8} << 20;

// Called with the file offset the copy has reached, after each chunk.
using CopyProgress = std::function<void(uint64_t offset)>;

// The ranges of [0, size) that hold written data (GetExtents; holes and
// unwritten extents read as zeros), merged where they touch.
Result<std::vector<ByteRange>> WrittenRanges(FileSystem& fs, const Attributes& attributes);

// Writes `ranges` (from WrittenRanges) of the file at the same offsets of
// the regular host file `fd`, then sets its size to `attributes.size`
// (ftruncate): holes and unwritten extents stay holes, so the host file is
// sparse where its file system allows. `host_path` names `fd` in errors.
// REQUIRES: `fd` is empty or is truncated by the size set at the end;
// `buffer` is not empty unless the file is.
Status CopyRangesToHostFile(FileSystem& fs, const Attributes& attributes,
                            const std::vector<ByteRange>& ranges, int fd,
                            const std::string& host_path, std::span<std::byte> buffer,
                            const CopyProgress& progress);

// Writes every byte of the file, zeros included, to the stream `fd`
// (standard output, a pipe, a device).
Status CopyFileToStream(FileSystem& fs, const Attributes& attributes, int fd,
                        const std::string& host_path, std::span<std::byte> buffer,
                        const CopyProgress& progress);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_COPY_OUT_H_
