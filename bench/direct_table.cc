#include "direct_table.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "direct_host.h"

namespace mdfs::bench::direct {

namespace {

constexpr size_t kMinSamplesForP99 = 50;

// One sample of row `row`: the time of one operation in ns.
double Sample(const Row& row, uint64_t& next_op) {
  if (row.timed_op) return row.timed_op(next_op++);
  const uint64_t per = std::max<uint64_t>(row.ops_per_sample, 1);
  const int64_t start = NowNs();
  for (uint64_t j = 0; j < per; ++j) row.op(next_op++);
  const int64_t stop = NowNs();
  return static_cast<double>(stop - start) / static_cast<double>(per);
}

std::string Rate(const Row& row, const Summary& s) {
  char buf[32];
  if (s.median_ns <= 0) return "-";
  if (row.bytes_per_op > 0) {
    double mib_s = static_cast<double>(row.bytes_per_op) / double(kMiB) / (s.median_ns / 1e9);
    std::snprintf(buf, sizeof buf, "%.0f MiB/s", mib_s);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f op/s", 1e9 / s.median_ns);
  }
  return buf;
}

}  // namespace

std::string FormatMicros(double ns) {
  char buf[32];
  double us = ns / 1000.0;
  if (us >= 1000) {
    std::snprintf(buf, sizeof buf, "%.0f", us);
  } else if (us >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f", us);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", us);
  }
  return buf;
}

std::string FormatRatio(double a, double b) {
  char buf[32];
  if (b <= 0) return "-";
  double r = a / b;
  if (r >= 0.01) {
    std::snprintf(buf, sizeof buf, "%.2fx", r);
  } else {
    std::snprintf(buf, sizeof buf, "%.3gx", r);
  }
  return buf;
}

std::vector<Summary> RunTable(const Table& table) {
  const size_t n = table.rows.size();
  for (const Row& row : table.rows) {
    if (static_cast<bool>(row.op) == static_cast<bool>(row.timed_op)) {
      Fail("table " + table.title, "row " + row.name + " needs exactly one of op / timed_op");
    }
  }
  std::vector<uint64_t> next_op(n, 0);
  std::vector<std::vector<double>> samples(n);
  for (size_t r = 0; r < n; ++r) {
    for (uint64_t i = 0; i < table.warmup_ops; ++i) Sample(table.rows[r], next_op[r]);
    samples[r].reserve(table.samples);
  }
  const uint64_t batch = std::max<uint64_t>(table.batch, 1);
  for (uint64_t round = 0; samples[0].size() < table.samples; ++round) {
    for (size_t k = 0; k < n; ++k) {
      const size_t r = (k + round) % n;  // rotate who goes first
      const uint64_t take = std::min<uint64_t>(batch, table.samples - samples[r].size());
      for (uint64_t s = 0; s < take; ++s) samples[r].push_back(Sample(table.rows[r], next_op[r]));
    }
  }
  std::vector<Summary> out;
  for (size_t r = 0; r < n; ++r) {
    const Row& row = table.rows[r];
    const uint64_t per = row.timed_op ? 1 : std::max<uint64_t>(row.ops_per_sample, 1);
    out.push_back(Summarize(std::move(samples[r]), table.samples * per));
  }

  std::printf("\n## %s\n", table.title.c_str());
  for (const std::string& line : table.notes) std::printf("%s\n", line.c_str());
  std::printf("(%" PRIu64 " samples/row, %" PRIu64
              " warmup ops/row, interleaved in batches of %" PRIu64 ")\n",
              table.samples, table.warmup_ops, batch);
  size_t name_width = 8, durability_width = 10;
  for (const Row& row : table.rows) {
    name_width = std::max(name_width, row.name.size() + 2);
    durability_width = std::max(durability_width, row.durability.size());
  }
  const int nw = static_cast<int>(name_width), dw = static_cast<int>(durability_width);
  std::printf("%-*s %-*s %6s %11s %11s %11s %13s %10s %10s\n", nw, "row", dw, "durability",
              "op/smp", "median us", "p99 us", "mean us", "rate (median)", "med/base", "p99/base");
  const Summary& base = out[0];
  const bool base_p99 = base.samples >= kMinSamplesForP99;
  for (size_t r = 0; r < n; ++r) {
    const Row& row = table.rows[r];
    const Summary& s = out[r];
    const bool p99 = s.samples >= kMinSamplesForP99;
    std::string name = row.name + (r == 0 ? " *" : "");
    std::string per =
        row.timed_op ? "1" : std::to_string(std::max<uint64_t>(row.ops_per_sample, 1));
    std::printf("%-*s %-*s %6s %11s %11s %11s %13s %10s %10s\n", nw, name.c_str(), dw,
                row.durability.c_str(), per.c_str(), FormatMicros(s.median_ns).c_str(),
                p99 ? FormatMicros(s.p99_ns).c_str() : "-", FormatMicros(s.mean_ns).c_str(),
                Rate(row, s).c_str(), FormatRatio(s.median_ns, base.median_ns).c_str(),
                p99 && base_p99 ? FormatRatio(s.p99_ns, base.p99_ns).c_str() : "-");
  }
  for (const auto& [a, b] : table.extra_ratios) {
    const bool p99 = out[a].samples >= kMinSamplesForP99 && out[b].samples >= kMinSamplesForP99;
    std::printf("  ratio %s / %s: median %s%s%s\n", table.rows[a].name.c_str(),
                table.rows[b].name.c_str(), FormatRatio(out[a].median_ns, out[b].median_ns).c_str(),
                p99 ? ", p99 " : "", p99 ? FormatRatio(out[a].p99_ns, out[b].p99_ns).c_str() : "");
  }
  std::fflush(stdout);
  return out;
}

}  // namespace mdfs::bench::direct
