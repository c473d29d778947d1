// Names are bytes: a name in an mdfs image (and a symlink target, a host
// path) may hold any byte but NUL ('/' too, in a target or path). This is
// how the mdfs command shows such text unambiguously:
//
//   human output  GNU ls's "shell-escape" quoting (ls's default on a
//                 terminal), applied always: a name that needs it is
//                 printed as a shell word that reproduces its bytes,
//                 e.g. 'a'$'\n''b' for "a<newline>b", ''$'\377' for 0xff.
//   JSON          a string when the text is UTF-8; otherwise the string
//                 has U+FFFD for each invalid byte and a "<key>_hex" field
//                 holds the exact bytes in hex.
//
// doc/cli.md ("Names are bytes") is the user-facing description.
#ifndef MDFS_TOOLS_ESCAPE_H_
#define MDFS_TOOLS_ESCAPE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace mdfs::cli {

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) — what nlohmann::json accepts.
bool IsValidUtf8(std::string_view text);

// `text` with each byte that is not part of a well-formed UTF-8 sequence
// replaced by U+FFFD (one U+FFFD per byte).
std::string ReplaceInvalidUtf8(std::string_view text);

// Lower-case hex of every byte: "\xff\xfe" -> "fffe".
std::string HexBytes(std::string_view bytes);

// Sets object[key] to `text`. When `text` is not UTF-8, object[key] is
// ReplaceInvalidUtf8(text) and object[key + "_hex"] is HexBytes(text).
void SetJsonText(nlohmann::json& object, const std::string& key, std::string_view text);

// `name` quoted as GNU `ls --quoting-style=shell-escape` quotes it in a
// UTF-8 locale: unchanged when it holds only characters that are safe in a
// shell word ("a.txt", "a,b", "-x", "é"); in single quotes when it holds a
// shell special character or a space ('a b', 'a*'); in double quotes when
// it holds a single quote and nothing that is special inside double
// quotes ("it's"); and with each control character, DEL, non-printable
// character or invalid UTF-8 byte written as a $'...' escape (\n, \t,
// \001, \377): 'a'$'\n''b'.
std::string ShellEscape(std::string_view name);

// `text` unchanged when it holds no control character, non-printable
// character or invalid UTF-8 byte; else ShellEscape(text). For names and
// paths in error lines and reports, where quoting every name with a space
// would be noise but a raw newline would break the line.
std::string ShellEscapeIfUnprintable(std::string_view text);

// `text` with each control character, DEL, non-printable character and
// invalid UTF-8 byte written as a C escape (\n, \t, \001, \377) and the
// rest unchanged. For free text that may quote names (an error's reason, an
// fsck message), so that it stays one line.
std::string EscapeControlCharacters(std::string_view text);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_ESCAPE_H_
