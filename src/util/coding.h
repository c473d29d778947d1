// Explicit little-endian encoding of fixed-width integers. Every on-device
// and on-wire integer goes through these; nothing is memcpy'd as a struct.
#ifndef MDFS_SRC_UTIL_CODING_H_
#define MDFS_SRC_UTIL_CODING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace mdfs {

inline void EncodeFixed16(std::byte* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline void EncodeFixed32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline void EncodeFixed64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
inline uint16_t DecodeFixed16(const std::byte* p) {
  uint16_t v = 0;
  for (int i = 0; i < 2; ++i) v |= static_cast<uint16_t>(std::to_integer<uint16_t>(p[i]) << (8 * i));
  return v;
}
inline uint32_t DecodeFixed32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::to_integer<uint32_t>(p[i]) << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::to_integer<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace mdfs

#endif  // MDFS_SRC_UTIL_CODING_H_
