// A small side-by-side timing harness for the mdfs benchmarks.
//
// The rule it serves: on a shared, noisy machine a timing means something
// only as a ratio against a baseline measured in the same run. So every
// comparison is a Section: a baseline Variant and the Variants compared with
// it, run *interleaved* (round r runs a batch of samples of every variant,
// the order rotated each round), so that drift in the machine's load hits
// all of them alike. Each sample is the wall time (steady_clock) of
// `ops_per_sample` consecutive operations divided by that count; slow
// operations (a flush) use 1, fast ones (a memcpy) use more so the clock's
// own cost does not dominate.
//
// Nothing here asserts on timings; an operation that fails aborts the run
// with a message (Fail), so a smoke test catches a broken harness.
#ifndef MDFS_BENCH_HARNESS_H_
#define MDFS_BENCH_HARNESS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mdfs/status.h"

namespace mdfs::bench {

// Prints "<program>: <what>: <detail>" to stderr and exits 1.
[[noreturn]] void Fail(const std::string& what, const std::string& detail);
// Fail unless `status` is OK. `what` is a view: a timed operation that
// names itself with a literal allocates nothing (a std::string of more than
// 15 bytes would, on every call).
void Check(const Status& status, std::string_view what);
// Fail with strerror(errno) unless `ok`.
void CheckErrno(bool ok, const std::string& what);

// Device calls an mdfs variant made (see CountingDevice).
struct DeviceCounts {
  uint64_t flushes = 0, writes = 0, bytes_written = 0;
};

struct Variant {
  std::string name;
  // Runs operation number `i` (0, 1, 2, ... counted per variant, warmup
  // included, so appends can compute their offset). Must Fail on error.
  std::function<void(uint64_t i)> op;
  uint64_t bytes_per_op = 0;  // > 0: the rate column is MiB/s, else ops/s
  // When set (mdfs rows), read before and after each timed sample: the table
  // shows device flushes and device bytes written per operation.
  std::function<DeviceCounts()> counts = nullptr;
};

struct Summary {
  size_t samples = 0;
  uint64_t ops = 0;
  double median_ns = 0, p99_ns = 0, mean_ns = 0, min_ns = 0;
  bool counted = false;  // the variant had `counts`; the totals below are over timed ops
  DeviceCounts device;
};

struct RunOptions {
  uint64_t warmup_ops = 0;      // per variant, untimed, before the first round
  uint64_t samples = 0;         // timed samples per variant
  uint64_t batch = 1;           // samples per variant per round
  uint64_t ops_per_sample = 1;  // operations timed together as one sample
};

// Summarizes per-operation times in nanoseconds (p99: nearest rank).
Summary Summarize(std::vector<double> ns, uint64_t ops);

// Runs the variants interleaved as described above; one Summary per variant.
std::vector<Summary> RunInterleaved(const std::vector<Variant>& variants,
                                    const RunOptions& options);

// A table of one comparison. Row 0 is the baseline; every row shows its
// median/p99/mean, a rate (ops/s or MiB/s, from the mean), device flushes
// and KiB written per op (rows with `counts`), and its median
// and p99 time as a multiple of the baseline's ("x base": > 1 = slower than
// the baseline, < 1 = faster). `extra_ratios` adds "A / B" lines for pairs
// of row indices that are not (row, 0).
struct Section {
  std::string title;
  std::string note;  // one line under the title, may be empty
  std::vector<Variant> variants;
  RunOptions options;
  std::vector<std::pair<size_t, size_t>> extra_ratios;
};

// Runs the section and prints its table to stdout; returns the summaries
// (one per variant, in order) for a caller that derives more from them.
std::vector<Summary> RunAndPrint(const Section& section);

}  // namespace mdfs::bench

#endif  // MDFS_BENCH_HARNESS_H_
