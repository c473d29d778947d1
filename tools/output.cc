#include "output.h"

#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <utility>

#include "escape.h"

namespace mdfs::cli {

int ReportError(std::string_view command, std::string_view what, const Status& status) {
  std::string line = "mdfs " + std::string(command) + ": ";
  if (!what.empty()) line += ShellEscapeIfUnprintable(what) + ": ";
  line += EscapeControlCharacters(status.ToString());
  std::cerr << line << std::endl;
  return 1;
}

int ReportMessage(std::string_view command, std::string_view message, int exit_code) {
  std::cerr << "mdfs " << command << ": " << EscapeControlCharacters(message) << std::endl;
  return exit_code;
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (value < 10 && value != static_cast<uint64_t>(value)) {
    std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  } else {
    std::snprintf(text, sizeof(text), "%.0f %s", value, kUnits[unit]);
  }
  return text;
}

namespace {

// `time` broken down in UTC, and its nanoseconds within the second.
std::string FormatUtc(Timestamp time, const char* format, int64_t* nanos_out) {
  int64_t seconds = time.ns / 1'000'000'000;
  int64_t nanos = time.ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof(text), format, &tm);
  if (nanos_out != nullptr) *nanos_out = nanos;
  return text;
}

}  // namespace

std::string IsoTime(Timestamp time) {
  int64_t nanos = 0;
  std::string text = FormatUtc(time, "%Y-%m-%dT%H:%M:%S", &nanos);
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%09" PRId64 "Z", nanos);
  return text + fraction;
}

std::string ShortTime(Timestamp time) { return FormatUtc(time, "%Y-%m-%d %H:%M:%S", nullptr); }

std::string ModeString(uint32_t mode) {
  std::string text = "?---------";
  switch (mode & S_IFMT) {
    case S_IFREG:
      text[0] = '-';
      break;
    case S_IFDIR:
      text[0] = 'd';
      break;
    case S_IFLNK:
      text[0] = 'l';
      break;
    default:
      break;
  }
  static constexpr char kLetters[] = "rwxrwxrwx";
  for (int bit = 0; bit < 9; ++bit) {
    if (mode & (0400u >> bit)) text[1 + bit] = kLetters[bit];
  }
  auto special = [&](uint32_t flag, size_t index, char with_x, char without_x) {
    if (mode & flag) text[index] = text[index] == '-' ? without_x : with_x;
  };
  special(S_ISUID, 3, 's', 'S');
  special(S_ISGID, 6, 's', 'S');
  special(S_ISVTX, 9, 't', 'T');
  return text;
}

std::string OctalMode(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof(text), "%o", mode);
  return text;
}

std::string OctalPermissions(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04o", mode & 07777);
  return text;
}

std::string TypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    default:
      return "unknown";
  }
}

std::string UuidString(const std::array<uint8_t, 16>& uuid) {
  std::string text;
  char hex[3];
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    std::snprintf(hex, sizeof(hex), "%02x", uuid[i]);
    text += hex;
  }
  return text;
}

namespace {

std::string FlagList(uint32_t flags, const std::vector<std::pair<uint32_t, const char*>>& names) {
  std::string text;
  for (const auto& [bit, name] : names) {
    if ((flags & bit) == 0) continue;
    if (!text.empty()) text += ',';
    text += name;
    flags &= ~bit;
  }
  if (flags != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%x", flags);
    if (!text.empty()) text += ',';
    text += hex;
  }
  return text;
}

}  // namespace

std::string InodeFlagsString(uint32_t flags) {
  return FlagList(flags, {{kInodeFlagSealed, "sealed"}});
}

std::string LeaseBreakTimeString(uint64_t ms) {
  if (ms == 0) return "0 (never revoke)";
  std::string text = std::to_string(ms) + " ms";
  if (ms >= 1000) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), " (%.3g s)", static_cast<double>(ms) / 1000.0);
    text += seconds;
  }
  return text;
}

std::string ExtentFlagsString(uint32_t flags) {
  return FlagList(flags, {{kExtentUnwritten, "unwritten"}, {kExtentLast, "last"}});
}

nlohmann::json AttributesToJson(const Attributes& a) {
  nlohmann::json json = {
      {"ino", a.ino},
      {"type", TypeName(a.mode)},
      {"mode", a.mode},
      {"mode_octal", OctalMode(a.mode)},
      {"permissions", OctalPermissions(a.mode)},
      {"uid", a.uid},
      {"gid", a.gid},
      {"size", a.size},
      {"nlink", a.nlink},
      {"generation", a.generation},
      {"allocated_blocks", a.allocated_blocks},
      {"allocated_bytes", a.allocated_blocks * kBlockSize},
      {"flags", a.flags},
      {"sealed", (a.flags & kInodeFlagSealed) != 0},
  };
  const std::pair<const char*, Timestamp> times[] = {
      {"atime", a.atime}, {"mtime", a.mtime}, {"ctime", a.ctime}, {"btime", a.btime}};
  for (const auto& [name, time] : times) {
    json[name] = IsoTime(time);
    json[std::string(name) + "_ns"] = time.ns;
  }
  return json;
}

nlohmann::json ExtentToJson(const ExtentInfo& e) {
  return {
      {"file_offset", e.file_offset},
      {"device_offset", e.device_offset},
      {"length", e.length},
      {"flags", e.flags},
      {"unwritten", (e.flags & kExtentUnwritten) != 0},
      {"last", (e.flags & kExtentLast) != 0},
  };
}

void PrintJson(const nlohmann::json& value) {
  // Every text from the image or the host goes in through SetJsonText, so
  // the strings are UTF-8; `replace` only keeps a missed one from aborting
  // the whole output.
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

Table::Table(std::vector<std::string> header, std::vector<size_t> right_aligned)
    : right_aligned_(std::move(right_aligned)) {
  rows_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      bool right =
          std::find(right_aligned_.begin(), right_aligned_.end(), i) != right_aligned_.end();
      std::string pad(widths[i] - row[i].size(), ' ');
      bool last = i + 1 == row.size();
      line += right ? pad + row[i] : row[i] + (last ? "" : pad);
      if (!last) line += "  ";
    }
    out << line << '\n';
  }
}

void KeyValueList::Add(std::string key, std::string value) {
  items_.emplace_back(std::move(key), std::move(value));
}

void KeyValueList::Print(std::ostream& out) const {
  size_t width = 0;
  for (const auto& item : items_) width = std::max(width, item.first.size());
  for (const auto& [key, value] : items_) {
    out << key << ':' << std::string(width - key.size() + 2, ' ') << value << '\n';
  }
}

}  // namespace mdfs::cli
