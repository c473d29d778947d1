#include "harness.h"

#include <errno.h>  // program_invocation_short_name (GNU)

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mdfs::bench {

void Fail(const std::string& what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(), detail.c_str());
  std::exit(1);
}

void Check(const Status& status, std::string_view what) {
  if (!status.ok()) Fail(std::string(what), status.ToString());
}

void CheckErrno(bool ok, const std::string& what) {
  if (!ok) Fail(what, std::strerror(errno));
}

Summary Summarize(std::vector<double> ns, uint64_t ops) {
  Summary s;
  s.samples = ns.size();
  s.ops = ops;
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  auto rank = [&](double q) {
    // Nearest rank: the smallest sample with at least q of the samples <= it.
    size_t r = static_cast<size_t>(std::ceil(q * static_cast<double>(ns.size())));
    return ns[std::clamp<size_t>(r, 1, ns.size()) - 1];
  };
  s.median_ns = ns.size() % 2 ? ns[ns.size() / 2] : (ns[ns.size() / 2 - 1] + ns[ns.size() / 2]) / 2;
  s.p99_ns = rank(0.99);
  s.min_ns = ns.front();
  double sum = 0;
  for (double v : ns) sum += v;
  s.mean_ns = sum / static_cast<double>(ns.size());
  return s;
}

std::vector<Summary> RunInterleaved(const std::vector<Variant>& variants,
                                    const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  const size_t n = variants.size();
  std::vector<uint64_t> next_op(n, 0);
  std::vector<std::vector<double>> samples(n);
  std::vector<DeviceCounts> device(n);
  for (size_t v = 0; v < n; ++v) {
    for (uint64_t i = 0; i < options.warmup_ops; ++i) variants[v].op(next_op[v]++);
    samples[v].reserve(options.samples);
  }
  const uint64_t per_sample = std::max<uint64_t>(options.ops_per_sample, 1);
  const uint64_t batch = std::max<uint64_t>(options.batch, 1);
  for (uint64_t round = 0; samples[0].size() < options.samples; ++round) {
    for (size_t k = 0; k < n; ++k) {
      const size_t v = (k + round) % n;  // rotate who goes first
      const uint64_t take = std::min<uint64_t>(batch, options.samples - samples[v].size());
      for (uint64_t s = 0; s < take; ++s) {
        const DeviceCounts before = variants[v].counts ? variants[v].counts() : DeviceCounts{};
        const auto start = Clock::now();
        for (uint64_t j = 0; j < per_sample; ++j) variants[v].op(next_op[v]++);
        const auto stop = Clock::now();
        if (variants[v].counts) {
          const DeviceCounts after = variants[v].counts();
          device[v].flushes += after.flushes - before.flushes;
          device[v].writes += after.writes - before.writes;
          device[v].bytes_written += after.bytes_written - before.bytes_written;
        }
        samples[v].push_back(
            static_cast<double>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count()) /
            static_cast<double>(per_sample));
      }
    }
  }
  std::vector<Summary> out;
  for (size_t v = 0; v < n; ++v) {
    const uint64_t ops = samples[v].size() * per_sample;
    out.push_back(Summarize(std::move(samples[v]), ops));
    out.back().counted = static_cast<bool>(variants[v].counts);
    out.back().device = device[v];
  }
  return out;
}

namespace {

std::string Micros(double ns) {
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

std::string Rate(const Variant& v, const Summary& s) {
  char buf[32];
  if (s.mean_ns <= 0) return "-";
  if (v.bytes_per_op > 0) {
    double mib_s = static_cast<double>(v.bytes_per_op) / (1024.0 * 1024.0) / (s.mean_ns / 1e9);
    std::snprintf(buf, sizeof buf, "%.1f MiB/s", mib_s);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f op/s", 1e9 / s.mean_ns);
  }
  return buf;
}

std::string Ratio(double a, double b) {
  char buf[32];
  if (b <= 0) return "-";
  std::snprintf(buf, sizeof buf, "%.2fx", a / b);
  return buf;
}

}  // namespace

std::vector<Summary> RunAndPrint(const Section& section) {
  std::vector<Summary> summaries = RunInterleaved(section.variants, section.options);
  std::printf("\n## %s\n", section.title.c_str());
  if (!section.note.empty()) std::printf("%s\n", section.note.c_str());
  std::printf(
      "(%llu samples/variant, %llu op(s)/sample, %llu warmup ops, interleaved in batches of "
      "%llu)\n",
      static_cast<unsigned long long>(section.options.samples),
      static_cast<unsigned long long>(std::max<uint64_t>(section.options.ops_per_sample, 1)),
      static_cast<unsigned long long>(section.options.warmup_ops),
      static_cast<unsigned long long>(std::max<uint64_t>(section.options.batch, 1)));
  size_t name_width = 8;
  for (const Variant& v : section.variants) name_width = std::max(name_width, v.name.size() + 2);
  std::printf("%-*s %11s %11s %11s %16s %9s %10s %9s %9s\n", static_cast<int>(name_width),
              "variant", "median us", "p99 us", "mean us", "rate (mean)", "flush/op", "devKiB/op",
              "med/base", "p99/base");
  const Summary& base = summaries[0];
  for (size_t i = 0; i < summaries.size(); ++i) {
    const Summary& s = summaries[i];
    std::string name = section.variants[i].name + (i == 0 ? " *" : "");
    std::string flushes = "-", kib = "-";
    if (s.counted && s.ops > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(s.device.flushes) / s.ops);
      flushes = buf;
      std::snprintf(buf, sizeof buf, "%.1f",
                    static_cast<double>(s.device.bytes_written) / 1024.0 / s.ops);
      kib = buf;
    }
    std::printf("%-*s %11s %11s %11s %16s %9s %10s %9s %9s\n", static_cast<int>(name_width),
                name.c_str(), Micros(s.median_ns).c_str(), Micros(s.p99_ns).c_str(),
                Micros(s.mean_ns).c_str(), Rate(section.variants[i], s).c_str(), flushes.c_str(),
                kib.c_str(), Ratio(s.median_ns, base.median_ns).c_str(),
                Ratio(s.p99_ns, base.p99_ns).c_str());
  }
  for (const auto& [a, b] : section.extra_ratios) {
    std::printf("  ratio %s / %s: median %s, p99 %s\n", section.variants[a].name.c_str(),
                section.variants[b].name.c_str(),
                Ratio(summaries[a].median_ns, summaries[b].median_ns).c_str(),
                Ratio(summaries[a].p99_ns, summaries[b].p99_ns).c_str());
  }
  std::fflush(stdout);
  return summaries;
}

}  // namespace mdfs::bench
