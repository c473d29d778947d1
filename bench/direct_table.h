// The table runner of mdfs_bench_direct: bench/harness.h's method (one
// baseline row per table, every row run interleaved in rotated batches,
// median / p99 / mean per operation, ratios to the baseline measured in the
// same run), with two additions this benchmark needs:
//
//   * a row may time itself (`timed_op` returns the nanoseconds of the part
//     that counts), so that per-sample setup stays outside the timing: the
//     recall rows re-create their holders before each break, the allocate
//     rows punch the range out again after each map;
//   * each row says how durable its operation is on this machine (the
//     `durability` column), because a cache-line flush of DRAM or of the
//     page cache costs something but makes nothing durable.
//
// The median and p99 definitions are harness.cc's Summarize (p99 = nearest
// rank). p99 is printed only for rows with at least 50 samples; with fewer it
// would be the maximum.
#ifndef MDFS_BENCH_DIRECT_TABLE_H_
#define MDFS_BENCH_DIRECT_TABLE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace mdfs::bench::direct {

struct Row {
  std::string name;
  // E.g. "durable (fdatasync)", "NOT durable: cpu-cache flush of DRAM".
  std::string durability;
  // Exactly one of the two. `op(i)` runs operation i (counted per row from 0,
  // warmup included); the runner times `ops_per_sample` of them together.
  // `timed_op(i)` runs operation i and returns its own time in ns.
  std::function<void(uint64_t i)> op;
  std::function<double(uint64_t i)> timed_op;
  uint64_t ops_per_sample = 1;  // for `op` rows
  uint64_t bytes_per_op = 0;    // > 0: a MiB/s column from the median, else ops/s
};

struct Table {
  std::string title;
  std::vector<std::string> notes;  // lines under the title
  std::vector<Row> rows;           // rows[0] is the baseline
  uint64_t warmup_ops = 0;         // per row, untimed
  uint64_t samples = 0;            // per row
  uint64_t batch = 10;             // samples per row per round
  // "A / B" lines for pairs of row indices other than (row, 0).
  std::vector<std::pair<size_t, size_t>> extra_ratios;
};

// Runs the table interleaved, prints it to stdout, returns one Summary per row.
std::vector<Summary> RunTable(const Table& table);

// "12.3", "0.085", "4012": microseconds with 3 significant-ish digits.
std::string FormatMicros(double ns);
// "2.07x"; small ratios keep 3 significant digits ("0.000123x"); "-" if b <= 0.
std::string FormatRatio(double a, double b);

}  // namespace mdfs::bench::direct

#endif  // MDFS_BENCH_DIRECT_TABLE_H_
