// Parsing of the SIZE, OFFSET and LENGTH arguments of the mdfs command.
#ifndef MDFS_TOOLS_SIZE_PARSE_H_
#define MDFS_TOOLS_SIZE_PARSE_H_

#include <cstdint>
#include <string_view>

#include "mdfs/status.h"

namespace mdfs::cli {

// Parses a byte count: decimal digits, optionally followed by a binary
// suffix (powers of 1024): K, M, G, T, or KiB, MiB, GiB, TiB (case does not
// matter), or B for plain bytes. Examples: "4096", "256M", "4GiB", "1t".
// Fails with kInvalidArgument "invalid size '12Q': <why>" on an empty
// string, a sign, a fraction, an unknown suffix, or a value that does not
// fit in 64 bits.
Result<uint64_t> ParseSize(std::string_view text);

// Parses a time in milliseconds: decimal digits, optionally followed by
// "ms" or "s" (seconds; case does not matter). Examples: "45000", "250ms",
// "45s", "0". Fails with kInvalidArgument "invalid time '1.5s': <why>" on
// an empty string, a sign, a fraction, an unknown unit, or a value that
// does not fit in 64 bits.
Result<uint64_t> ParseMilliseconds(std::string_view text);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_SIZE_PARSE_H_
