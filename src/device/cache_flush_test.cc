#include "device/cache_flush.h"

#include <cstring>
#include <vector>

#include "device/device_test_util.h"
#include "gtest/gtest.h"

namespace mdfs::device_internal {
namespace {

constexpr CacheFlushInstruction kAll[] = {
    CacheFlushInstruction::kClwb, CacheFlushInstruction::kClflushopt,
    CacheFlushInstruction::kClflush, CacheFlushInstruction::kDcCvac, CacheFlushInstruction::kNone};

TEST(CacheFlush, BestIsTheFirstSupportedInPreferenceOrder) {
  CacheFlushInstruction expected = CacheFlushInstruction::kNone;
  for (CacheFlushInstruction instruction : kAll) {
    if (CpuSupports(instruction)) {
      expected = instruction;
      break;
    }
  }
  EXPECT_EQ(BestCacheFlushInstruction(), expected)
      << CacheFlushInstructionName(BestCacheFlushInstruction());
}

#if defined(__x86_64__)
TEST(CacheFlush, X86AlwaysHasClflush) {
  EXPECT_TRUE(CpuSupports(CacheFlushInstruction::kClflush));
  EXPECT_FALSE(CpuSupports(CacheFlushInstruction::kDcCvac));
}
#endif

// Every supported instruction runs (no SIGILL) over an unaligned range that
// spans lines and leaves the data as it was.
TEST(CacheFlush, EverySupportedInstructionKeepsTheData) {
  for (CacheFlushInstruction instruction : kAll) {
    if (!CpuSupports(instruction)) continue;
    std::vector<std::byte> buffer = device_test::Pattern(1000, 7);
    const std::vector<std::byte> expected = buffer;
    WriteBackCacheLines(buffer.data() + 3, 997, instruction);
    WriteBackCacheLines(buffer.data(), 0, instruction);
    StoreFence();
    EXPECT_EQ(buffer, expected) << CacheFlushInstructionName(instruction);
  }
  std::vector<std::byte> buffer = device_test::Pattern(200, 1);
  PersistCacheLines(buffer.data() + 1, 150);
  EXPECT_EQ(buffer, device_test::Pattern(200, 1));
}

}  // namespace
}  // namespace mdfs::device_internal
