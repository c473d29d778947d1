#include "size_parse.h"

#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace mdfs::cli {
namespace {

constexpr char kSuffixHelp[] = "use bytes or a K, M, G, T (KiB, MiB, GiB, TiB) suffix";

Status Invalid(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid size '" + std::string(text) + "': " + std::string(why));
}

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// The multiplier for `suffix` (already lowercase), or 0 when unknown.
uint64_t SuffixMultiplier(std::string_view suffix) {
  static constexpr std::array<std::pair<std::string_view, int>, 5> kUnits = {
      {{"b", 0}, {"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}}};
  if (suffix.empty()) return 1;
  for (const auto& [unit, shift] : kUnits) {
    if (suffix == unit) return uint64_t{1} << shift;
    if (shift > 0 && suffix.size() == 3 && suffix[0] == unit[0] && suffix.substr(1) == "ib") {
      return uint64_t{1} << shift;
    }
  }
  return 0;
}

constexpr char kTimeHelp[] = "use milliseconds, or an 'ms' or 's' suffix";

Status InvalidTime(std::string_view text, std::string_view why) {
  return InvalidArgument("invalid time '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty; " + std::string(kSuffixHelp));
  if (text[0] == '-') return Invalid(text, "negative sizes are not allowed");
  if (text[0] == '+') return Invalid(text, "a sign is not allowed");
  size_t digits = 0;
  uint64_t value = 0;
  bool overflow = false;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    uint64_t digit = static_cast<uint64_t>(text[digits] - '0');
    if (value > (UINT64_MAX - digit) / 10) overflow = true;
    value = value * 10 + digit;
    ++digits;
  }
  if (digits == 0) return Invalid(text, "not a number; " + std::string(kSuffixHelp));
  std::string_view suffix = text.substr(digits);
  if (!suffix.empty() && (suffix[0] == '.' || suffix[0] == ',')) {
    return Invalid(text, "fractions are not allowed; use a smaller unit");
  }
  uint64_t multiplier = SuffixMultiplier(Lowercase(suffix));
  if (multiplier == 0) {
    return Invalid(text, "unknown suffix '" + std::string(suffix) + "'; " + kSuffixHelp);
  }
  if (overflow || (value != 0 && value > UINT64_MAX / multiplier)) {
    return Invalid(text, "too large (the maximum is 18446744073709551615 bytes)");
  }
  return value * multiplier;
}

Result<uint64_t> ParseMilliseconds(std::string_view text) {
  if (text.empty()) return InvalidTime(text, "empty; " + std::string(kTimeHelp));
  if (text[0] == '-') return InvalidTime(text, "negative times are not allowed");
  if (text[0] == '+') return InvalidTime(text, "a sign is not allowed");
  size_t digits = 0;
  uint64_t value = 0;
  bool overflow = false;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    uint64_t digit = static_cast<uint64_t>(text[digits] - '0');
    if (value > (UINT64_MAX - digit) / 10) overflow = true;
    value = value * 10 + digit;
    ++digits;
  }
  if (digits == 0) return InvalidTime(text, "not a number; " + std::string(kTimeHelp));
  std::string_view suffix = text.substr(digits);
  if (!suffix.empty() && (suffix[0] == '.' || suffix[0] == ',')) {
    return InvalidTime(text, "fractions are not allowed; use milliseconds");
  }
  std::string unit = Lowercase(suffix);
  uint64_t multiplier = unit.empty() || unit == "ms" ? 1 : unit == "s" ? 1000 : 0;
  if (multiplier == 0) {
    return InvalidTime(text, "unknown unit '" + std::string(suffix) + "'; " + kTimeHelp);
  }
  if (overflow || (value != 0 && value > UINT64_MAX / multiplier)) {
    return InvalidTime(text, "too large (the maximum is 18446744073709551615 ms)");
  }
  return value * multiplier;
}

}  // namespace mdfs::cli
