#include "copy_out.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mdfs::cli {
namespace {

using WriteAt = std::function<Status(uint64_t offset, std::span<const std::byte> bytes)>;

// Copies bytes [range) of `ino` through `write(offset, bytes)`.
Status CopyRangeOut(FileSystem& fs, InodeNumber ino, ByteRange range, std::span<std::byte> buffer,
                    const WriteAt& write, const CopyProgress& progress) {
  for (uint64_t offset = range.offset; offset < range.end();) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), range.end() - offset));
    MDFS_ASSIGN_OR_RETURN(size_t n, fs.Read(ino, offset, buffer.first(want)));
    if (n == 0) break;  // the file shrank meanwhile
    MDFS_RETURN_IF_ERROR(write(offset, std::span<const std::byte>(buffer.data(), n)));
    offset += n;
    if (progress) progress(offset);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ByteRange>> WrittenRanges(FileSystem& fs, const Attributes& attributes) {
  MDFS_ASSIGN_OR_RETURN(std::vector<ExtentInfo> extents, fs.GetExtents(attributes.ino));
  std::vector<ByteRange> ranges;
  for (const ExtentInfo& e : extents) {
    if ((e.flags & kExtentUnwritten) || e.file_offset >= attributes.size) continue;
    uint64_t end = std::min(attributes.size, e.file_offset + e.length);
    if (!ranges.empty() && ranges.back().end() == e.file_offset) {
      ranges.back().length = end - ranges.back().offset;
    } else {
      ranges.push_back({e.file_offset, end - e.file_offset});
    }
  }
  return ranges;
}

Status CopyRangesToHostFile(FileSystem& fs, const Attributes& attributes,
                            const std::vector<ByteRange>& ranges, int fd,
                            const std::string& host_path, std::span<std::byte> buffer,
                            const CopyProgress& progress) {
  WriteAt write = [&](uint64_t offset, std::span<const std::byte> bytes) {
    return WriteAllAt(fd, offset, bytes).WithContext(host_path);
  };
  for (const ByteRange& range : ranges) {
    MDFS_RETURN_IF_ERROR(CopyRangeOut(fs, attributes.ino, range, buffer, write, progress));
  }
  if (::ftruncate(fd, static_cast<off_t>(attributes.size)) != 0) {
    return HostErrnoStatus("truncate", errno).WithContext(host_path);
  }
  return Status::Ok();
}

Status CopyFileToStream(FileSystem& fs, const Attributes& attributes, int fd,
                        const std::string& host_path, std::span<std::byte> buffer,
                        const CopyProgress& progress) {
  WriteAt write = [&](uint64_t, std::span<const std::byte> bytes) {
    return WriteAll(fd, bytes).WithContext(host_path);
  };
  return CopyRangeOut(fs, attributes.ino, {0, attributes.size}, buffer, write, progress);
}

}  // namespace mdfs::cli
