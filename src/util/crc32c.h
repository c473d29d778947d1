// CRC32C (Castagnoli), the checksum of every metadata block and journal
// record. Uses the SSE4.2 crc32 instruction; a bitwise fallback exists only
// for CPUs without SSE4.2 (it is correct, and slow, and never used on the
// machines we test on — Crc32cIsHardwareAccelerated() says which).
#ifndef MDFS_SRC_UTIL_CRC32C_H_
#define MDFS_SRC_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace mdfs {

// Extends `crc` (0 to start) over `data`. Crc32c(Crc32c(0,a),b) == Crc32c(0,a+b).
uint32_t Crc32cExtend(uint32_t crc, std::span<const std::byte> data);
inline uint32_t Crc32c(std::span<const std::byte> data) { return Crc32cExtend(0, data); }
bool Crc32cIsHardwareAccelerated();

}  // namespace mdfs

#endif  // MDFS_SRC_UTIL_CRC32C_H_
