#include "escape.h"

#include <locale.h>
#include <wctype.h>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace mdfs::cli {
namespace {

// The length of the well-formed UTF-8 sequence at text[i], or 0 when the
// byte there does not start one (RFC 3629, table 3-7 of Unicode).
size_t SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint8_t low = 0x80, high = 0xbf;  // the range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // no overlong forms
    if (lead == 0xed) high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // no overlong forms
    if (lead == 0xf4) high = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

char32_t DecodeSequence(std::string_view sequence) {
  static constexpr uint8_t kLeadMask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  char32_t code = static_cast<uint8_t>(sequence[0]) & kLeadMask[sequence.size()];
  for (size_t k = 1; k < sequence.size(); ++k) {
    code = (code << 6) | (static_cast<uint8_t>(sequence[k]) & 0x3f);
  }
  return code;
}

// Whether the code point of a multi-byte sequence is printable, as ls
// decides it (iswprint in a UTF-8 locale). C1 controls never are.
bool IsPrintableCodePoint(char32_t code) {
  if (code < 0xa0) return false;
  static locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (utf8 == static_cast<locale_t>(nullptr)) return true;
  return iswprint_l(static_cast<wint_t>(code), utf8) != 0;
}

// One character of the text, or one byte that is not part of any.
struct Unit {
  std::string_view bytes;
  bool invalid = false;    // not well-formed UTF-8
  bool printable = false;  // shown as it is (not escaped)
};

std::vector<Unit> SplitUnits(std::string_view text) {
  std::vector<Unit> units;
  for (size_t i = 0; i < text.size();) {
    size_t length = SequenceLength(text, i);
    Unit unit;
    unit.bytes = text.substr(i, length == 0 ? 1 : length);
    unit.invalid = length == 0;
    if (length == 1) {
      unit.printable = text[i] >= 0x20 && text[i] < 0x7f;
    } else if (length > 1) {
      unit.printable = IsPrintableCodePoint(DecodeSequence(unit.bytes));
    }
    units.push_back(unit);
    i += unit.bytes.size();
  }
  return units;
}

// "\n", "\t", ... for the control characters C and the shell name by
// letter; "\ooo" for any other byte.
std::string EscapeBytes(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    static constexpr std::string_view kLetters = "\a\b\t\n\v\f\r";
    static constexpr std::string_view kNames = "abtnvfr";
    size_t letter = kLetters.find(c);
    if (letter != std::string_view::npos) {
      out += '\\';
      out += kNames[letter];
      continue;
    }
    char octal[8];
    std::snprintf(octal, sizeof(octal), "\\%03o", static_cast<unsigned>(static_cast<uint8_t>(c)));
    out += octal;
  }
  return out;
}

// How a printable character affects GNU shell-escape quoting.
struct ShellClass {
  bool needs_quotes = false;     // cannot stand bare in a shell word
  bool double_quotable = false;  // means the same inside "..." as inside '...'
};

// gnulib quotearg.c (shell_escape_quoting_style), for one printable unit
// at `index` of a name of `size` bytes.
ShellClass ClassifyForShell(std::string_view unit, size_t index, size_t size) {
  if (unit.size() > 1) return {false, true};  // printable multi-byte character
  char c = unit[0];
  static constexpr std::string_view kSafe = "%+,-./:@]_";
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      kSafe.find(c) != std::string_view::npos) {
    return {false, true};
  }
  if (c == '#' || c == '~') return index == 0 ? ShellClass{true, true} : ShellClass{false, false};
  if (c == '{' || c == '}') return size == 1 ? ShellClass{true, true} : ShellClass{false, false};
  if (c == ' ' || c == '\'') return {true, true};
  return {true, false};  // ! " $ & ( ) * ; < = > ? [ \ ^ ` |
}

// The name in single quotes, with escapes in $'...' and a single quote as
// '\'' — the form GNU ls prints once a name needs escapes.
std::string SingleQuoted(const std::vector<Unit>& units) {
  std::string out = "'";
  bool in_dollar_quote = false;  // inside $'...'
  for (const Unit& unit : units) {
    if (!unit.printable) {
      if (!in_dollar_quote) out += "'$'";
      in_dollar_quote = true;
      out += EscapeBytes(unit.bytes);
    } else if (unit.bytes == "'") {
      out += "'\\''";  // closes either quote, a literal ', reopens '...'
      in_dollar_quote = false;
    } else {
      if (in_dollar_quote) out += "''";  // closes $'...', reopens '...'
      in_dollar_quote = false;
      out += unit.bytes;
    }
  }
  return out + "'";
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t length = SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string ReplaceInvalidUtf8(std::string_view text) {
  std::string out;
  for (const Unit& unit : SplitUnits(text)) {
    if (unit.invalid) {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
    } else {
      out += unit.bytes;
    }
  }
  return out;
}

std::string HexBytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (char c : bytes) {
    uint8_t b = static_cast<uint8_t>(c);
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0xf];
  }
  return hex;
}

void SetJsonText(nlohmann::json& object, const std::string& key, std::string_view text) {
  if (IsValidUtf8(text)) {
    object[key] = std::string(text);
    return;
  }
  object[key] = ReplaceInvalidUtf8(text);
  object[key + "_hex"] = HexBytes(text);
}

std::string ShellEscape(std::string_view name) {
  std::vector<Unit> units = SplitUnits(name);
  bool needs_quotes = name.empty();
  bool needs_escapes = false;
  bool has_single_quote = false;
  bool all_double_quotable = true;
  size_t index = 0;
  for (const Unit& unit : units) {
    if (!unit.printable) {
      needs_escapes = true;
    } else {
      ShellClass shell = ClassifyForShell(unit.bytes, index, name.size());
      needs_quotes = needs_quotes || shell.needs_quotes;
      all_double_quotable = all_double_quotable && shell.double_quotable;
      has_single_quote = has_single_quote || unit.bytes == "'";
    }
    index += unit.bytes.size();
  }
  if (needs_escapes) return SingleQuoted(units);
  if (!needs_quotes) return std::string(name);
  if (has_single_quote && all_double_quotable) return "\"" + std::string(name) + "\"";
  return SingleQuoted(units);
}

std::string ShellEscapeIfUnprintable(std::string_view text) {
  for (const Unit& unit : SplitUnits(text)) {
    if (!unit.printable) return ShellEscape(text);
  }
  return std::string(text);
}

std::string EscapeControlCharacters(std::string_view text) {
  std::string out;
  for (const Unit& unit : SplitUnits(text)) {
    if (unit.printable) {
      out += unit.bytes;
    } else {
      out += EscapeBytes(unit.bytes);
    }
  }
  return out;
}

}  // namespace mdfs::cli
