// 3. Recall round trip: the time a breaker takes to recall the layouts of N
// holders and get them back, against the kernel's own lease break measured
// in the same run (bench/direct_kernel_lease.h: N child processes holding
// F_RDLCK leases, the parent's open(O_WRONLY) breaking them).
//
// The mdfs breaker is a punch (fallocate PUNCH_HOLE|KEEP_SIZE) of a 64 KiB
// range on the memory device, timed by the breaker; the holders are N
// MapDirect mappings of that range, re-created (untimed) before each break.
// Two kinds of holder: on_recall returns at once (the mapping then tears the
// range down and releases), or on_recall hands the recall to the holder's
// own thread and waits until that thread acknowledges (a futex round trip
// per holder, as the kernel wakes each holder process). The same punch
// with no holder, and the same open with no lease, are measured too, so the
// recall's own cost is the difference of the medians.
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <thread>

#include "direct_bench.h"
#include "direct_kernel_lease.h"
#include "direct_table.h"

namespace mdfs::bench::direct {

namespace {

constexpr uint64_t kRecallRange = 64 * kKiB;

// A 32-bit futex word: Wait(seen) sleeps while it still holds `seen`.
// (A raw futex rather than std::atomic::wait, whose libstdc++ 12 version
// spins and backs off before it sleeps, so the handoff measures the kernel
// wakeup, as the kernel lease rows do.)
struct FutexWord {
  std::atomic<uint32_t> value{0};
  void Wait(uint32_t seen) {
    while (value.load() == seen) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&value), FUTEX_WAIT_PRIVATE, seen, nullptr,
              nullptr, 0);
    }
  }
  void Store(uint32_t v) {
    value.store(v);
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&value), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
            0);
  }
};
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

// A thread per holder that "stops its I/O" when the breaker asks: the
// breaker's on_recall stores a sequence number and sleeps until the holder's
// thread, woken by it, stores the number back.
class HolderThreads {
 public:
  explicit HolderThreads(int count) : holders_(count) {
    for (Holder& holder : holders_) {
      holder.thread = std::thread([&holder] {
        uint32_t seen = 0;
        for (;;) {
          holder.request.Wait(seen);
          seen = holder.request.value.load();
          if (seen == kStop) return;
          holder.done.Store(seen);
        }
      });
    }
  }
  ~HolderThreads() {
    for (Holder& holder : holders_) {
      holder.request.Store(kStop);
      holder.thread.join();
    }
  }
  HolderThreads(const HolderThreads&) = delete;
  HolderThreads& operator=(const HolderThreads&) = delete;

  // On the breaker's thread: hand holder k the recall, wait for its answer.
  void Recall(int k) {
    Holder& holder = holders_[k];
    const uint32_t previous = holder.done.value.load();
    const uint32_t sequence = previous + 1 == kStop ? 1 : previous + 1;
    holder.request.Store(sequence);
    holder.done.Wait(previous);
  }

 private:
  static constexpr uint32_t kStop = UINT32_MAX;
  struct Holder {
    FutexWord request, done;
    std::thread thread;
  };
  std::vector<Holder> holders_;
};

// The system call an mdfs teardown makes per recalled mapping (its range is
// replaced with mmap(MAP_FIXED), src/direct/virtual_range.cc): `count`
// untouched 64 KiB mappings of `memfd` replaced that way, timed together.
double ReplaceMappings(const Memfd& memfd, int count) {
  std::vector<void*> mappings;
  for (int k = 0; k < count; ++k) {
    void* p = mmap(nullptr, kRecallRange, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.fd(), 0);
    CheckErrno(p != MAP_FAILED, "mmap memfd");
    mappings.push_back(p);
  }
  const int64_t start = NowNs();
  for (void* p : mappings) {
    CheckErrno(
        mmap(p, kRecallRange, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == p,
        "mmap MAP_FIXED");
  }
  const int64_t stop = NowNs();
  for (void* p : mappings) munmap(p, kRecallRange);
  return static_cast<double>(stop - start);
}

void CreateLeaseFile(const std::string& path) {
  // Closed again at once: a read lease needs the file not to be open for writing.
  PlainFile file(path, kPage);
}

// Maps [0, kRecallRange) of `ino` `count` times (the first mapping allocates
// the range the previous punch left a hole), punches it, checks that every
// mapping was recalled and torn down. Returns the punch's time.
double PunchUnderHolders(MdfsTarget& memory, InodeNumber ino, int count, HolderThreads* threads) {
  auto recalled = std::make_shared<std::atomic<int>>(0);
  std::vector<std::unique_ptr<DirectMapping>> mappings;
  for (int k = 0; k < count; ++k) {
    MapDirectOptions options;
    options.on_recall = [recalled, threads, k] {
      if (threads) threads->Recall(k);
      recalled->fetch_add(1);
    };
    mappings.push_back(
        memory.Map(ino, 0, kRecallRange, k == 0 ? kMapDirectAllocate : 0, std::move(options)));
  }
  if (count == 0) memory.Map(ino, 0, kRecallRange, kMapDirectAllocate).reset();
  const int64_t start = NowNs();
  memory.Punch(ino, 0, kRecallRange);
  const int64_t stop = NowNs();
  if (recalled->load() != count) {
    Fail("recall", std::to_string(recalled->load()) + " of " + std::to_string(count) +
                       " holders heard on_recall");
  }
  for (const auto& mapping : mappings) {
    if (!mapping->torn_down()) Fail("recall", "a recalled mapping is not torn down");
  }
  return static_cast<double>(stop - start);
}

void RecallTable(Env& env, int count, const std::string& number, const std::string& lease_path) {
  auto holders = std::make_shared<KernelLeaseHolders>(lease_path, count);
  auto no_lease = std::make_shared<KernelLeaseHolders>(lease_path, 0);
  holders->Acquire();
  const int seen = CountLeasesInProcLocks(lease_path);
  holders->Break();
  const std::string n = std::to_string(count);

  Table t;
  t.title = number + ". Recall round trip, " + n + " holder" + (count == 1 ? "" : "s") +
            " (one op = one break, holders re-created untimed before each)";
  t.notes = {"kernel: " + n + " child process(es) hold F_RDLCK leases on a " + env.host +
             " file and F_UNLCK on SIGIO (sigwaitinfo); the parent's open(O_WRONLY) "
             "returns when all are gone (" +
             std::to_string(seen) + " lease(s) seen in /proc/locks while held)"};
  t.rows = {
      {"kernel open(O_WRONLY) breaking " + n + " lease(s)", "-", nullptr,
       [holders](uint64_t) {
         holders->Acquire();
         return holders->Break();
       }},
      {"kernel open(O_WRONLY), no lease", "-", nullptr,
       [no_lease](uint64_t) { return no_lease->Break(); }},
  };
  MdfsTarget* memory = env.memory.get();
  const InodeNumber ino_direct = memory->CreateFile(), ino_threads = memory->CreateFile(),
                    ino_none = memory->CreateFile();
  auto threads = std::make_shared<HolderThreads>(count);
  t.notes.push_back("mdfs: punch (PUNCH_HOLE|KEEP_SIZE) of 64 KiB on " + memory->describe +
                    " under " + n +
                    " MapDirect mapping(s) of the range; breaker, callbacks and release on one "
                    "thread unless 'holder threads'");
  t.rows.push_back({"mdfs punch, " + n + " MapDirect holder(s)", "-", nullptr, [=](uint64_t) {
                      return PunchUnderHolders(*memory, ino_direct, count, nullptr);
                    }});
  t.rows.push_back(
      {"mdfs punch, " + n + " holder(s) + holder threads", "-", nullptr,
       [=](uint64_t) { return PunchUnderHolders(*memory, ino_threads, count, threads.get()); }});
  t.rows.push_back({"mdfs punch, no holder", "-", nullptr,
                    [=](uint64_t) { return PunchUnderHolders(*memory, ino_none, 0, nullptr); }});
  t.extra_ratios = {{2, 4}};
  auto ref_threads = std::make_shared<HolderThreads>(count);
  t.rows.push_back({"ref: " + n + " x futex handoff to a thread and back", "-", nullptr,
                    [ref_threads, count](uint64_t) {
                      const int64_t start = NowNs();
                      for (int k = 0; k < count; ++k) ref_threads->Recall(k);
                      return static_cast<double>(NowNs() - start);
                    }});
  auto memfd = std::make_shared<Memfd>(kRecallRange, /*touch=*/true);
  t.rows.push_back({"ref: " + n + " x mmap(MAP_FIXED) over a 64 KiB mapping", "-", nullptr,
                    [memfd, count](uint64_t) { return ReplaceMappings(*memfd, count); }});
  t.warmup_ops = env.p.quick ? 1 : 10;
  t.samples = env.p.iterations;
  t.batch = 10;
  auto s = RunTable(t);
  const double kernel_net = s[0].median_ns - s[1].median_ns;
  std::printf("  recall cost (median with holders - median without): kernel %s us",
              FormatMicros(kernel_net).c_str());
  const double mdfs_net = s[2].median_ns - s[4].median_ns;
  const double threads_net = s[3].median_ns - s[4].median_ns;
  std::printf(", mdfs %s us (%s of the kernel's), mdfs with holder threads %s us (%s)\n",
              FormatMicros(mdfs_net).c_str(), FormatRatio(mdfs_net, kernel_net).c_str(),
              FormatMicros(threads_net).c_str(), FormatRatio(threads_net, kernel_net).c_str());
  env.AddHeadline("recall " + n + " holder(s): mdfs punch under holders / kernel lease break",
                  FormatRatio(s[2].median_ns, s[0].median_ns));
  env.AddHeadline("recall " + n + " holder(s), net of the breaker without holders: mdfs / kernel",
                  FormatRatio(mdfs_net, kernel_net) + " (" + FormatMicros(mdfs_net) + " vs " +
                      FormatMicros(kernel_net) + " us)");
  env.AddHeadline("recall " + n + " holder(s) with holder threads, net: mdfs / kernel",
                  FormatRatio(threads_net, kernel_net) + " (" + FormatMicros(threads_net) + " us)");
  env.AddHeadline("kernel lease break, " + n + " holder(s): median",
                  FormatMicros(s[0].median_ns) + " us (open without lease " +
                      FormatMicros(s[1].median_ns) + " us)");
  std::fflush(stdout);
}

}  // namespace

void RunRecall(Env& env) {
  const std::string lease_path = env.base + ".lease";
  CreateLeaseFile(lease_path);
  char number = 'a';
  for (int count : env.p.holders) RecallTable(env, count, std::string("3") + number++, lease_path);
}

}  // namespace mdfs::bench::direct
