// Output of the mdfs command: error lines, human-readable values and tables,
// and the JSON forms of attributes and extents (field lists in doc/cli.md).
#ifndef MDFS_TOOLS_OUTPUT_H_
#define MDFS_TOOLS_OUTPUT_H_

#include <array>
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mdfs/file_system.h"
#include "mdfs/status.h"

namespace mdfs::cli {

// Prints "mdfs <command>: <what>: <status.ToString()>" on stderr and
// returns 1 (kExitFailure). An empty `what` is left out. The line stays one
// line: `what` is shell-escaped when it holds a control character or
// invalid UTF-8 (ShellEscapeIfUnprintable), the reason has such bytes as C
// escapes (EscapeControlCharacters).
int ReportError(std::string_view command, std::string_view what, const Status& status);
// Prints "mdfs <command>: <message>" on stderr (control characters as C
// escapes); returns the given exit code.
int ReportMessage(std::string_view command, std::string_view message, int exit_code);

// "0 B", "4.0 KiB", "512 MiB", "1.5 GiB": three significant digits at most.
std::string HumanBytes(uint64_t bytes);
// "2024-05-01T12:34:56.123456789Z" (UTC, nanoseconds).
std::string IsoTime(Timestamp time);
// "2024-05-01 12:34:56" (UTC), for tables.
std::string ShortTime(Timestamp time);
// "drwxr-xr-x", "-rw-r--r--", "lrwxrwxrwx" (with s/S/t/T for the special bits).
std::string ModeString(uint32_t mode);
// The mode in octal, as stat(1) prints %a with the type: "100644", "40755".
std::string OctalMode(uint32_t mode);
// "0644": permission and special bits only.
std::string OctalPermissions(uint32_t mode);
// "file", "directory", "symlink" (or "unknown").
std::string TypeName(uint32_t mode);
// "123e4567-e89b-12d3-a456-426614174000".
std::string UuidString(const std::array<uint8_t, 16>& uuid);
// "sealed" or "" for kInodeFlag*; unknown bits as "0x..".
std::string InodeFlagsString(uint32_t flags);
// "45000 ms (45 s)", "250 ms", "0 (never revoke)".
std::string LeaseBreakTimeString(uint64_t ms);
// "unwritten,last", "" for kExtent*.
std::string ExtentFlagsString(uint32_t flags);

nlohmann::json AttributesToJson(const Attributes& attributes);
nlohmann::json ExtentToJson(const ExtentInfo& extent);
// Prints `value` indented by two spaces, then a newline, on stdout.
void PrintJson(const nlohmann::json& value);

// A text table: a header row and rows of cells, columns padded to the
// widest cell. Columns listed in `right_aligned` (by index) align right.
class Table {
 public:
  Table(std::vector<std::string> header, std::vector<size_t> right_aligned = {});
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> right_aligned_;
};

// "Label:    value" lines with the values aligned.
class KeyValueList {
 public:
  void Add(std::string key, std::string value);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_OUTPUT_H_
