// CheckNode: one inode against one model node, file bytes and extents.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "model/checker_internal.h"
#include "model/fs_driver.h"

namespace mdfs::test::internal {
namespace {

using testing::AssertionFailure;
using testing::AssertionResult;
using testing::AssertionSuccess;

constexpr uint64_t kBlock = kBlockSize;

std::string Hex(std::span<const std::byte> bytes, uint64_t offset, uint64_t count) {
  std::string out;
  char buffer[4];
  for (uint64_t i = offset; i < std::min<uint64_t>(bytes.size(), offset + count); ++i) {
    std::snprintf(buffer, sizeof(buffer), "%02x", static_cast<unsigned>(bytes[i]));
    out += buffer;
  }
  return out;
}

bool ByteAccepted(std::byte actual, std::byte expected, uint64_t offset,
                  const ByteTolerance* tolerance) {
  if (actual == expected) return true;
  if (tolerance == nullptr) return false;
  if (offset < tolerance->offset || offset - tolerance->offset >= tolerance->length) return false;
  return actual == tolerance->before.ByteAt(offset) || actual == tolerance->after.ByteAt(offset);
}

AssertionResult CompareBytes(const std::vector<std::byte>& actual,
                             const std::vector<std::byte>& expected,
                             const ByteTolerance* tolerance) {
  if (actual.size() == expected.size() &&
      (actual.empty() || std::memcmp(actual.data(), expected.data(), actual.size()) == 0)) {
    return AssertionSuccess();
  }
  uint64_t first = UINT64_MAX, count = 0;
  for (uint64_t i = 0; i < actual.size(); ++i) {
    if (ByteAccepted(actual[i], expected[i], i, tolerance)) continue;
    if (first == UINT64_MAX) first = i;
    ++count;
  }
  if (count == 0) return AssertionSuccess();
  const uint64_t from = first - std::min<uint64_t>(first, 8);
  return AssertionFailure() << count << " bytes differ, first at offset " << first << " (block "
                            << first / kBlock << "); from offset " << from << " mdfs "
                            << Hex(actual, from, 24) << " model " << Hex(expected, from, 24);
}

bool IsZero(const std::byte* begin, uint64_t length) {
  static const std::array<std::byte, kBlock> kZeros{};
  return std::memcmp(begin, kZeros.data(), length) == 0;
}

AssertionResult CheckExtentShape(const std::vector<ExtentInfo>& extents, uint64_t device_bytes) {
  uint64_t previous_end = 0;
  for (size_t i = 0; i < extents.size(); ++i) {
    const ExtentInfo& e = extents[i];
    std::ostringstream where;
    where << "extent " << i << " {file " << e.file_offset << " device " << e.device_offset
          << " length " << e.length << " flags " << e.flags << "}";
    if (e.length == 0 || e.file_offset % kBlock || e.length % kBlock || e.device_offset % kBlock) {
      return AssertionFailure() << where.str() << " is empty or not block aligned";
    }
    if (e.file_offset < previous_end) {
      return AssertionFailure() << where.str() << " overlaps or precedes the one before";
    }
    if (e.device_offset + e.length > device_bytes || e.device_offset < 2 * kBlock) {
      return AssertionFailure() << where.str() << " is outside the data area of the device";
    }
    if ((e.flags & kExtentLast) && i + 1 != extents.size()) {
      return AssertionFailure() << where.str() << " is flagged last but is not";
    }
    previous_end = e.file_offset + e.length;
  }
  return AssertionSuccess();
}

// Every block holding a non-zero byte must be mapped by a written extent.
AssertionResult CheckNonZeroMapped(const std::vector<ExtentInfo>& extents,
                                   const std::vector<std::byte>& bytes) {
  size_t next = 0;
  for (uint64_t block = 0; block * kBlock < bytes.size(); ++block) {
    const uint64_t length = std::min<uint64_t>(bytes.size() - block * kBlock, kBlock);
    if (IsZero(bytes.data() + block * kBlock, length)) continue;
    while (next < extents.size() &&
           extents[next].file_offset + extents[next].length <= block * kBlock) {
      ++next;
    }
    if (next == extents.size() || extents[next].file_offset > block * kBlock) {
      return AssertionFailure() << "block " << block << " reads non-zero but is a hole";
    }
    if (extents[next].flags & kExtentUnwritten) {
      return AssertionFailure() << "block " << block << " reads non-zero but is unwritten";
    }
  }
  return AssertionSuccess();
}

AssertionResult CheckExtents(FileSystem& fs, const Attributes& attributes,
                             const std::vector<std::byte>* bytes,
                             std::vector<ExtentOwner>* owners) {
  auto extents = fs.GetExtents(attributes.ino);
  if (!extents.ok()) return AssertionFailure() << "GetExtents: " << extents.status().ToString();
  AssertionResult shape = CheckExtentShape(*extents, fs.device()->size_bytes());
  if (!shape) return shape;
  uint64_t mapped = 0;
  for (const ExtentInfo& e : *extents) {
    mapped += e.length;
    if (owners) owners->push_back({e.device_offset, e.device_offset + e.length, attributes.ino});
  }
  if (mapped != attributes.allocated_blocks * kBlock) {
    return AssertionFailure() << "extents map " << mapped / kBlock << " blocks, allocated_blocks "
                              << attributes.allocated_blocks;
  }
  return bytes ? CheckNonZeroMapped(*extents, *bytes) : AssertionSuccess();
}

AssertionResult CheckAttributes(const Attributes& a, const ModelNode& node,
                                const CheckOptions& options) {
  const uint64_t size = node.type == S_IFREG ? node.data.size() : node.target.size();
  if ((a.mode & S_IFMT) != node.type) {
    return AssertionFailure() << "type 0" << std::oct << (a.mode & S_IFMT) << ", model 0"
                              << node.type;
  }
  if ((a.mode & 07777) != node.permissions) {
    return AssertionFailure() << "permissions 0" << std::oct << (a.mode & 07777) << ", model 0"
                              << node.permissions;
  }
  if (a.uid != node.uid || a.gid != node.gid) {
    return AssertionFailure() << "owner " << a.uid << ":" << a.gid << ", model " << node.uid << ":"
                              << node.gid;
  }
  if (a.nlink != node.nlink)
    return AssertionFailure() << "nlink " << a.nlink << ", model " << node.nlink;
  if (node.type != S_IFDIR && a.size != size) {
    return AssertionFailure() << "size " << a.size << ", model " << size;
  }
  if (options.times && node.mtime_ns && a.mtime.ns != *node.mtime_ns) {
    return AssertionFailure() << "mtime " << a.mtime.ns << ", model " << *node.mtime_ns;
  }
  if (options.times && node.atime_ns && a.atime.ns != *node.atime_ns) {
    return AssertionFailure() << "atime " << a.atime.ns << ", model " << *node.atime_ns;
  }
  return AssertionSuccess();
}

}  // namespace

AssertionResult CheckNode(FileSystem& fs, const ModelFs& model, NodeId id, const std::string& path,
                          const Attributes& attributes, const CheckOptions& options,
                          std::vector<ExtentOwner>* owners) {
  const ModelNode& node = model.node(id);
  AssertionResult result = CheckAttributes(attributes, node, options);
  if (!result)
    return AssertionFailure() << path << " (ino " << attributes.ino << "): " << result.message();
  if (node.type == S_IFLNK) {
    auto target = fs.ReadLink(attributes.ino);
    if (!target.ok())
      return AssertionFailure() << path << ": ReadLink: " << target.status().ToString();
    if (*target != node.target) return AssertionFailure() << path << ": symlink target differs";
  }
  if (node.type != S_IFREG) return AssertionSuccess();
  std::optional<std::vector<std::byte>> bytes;
  if (options.contents) {
    auto read = ReadWholeFile(fs, attributes.ino, node.data.size());
    if (!read.ok()) return AssertionFailure() << path << ": " << read.status().ToString();
    const ByteTolerance* tolerance = options.tolerance;
    if (tolerance) {
      auto tolerated = model.Resolve(tolerance->path);
      if (!tolerated.ok() || *tolerated != id) tolerance = nullptr;
    }
    result = CompareBytes(*read, node.data.Read(0, node.data.size()), tolerance);
    if (!result)
      return AssertionFailure() << path << " (ino " << attributes.ino << "): " << result.message();
    bytes = std::move(*read);
  }
  if (options.extents) {
    result = CheckExtents(fs, attributes, bytes ? &*bytes : nullptr, owners);
    if (!result)
      return AssertionFailure() << path << " (ino " << attributes.ino << "): " << result.message();
  }
  return AssertionSuccess();
}

AssertionResult CheckNoSharedBlocks(std::vector<ExtentOwner> owners) {
  std::sort(owners.begin(), owners.end(),
            [](const ExtentOwner& a, const ExtentOwner& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < owners.size(); ++i) {
    if (owners[i].begin < owners[i - 1].end) {
      return AssertionFailure() << "device bytes " << owners[i].begin << ".." << owners[i - 1].end
                                << " are mapped by inode " << owners[i - 1].ino << " and inode "
                                << owners[i].ino;
    }
  }
  return AssertionSuccess();
}

}  // namespace mdfs::test::internal
