#include "util/crc32c.h"

#include <nmmintrin.h>

#include <cstring>

namespace mdfs {
namespace {

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const std::byte* p,
                                                           size_t n) {
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, std::to_integer<uint8_t>(*p));
    ++p;
    --n;
  }
  return ~c32;
}

uint32_t ExtendPortable(uint32_t crc, const std::byte* p, size_t n) {
  constexpr uint32_t kPolynomialReversed = 0x82F63B78;
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) {
    c ^= std::to_integer<uint8_t>(p[i]);
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ (kPolynomialReversed & (0u - (c & 1u)));
  }
  return ~c;
}

}  // namespace

bool Crc32cIsHardwareAccelerated() {
  static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
  return has_sse42;
}

uint32_t Crc32cExtend(uint32_t crc, std::span<const std::byte> data) {
  if (Crc32cIsHardwareAccelerated()) return ExtendHardware(crc, data.data(), data.size());
  return ExtendPortable(crc, data.data(), data.size());
}

}  // namespace mdfs
