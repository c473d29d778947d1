// Directory blocks: packed, unsorted entries.
#include <algorithm>
#include <set>
#include <string_view>

#include "format/format.h"
#include "format/format_internal.h"
#include "util/coding.h"

namespace mdfs::format {
namespace {

// Directory block field offsets (see format.h). Written to disk: frozen.
constexpr size_t kCountOffset = 32;
constexpr size_t kUsedBytesOffset = 36;
static_assert(kCountOffset == kBlockHeaderSize);
static_assert(kUsedBytesOffset + 4 == kDirectoryEntriesOffset);
// Entry field offsets, relative to the entry.
constexpr size_t kEntryInoOffset = 0;
constexpr size_t kEntryNameLengthOffset = 8;
constexpr size_t kEntryTypeOffset = 10;
constexpr size_t kEntryReservedOffset = 11;
constexpr size_t kEntryNameOffset = 12;
static_assert(kEntryNameOffset == kDirectoryEntryHeaderSize);

bool IsKnownEntryType(uint8_t type) {
  return internal::IsKnownFileType(static_cast<uint32_t>(type) << 12);
}

// Why `name` is not a valid entry name, or nullptr.
const char* NameProblem(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return "length outside 1..255";
  if (name == "." || name == "..") return "is . or ..";
  if (name.find('/') != std::string_view::npos) return "contains '/'";
  if (name.find('\0') != std::string_view::npos) return "contains NUL";
  return nullptr;
}

// Decodes the entry at `offset` (relative to the entries area) whose bytes
// must lie within `used_bytes`; advances `offset` past it.
Result<DirectoryRecord> DecodeEntry(const Block& block, uint32_t used_bytes, size_t& offset,
                                    const std::string& where) {
  if (used_bytes - offset < kDirectoryEntryHeaderSize) {
    return Corruption(where + "entry header passes used_bytes " + std::to_string(used_bytes));
  }
  const std::byte* entry = block.data() + kDirectoryEntriesOffset + offset;
  DirectoryRecord record;
  record.ino = DecodeFixed64(entry + kEntryInoOffset);
  const uint16_t name_length = DecodeFixed16(entry + kEntryNameLengthOffset);
  record.type = std::to_integer<uint8_t>(entry[kEntryTypeOffset]);
  if (name_length == 0 || name_length > kMaxNameLength) {
    return Corruption(where + "name_length " + std::to_string(name_length) + " outside 1..255");
  }
  if (used_bytes - offset - kDirectoryEntryHeaderSize < name_length) {
    return Corruption(where + "name passes used_bytes " + std::to_string(used_bytes));
  }
  if (entry[kEntryReservedOffset] != std::byte{0}) return Corruption(where + "reserved not zero");
  if (record.ino == 0) return Corruption(where + "ino 0");
  if (!IsKnownEntryType(record.type)) {
    return Corruption(where + "unknown type " + std::to_string(record.type));
  }
  record.name.assign(reinterpret_cast<const char*>(entry + kEntryNameOffset), name_length);
  if (const char* problem = NameProblem(record.name)) {
    return Corruption(where + "name " + problem);
  }
  offset += record.encoded_size();
  return record;
}

}  // namespace

void EncodeDirectoryBlock(const DirectoryBlock& db, uint64_t block_number, uint64_t sequence,
                          Block& out) {
  out.fill(std::byte{0});
  size_t offset = 0;
  uint32_t count = 0;
  for (const DirectoryRecord& record : db.entries) {
    assert(NameProblem(record.name) == nullptr);
    if (record.encoded_size() > kDirectoryBlockCapacity - offset) {
      assert(false && "directory entries do not fit in one block");
      break;
    }
    std::byte* entry = out.data() + kDirectoryEntriesOffset + offset;
    EncodeFixed64(entry + kEntryInoOffset, record.ino);
    EncodeFixed16(entry + kEntryNameLengthOffset, static_cast<uint16_t>(record.name.size()));
    entry[kEntryTypeOffset] = std::byte{record.type};
    std::transform(record.name.begin(), record.name.end(), entry + kEntryNameOffset,
                   [](char c) { return static_cast<std::byte>(c); });
    offset += record.encoded_size();
    ++count;
  }
  EncodeFixed32(out.data() + kCountOffset, count);
  EncodeFixed32(out.data() + kUsedBytesOffset, static_cast<uint32_t>(offset));
  SealBlock(out, BlockKind::kDirectoryBlock, block_number, sequence);
}

Result<DirectoryBlock> DecodeDirectoryBlock(const Block& block, uint64_t block_number) {
  MDFS_RETURN_IF_ERROR(CheckBlock(block, BlockKind::kDirectoryBlock, block_number).status());
  const std::string where = internal::BlockWhere(block_number, BlockKind::kDirectoryBlock);
  const uint32_t count = DecodeFixed32(block.data() + kCountOffset);
  const uint32_t used_bytes = DecodeFixed32(block.data() + kUsedBytesOffset);
  if (used_bytes > kDirectoryBlockCapacity) {
    return Corruption(where + "used_bytes " + std::to_string(used_bytes) + " > 4056");
  }
  // Every entry takes at least 13 bytes, which bounds count before the loop.
  if (count > used_bytes / (kDirectoryEntryHeaderSize + 1)) {
    return Corruption(where + "count " + std::to_string(count) + " does not fit in used_bytes " +
                      std::to_string(used_bytes));
  }
  DirectoryBlock db;
  std::set<std::string_view> names;
  size_t offset = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string entry_where = where + "entry " + std::to_string(i) + ": ";
    MDFS_ASSIGN_OR_RETURN(DirectoryRecord record,
                          DecodeEntry(block, used_bytes, offset, entry_where));
    db.entries.push_back(std::move(record));
  }
  if (offset != used_bytes) {
    return Corruption(where + "used_bytes " + std::to_string(used_bytes) + " but " +
                      std::to_string(count) + " entries take " + std::to_string(offset));
  }
  if (!internal::AllZero(
          std::span<const std::byte>(block).subspan(kDirectoryEntriesOffset + used_bytes))) {
    return Corruption(where + "bytes after used_bytes are not zero");
  }
  for (const DirectoryRecord& record : db.entries) {
    if (!names.insert(record.name).second) {
      return Corruption(where + "duplicate name \"" + record.name + "\"");
    }
  }
  return db;
}

}  // namespace mdfs::format
