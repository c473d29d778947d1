// Writing CPU cache lines back to memory, for the kCpuCache persistence
// mode: stores to a MAP_SYNC or device-dax mapping are durable once their
// cache lines are written back and a store fence has completed.
#ifndef MDFS_SRC_DEVICE_CACHE_FLUSH_H_
#define MDFS_SRC_DEVICE_CACHE_FLUSH_H_

#include <cstddef>

namespace mdfs::device_internal {

enum class CacheFlushInstruction {
  kClwb,        // write back, line may stay cached (x86 CLWB)
  kClflushopt,  // write back and evict, weakly ordered (x86 CLFLUSHOPT)
  kClflush,     // write back and evict, strongly ordered (x86 CLFLUSH)
  kDcCvac,      // aarch64 DC CVAC (clean to point of coherency)
  kNone,        // no instruction known for this CPU: only the fence is issued
};

// The best instruction this CPU supports (CLWB > CLFLUSHOPT > CLFLUSH on
// x86), detected once with cpuid.
CacheFlushInstruction BestCacheFlushInstruction();
const char* CacheFlushInstructionName(CacheFlushInstruction instruction);
bool CpuSupports(CacheFlushInstruction instruction);

// Writes back every cache line that overlaps [address, address + length)
// with `instruction`, without a fence. REQUIRES: CpuSupports(instruction).
void WriteBackCacheLines(const void* address, size_t length, CacheFlushInstruction instruction);
// Orders the write-backs before later stores (SFENCE on x86).
void StoreFence();

// WriteBackCacheLines with the best instruction, then StoreFence.
void PersistCacheLines(const void* address, size_t length);

}  // namespace mdfs::device_internal

#endif  // MDFS_SRC_DEVICE_CACHE_FLUSH_H_
