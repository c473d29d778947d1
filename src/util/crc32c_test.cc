#include "util/crc32c.h"

#include <gtest/gtest.h>

#include <string_view>

namespace mdfs {
namespace {

std::span<const std::byte> Bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) B.4 and the common "123456789" check value.
  EXPECT_EQ(Crc32c(Bytes("123456789")), 0xE3069283u);
  std::array<std::byte, 32> zeros{};
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  std::array<std::byte, 32> ones;
  ones.fill(std::byte{0xFF});
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string_view text = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t split = 0; split <= text.size(); ++split) {
    uint32_t part = Crc32cExtend(Crc32c(Bytes(text.substr(0, split))), Bytes(text.substr(split)));
    EXPECT_EQ(part, Crc32c(Bytes(text))) << "split at " << split;
  }
}

}  // namespace
}  // namespace mdfs
