// CountingDevice: forwards every call to a wrapped Device and counts flushes
// and written bytes, so a benchmark can print how many device flushes and
// how many device bytes one mdfs operation cost (the mechanism behind a
// ratio, measured, not assumed). Single-threaded use in the benchmarks;
// the counters are atomics anyway.
#ifndef MDFS_BENCH_COUNTING_DEVICE_H_
#define MDFS_BENCH_COUNTING_DEVICE_H_

#include <atomic>
#include <cstdint>

#include "harness.h"
#include "mdfs/device.h"

namespace mdfs::bench {

class CountingDevice final : public Device {
 public:
  explicit CountingDevice(Device* base) : base_(base) {}  // does not take ownership

  uint64_t size_bytes() const override { return base_->size_bytes(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return base_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    writes_.fetch_add(1, std::memory_order_relaxed);
    bytes_written_.fetch_add(data.size(), std::memory_order_relaxed);
    return base_->Write(offset, data);
  }
  Status Flush() override {
    flushes_.fetch_add(1, std::memory_order_relaxed);
    return base_->Flush();
  }
  PersistenceMode persistence_mode() const override { return base_->persistence_mode(); }
  std::string Describe() const override { return base_->Describe(); }
  std::byte* mapped_base() override { return base_->mapped_base(); }
  Status Persist(uint64_t offset, uint64_t length) override {
    flushes_.fetch_add(1, std::memory_order_relaxed);  // a ranged flush
    return base_->Persist(offset, length);
  }

  // For Variant::counts.
  DeviceCounts counts() const {
    return {flushes_.load(std::memory_order_relaxed), writes_.load(std::memory_order_relaxed),
            bytes_written_.load(std::memory_order_relaxed)};
  }

 private:
  Device* const base_;
  std::atomic<uint64_t> flushes_{0}, writes_{0}, bytes_written_{0};
};

}  // namespace mdfs::bench

#endif  // MDFS_BENCH_COUNTING_DEVICE_H_
