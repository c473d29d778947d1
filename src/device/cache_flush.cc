#include "device/cache_flush.h"

#include <atomic>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define MDFS_X86 1
#endif

namespace mdfs::device_internal {
namespace {

// Smallest cache line of the CPUs we run on; stepping by less than the real
// line only costs redundant instructions, never misses a line.
constexpr uintptr_t kCacheLineBytes = 64;

#ifdef MDFS_X86
bool CpuidLeaf7Bit(unsigned bit) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return (ebx >> bit) & 1;
}

bool HasClflush() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (edx >> 19) & 1;
}

__attribute__((target("clwb"))) void ClwbLines(uintptr_t line, uintptr_t end) {
  for (; line < end; line += kCacheLineBytes) __builtin_ia32_clwb(reinterpret_cast<void*>(line));
}

__attribute__((target("clflushopt"))) void ClflushoptLines(uintptr_t line, uintptr_t end) {
  for (; line < end; line += kCacheLineBytes) {
    __builtin_ia32_clflushopt(reinterpret_cast<void*>(line));
  }
}

void ClflushLines(uintptr_t line, uintptr_t end) {
  for (; line < end; line += kCacheLineBytes) {
    __builtin_ia32_clflush(reinterpret_cast<const void*>(line));
  }
}
#endif  // MDFS_X86

#ifdef __aarch64__
void DcCvacLines(uintptr_t line, uintptr_t end) {
  for (; line < end; line += kCacheLineBytes) asm volatile("dc cvac, %0" : : "r"(line) : "memory");
}
#endif

CacheFlushInstruction DetectBest() {
#ifdef MDFS_X86
  if (CpuidLeaf7Bit(24)) return CacheFlushInstruction::kClwb;
  if (CpuidLeaf7Bit(23)) return CacheFlushInstruction::kClflushopt;
  if (HasClflush()) return CacheFlushInstruction::kClflush;
#endif
#ifdef __aarch64__
  return CacheFlushInstruction::kDcCvac;
#endif
  return CacheFlushInstruction::kNone;
}

}  // namespace

CacheFlushInstruction BestCacheFlushInstruction() {
  static const CacheFlushInstruction best = DetectBest();
  return best;
}

const char* CacheFlushInstructionName(CacheFlushInstruction instruction) {
  switch (instruction) {
    case CacheFlushInstruction::kClwb:
      return "clwb";
    case CacheFlushInstruction::kClflushopt:
      return "clflushopt";
    case CacheFlushInstruction::kClflush:
      return "clflush";
    case CacheFlushInstruction::kDcCvac:
      return "dc cvac";
    case CacheFlushInstruction::kNone:
      return "none";
  }
  return "unknown";
}

bool CpuSupports(CacheFlushInstruction instruction) {
  switch (instruction) {
#ifdef MDFS_X86
    case CacheFlushInstruction::kClwb:
      return CpuidLeaf7Bit(24);
    case CacheFlushInstruction::kClflushopt:
      return CpuidLeaf7Bit(23);
    case CacheFlushInstruction::kClflush:
      return HasClflush();
#endif
#ifdef __aarch64__
    case CacheFlushInstruction::kDcCvac:
      return true;
#endif
    case CacheFlushInstruction::kNone:
      return true;
    default:
      return false;
  }
}

void WriteBackCacheLines(const void* address, size_t length, CacheFlushInstruction instruction) {
  if (length == 0) return;
  const auto start = reinterpret_cast<uintptr_t>(address);
  const uintptr_t line = start & ~(kCacheLineBytes - 1);
  const uintptr_t end = start + length;
  asm volatile("" : : : "memory");  // the stores to write back happen before this point
  switch (instruction) {
#ifdef MDFS_X86
    case CacheFlushInstruction::kClwb:
      ClwbLines(line, end);
      return;
    case CacheFlushInstruction::kClflushopt:
      ClflushoptLines(line, end);
      return;
    case CacheFlushInstruction::kClflush:
      ClflushLines(line, end);
      return;
#endif
#ifdef __aarch64__
    case CacheFlushInstruction::kDcCvac:
      DcCvacLines(line, end);
      return;
#endif
    default:
      return;
  }
}

void StoreFence() {
#ifdef MDFS_X86
  asm volatile("sfence" : : : "memory");
#elif defined(__aarch64__)
  asm volatile("dsb sy" : : : "memory");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

void PersistCacheLines(const void* address, size_t length) {
  WriteBackCacheLines(address, length, BestCacheFlushInstruction());
  StoreFence();
}

}  // namespace mdfs::device_internal
