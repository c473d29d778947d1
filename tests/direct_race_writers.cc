// The writers of file A in the MAP_DIRECT race (tests/direct_race.h): the
// fault guards, MAP_DIRECT mappings, pinned "DMA", io_uring fixed buffers
// and a remote-client-like layout holder.
#include <execinfo.h>
#include <fcntl.h>
#include <liburing.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <shared_mutex>
#include <thread>

#include "direct/map_direct_engine.h"
#include "direct_race.h"
#include "lease/leases.h"
#include "mdfs/map_direct.h"
#include "mdfs/uring_registration.h"

namespace mdfs::test::race {

namespace {

// volatile: the handler reads it, so the stores around a guarded loop must
// not be merged away.
thread_local sigjmp_buf* volatile t_fault_jump = nullptr;

void OnFault(int signo, siginfo_t* info, void*) {
  if (t_fault_jump != nullptr) {
    sigjmp_buf* const jump = t_fault_jump;
    t_fault_jump = nullptr;
    siglongjmp(*jump, 1);
  }
  // Not a guarded access: a real crash. Say where, then die of it.
  char text[96];
  const int n = std::snprintf(text, sizeof(text), "direct_race_test: signal %d at address %p\n",
                              signo, info->si_addr);
  if (n > 0) (void)!write(2, text, static_cast<size_t>(n));
  void* frames[32];
  backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigaction(signo, &fallback, nullptr);
  raise(signo);
}

}  // namespace

void InstallFaultHandlers() {
  struct sigaction action {};
  action.sa_sigaction = OnFault;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, nullptr);
  sigaction(SIGSEGV, &action, nullptr);
}

// Not instrumented by ThreadSanitizer: a revocation replaces the range
// (mmap) without waiting for the holder — by design — and TSan would report
// every store it interrupts. (TSan could not relate these addresses to the
// engine's own accesses of the same device bytes anyway: another mapping.)
__attribute__((noinline, no_sanitize("thread"))) bool GuardedStore(std::byte* dst,
                                                                   const uint8_t* src, size_t n) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) return false;
  t_fault_jump = &jump;
  volatile uint8_t* out = reinterpret_cast<volatile uint8_t*>(dst);
  for (size_t i = 0; i < n; ++i) out[i] = src[i];
  t_fault_jump = nullptr;
  return true;
}

__attribute__((noinline, no_sanitize("thread"))) bool GuardedLoad(uint8_t* dst,
                                                                  const std::byte* src, size_t n) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) != 0) return false;
  t_fault_jump = &jump;
  const volatile uint8_t* in = reinterpret_cast<const volatile uint8_t*>(src);
  for (size_t i = 0; i < n; ++i) dst[i] = in[i];
  t_fault_jump = nullptr;
  return true;
}

bool StillMapped(const std::vector<ExtentInfo>& recorded, const std::vector<ExtentInfo>& now,
                 uint64_t begin, uint64_t end, std::string* why) {
  for (const ExtentInfo& old_extent : recorded) {
    for (uint64_t at = 0; at < old_extent.length; at += kBlockSize) {
      const uint64_t file_offset = old_extent.file_offset + at;
      if (file_offset < begin || file_offset >= end) continue;
      const uint64_t device_offset = old_extent.device_offset + at;
      bool same = false;
      for (const ExtentInfo& e : now) {
        if (file_offset >= e.file_offset && file_offset < e.file_offset + e.length) {
          same = e.device_offset + (file_offset - e.file_offset) == device_offset;
          break;
        }
      }
      if (!same) {
        *why = "file offset " + std::to_string(file_offset) + " was at device offset " +
               std::to_string(device_offset) + " and is now elsewhere or unmapped";
        return false;
      }
    }
  }
  return true;
}

// --- MAP_DIRECT writers ------------------------------------------------------

namespace {
struct MappingSlot {
  std::shared_mutex writer;  // shared: a store batch; exclusive: the callbacks
  std::atomic<bool> recalled{false};
  std::atomic<bool> revoked{false};
};
}  // namespace

// A cooperative writer's on_recall waits (writer lock) for the store batch
// in flight, so the range is torn down between two batches. A stubborn
// writer's on_recall only sleeps — up to twice lease_break_time, blocking
// the breaker that delivers it — while the writer goes on storing until the
// range is torn down; when another breaker revokes the mapping meanwhile,
// its stores fault (SIGBUS) and are caught. Either way on_revoke waits for
// the batch in flight, so OnRevoke cannot return during one.
void Race::MapWriter(int id, bool stubborn) {
  Random random(knobs_.seed * 1000 + 100 + id);
  uint64_t counter = 0;
  std::vector<uint8_t> bytes(64 * kKiB), loaded(4 * kKiB);
  while (!stop.load()) {
    const uint64_t length = 16 * kKiB * random.Between(1, 16);
    const uint64_t offset = kBlockSize * random.Below((kMaxA - length) / kBlockSize);
    auto slot = std::make_shared<MappingSlot>();
    MapDirectOptions options;
    if (stubborn) {
      const auto patience = std::chrono::milliseconds(random.Below(2 * knobs_.break_ms + 1));
      options.on_recall = [slot, patience] {
        slot->recalled = true;
        std::this_thread::sleep_for(patience);
      };
    } else {
      options.on_recall = [slot] {
        slot->recalled = true;
        std::unique_lock lock(slot->writer);  // waits for the store batch in flight
      };
    }
    options.on_revoke = [slot] {
      slot->revoked = true;
      std::unique_lock lock(slot->writer);
    };
    auto mapped = MapDirect(fs_, leases_, a_, offset, length, PROT_READ | PROT_WRITE,
                            kMapDirectAllocate, options);
    if (!mapped.ok()) {
      if (mapped.status().code() == Code::kNoSpace) {
        counters.no_space.fetch_add(1);
      } else {
        UnexpectedStatus("map writer MapDirect", mapped.status());
      }
      counters.map_refusals.fetch_add(1);
      continue;
    }
    counters.maps.fetch_add(1);
    std::unique_ptr<DirectMapping> mapping = std::move(mapped).value();
    std::vector<ExtentInfo> recorded;
    const uint64_t rounds = random.Between(1, 200);
    for (uint64_t round = 0; !stop.load(); ++round) {
      if (round >= rounds && !(stubborn && slot->recalled)) break;
      std::shared_lock lock(slot->writer);
      if (slot->revoked || mapping->torn_down()) break;
      if (!stubborn && slot->recalled) break;
      if (recorded.empty()) {
        auto extents = fs_->GetExtents(a_, offset, length);
        if (!extents.ok()) {
          UnexpectedStatus("map writer GetExtents", extents.status());
          break;
        }
        recorded = *extents;
        MarkA(recorded);
        // Recorded before the first store: a teardown may have come first.
        if (mapping->torn_down()) break;
      }
      // Oracle 2: what the mapping shows is zeros or A bytes.
      const uint64_t at = kBlockSize * random.Below(length / kBlockSize);
      bool ok = GuardedLoad(loaded.data(), mapping->data() + at, loaded.size());
      size_t bad = 0;
      if (ok) {
        counters.map_loads.fetch_add(1, std::memory_order_relaxed);
        if (!IsABytes(loaded.data(), loaded.size(), &bad)) {
          failures.Add("map writer: A's mapping shows byte " + std::to_string(loaded[bad]) +
                       " (not written for A) at file offset " + std::to_string(offset + at + bad));
        }
        const uint64_t n = random.Between(1, std::min<uint64_t>(bytes.size(), length));
        const uint64_t to = random.Below(length - n + 1);
        std::fill_n(bytes.begin(), n, ATag(++counter));
        ok = GuardedStore(mapping->data() + to, bytes.data(), n);
        if (ok) {
          counters.map_stores.fetch_add(1, std::memory_order_relaxed);
          if (random.OneIn(16)) {
            Status persisted = mapping->Persist(mapping->data() + to, n);
            if (persisted.ok()) {
              counters.map_persists.fetch_add(1, std::memory_order_relaxed);
            } else if (persisted.code() != Code::kLeaseRevoked) {
              UnexpectedStatus("map writer Persist", persisted);
            }
          }
        }
      }
      if (!ok) {
        // Allowed only after a revocation (a cooperative writer is never
        // torn down during a batch; a stubborn one only by a revocation,
        // since a recall's teardown waits for its on_recall... and the
        // batch check above).
        (mapping->revoked() ? counters.faults_on_revoked : counters.faults_after_recall)
            .fetch_add(1);
        if (!mapping->revoked() && !(stubborn && mapping->torn_down())) {
          failures.Add("map writer: an access faulted on a mapping that was not revoked");
        }
        break;
      }
      // Oracle 3: inside the writer lock OnRevoke cannot return, and (for a
      // cooperative writer) no recall can tear the range down.
      if (round % 8 == 0) {
        const bool valid_before = !mapping->torn_down() || mapping->revoked();
        auto context = [&] {
          return std::string(stubborn ? "stubborn" : "cooperative") + " writer; mapping " +
                 (mapping->revoked()     ? "revoked (its OnRevoke waits for this batch)"
                  : mapping->torn_down() ? "recalled"
                                         : "live") +
                 "; " + LayoutStateOf(mapping->layout());
        };
        if (valid_before) {
          auto now = fs_->GetExtents(a_, offset, length);
          std::string why;
          counters.extent_checks.fetch_add(1, std::memory_order_relaxed);
          // A stubborn writer's range may have been recalled, torn down and
          // released since the check began: only a revoked or live one counts.
          const bool still_valid = !mapping->torn_down() || mapping->revoked();
          if (now.ok() && still_valid &&
              !StillMapped(recorded, *now, offset, offset + length, &why)) {
            failures.Add("map writer: blocks of a live grant of A moved or were freed: " + why +
                         "; " + context());
          }
        }
      }
    }
    if (slot->recalled) counters.mappings_recalled.fetch_add(1);
    if (mapping->revoked()) counters.mappings_revoked.fetch_add(1);
    mapping.reset();  // unmaps; waits for a callback still running
  }
}

// --- pinned "DMA" -------------------------------------------------------------

// Writes A bytes to the written extents of `extents` inside [offset, +length).
void Race::WriteExtents(const std::vector<ExtentInfo>& extents, uint64_t offset, uint64_t length,
                        std::vector<uint8_t>& bytes) {
  for (const ExtentInfo& e : extents) {
    if (e.flags & kExtentUnwritten) continue;
    const uint64_t begin = std::max(e.file_offset, offset);
    const uint64_t end = std::min(e.file_offset + e.length, offset + length);
    if (begin >= end) continue;
    Status written =
        DmaWrite(e.device_offset + (begin - e.file_offset),
                 std::span(reinterpret_cast<const std::byte*>(bytes.data()), end - begin));
    if (!written.ok()) UnexpectedStatus("pin writer device Write", written);
    counters.pinned_writes.fetch_add(1, std::memory_order_relaxed);
  }
}

void Race::PinWriter(int id) {
  Random random(knobs_.seed * 1000 + 200 + id);
  uint64_t counter = 0;
  std::vector<uint8_t> bytes(256 * kKiB);
  // Self-tests only: a device with stale scatter lists, each used again
  // 50 ms after it was read without a pin (by then breakers have moved
  // many of those blocks, and B may have been given them).
  struct Stale {
    std::chrono::steady_clock::time_point read_at;
    std::vector<ExtentInfo> extents;
    uint64_t offset, length;
  };
  std::deque<Stale> stale;
  while (!stop.load()) {
    const uint64_t length = random.Between(1, 64) * kBlockSize;
    const uint64_t offset = random.Below(kMaxA - length);
    PinId pin = 0;
    if (!knobs_.unpinned_dma) {
      auto pinned = leases_->Pin(a_, offset, length);
      if (!pinned.ok()) {
        UnexpectedStatus("pin writer Pin", pinned.status());
        continue;
      }
      pin = *pinned;
      counters.pins.fetch_add(1, std::memory_order_relaxed);
    }
    auto extents = fs_->GetExtents(a_, offset, length);
    if (!extents.ok()) {
      UnexpectedStatus("pin writer GetExtents", extents.status());
    } else {
      MarkA(*extents);
      std::fill(bytes.begin(), bytes.end(), ATag(++counter));
      if (knobs_.unpinned_dma) {
        stale.push_back({std::chrono::steady_clock::now(), *extents, offset, length});
        if (std::chrono::steady_clock::now() - stale.front().read_at >
            std::chrono::milliseconds(50)) {
          WriteExtents(stale.front().extents, stale.front().offset, stale.front().length, bytes);
          if (knobs_.pin_ownership_check) {
            CheckStillMapped("pin writer", stale.front().extents, stale.front().offset,
                             stale.front().offset + stale.front().length);
          }
          stale.pop_front();
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      } else {
        WriteExtents(*extents, offset, length, bytes);
        CheckStillMapped("pin writer", *extents, offset, offset + length);
      }
    }
    if (pin != 0) {
      Status unpinned = leases_->Unpin(pin);
      if (!unpinned.ok()) UnexpectedStatus("pin writer Unpin", unpinned);
    }
  }
}

// --- io_uring fixed buffers ---------------------------------------------------

namespace {
int OpenScratch() {
  int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
  if (fd < 0) {
    char path[] = "/tmp/mdfs-race-XXXXXX";
    fd = mkstemp(path);
    if (fd >= 0) unlink(path);
  }
  return fd;
}
}  // namespace

void Race::UringWriter(int id) {
  Random random(knobs_.seed * 1000 + 300 + id);
  io_uring ring;
  if (int error = io_uring_queue_init(8, &ring, 0); error < 0) {
    failures.Add("io_uring_queue_init: " + std::string(std::strerror(-error)));
    return;
  }
  const int source = OpenScratch(), sink = OpenScratch();
  std::vector<uint8_t> bytes(64 * kKiB);
  uint64_t counter = 0, user_data = 0;
  auto run = [&](bool read, int fd, std::byte* address, unsigned n, int index) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (read) {
      io_uring_prep_read_fixed(sqe, fd, address, n, 0, index);
    } else {
      io_uring_prep_write_fixed(sqe, fd, address, n, 0, index);
    }
    sqe->user_data = user_data;
    if (io_uring_submit(&ring) != 1) return -EIO;
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&ring, &cqe) < 0) return -EIO;
    const int result = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    return result;
  };
  while (!stop.load() && source >= 0 && sink >= 0) {
    const uint64_t length = 64 * kKiB * random.Between(1, 4);
    const uint64_t offset = kBlockSize * random.Below((kMaxA - length) / kBlockSize);
    auto mapped =
        MapDirect(fs_, leases_, a_, offset, length, PROT_READ | PROT_WRITE, kMapDirectAllocate, {});
    if (!mapped.ok()) {
      if (mapped.status().code() == Code::kNoSpace) {
        counters.no_space.fetch_add(1);
      } else {
        UnexpectedStatus("io_uring writer MapDirect", mapped.status());
      }
      continue;
    }
    counters.maps.fetch_add(1);
    std::unique_ptr<DirectMapping> mapping = std::move(mapped).value();
    const bool halves = random.OneIn(2);
    std::vector<iovec> iovecs;
    if (halves) {
      iovecs = {{mapping->data(), length / 2}, {mapping->data() + length / 2, length / 2}};
    } else {
      iovecs = {{mapping->data(), length}};
    }
    auto registered = UringBufferRegistration::Register(leases_, *mapping, &ring, iovecs);
    if (!registered.ok()) {
      counters.registration_refusals.fetch_add(1);
      if (registered.status().code() != Code::kLeaseRevoked) {
        UnexpectedStatus("io_uring Register", registered.status());
      }
      continue;
    }
    counters.registrations.fetch_add(1);
    std::unique_ptr<UringBufferRegistration> registration = std::move(registered).value();
    std::vector<ExtentInfo> recorded;
    const uint64_t operations = random.Between(1, 100);
    for (uint64_t op = 0; op < operations && !stop.load(); ++op) {
      ++user_data;
      if (!registration->BeginFixedIo(user_data).ok()) break;
      // Counted: the registration cannot finish its teardown before
      // EndFixedIo, so the blocks are still A's.
      if (recorded.empty()) {
        auto extents = fs_->GetExtents(a_, offset, length);
        if (extents.ok()) {
          recorded = *extents;
          MarkA(recorded);
        }
      }
      const int index = static_cast<int>(random.Below(iovecs.size()));
      const uint64_t span = iovecs[index].iov_len;
      const unsigned n =
          static_cast<unsigned>(random.Between(1, std::min<uint64_t>(span, bytes.size())));
      std::byte* at = static_cast<std::byte*>(iovecs[index].iov_base) + random.Below(span - n + 1);
      const bool read = random.OneIn(2);
      if (read) {
        std::fill_n(bytes.begin(), n, ATag(++counter));
        if (pwrite(source, bytes.data(), n, 0) != static_cast<ssize_t>(n)) {
          failures.Add("io_uring writer: pwrite of the source file failed");
        }
      }
      const int result = run(read, read ? source : sink, at, n, index);
      if (result == static_cast<int>(n)) {
        (read ? counters.uring_reads : counters.uring_writes).fetch_add(1);
        if (!read) {
          // Oracle 2: what left A's blocks is zeros or A bytes.
          if (pread(sink, bytes.data(), n, 0) != static_cast<ssize_t>(n)) {
            failures.Add("io_uring writer: pread of the sink file failed");
          }
          size_t bad = 0;
          if (!IsABytes(bytes.data(), n, &bad)) {
            failures.Add("io_uring WRITE_FIXED out of A's blocks carried byte " +
                         std::to_string(bytes[bad]) + " (not written for A)");
          }
        }
      } else if (result == -ECANCELED || result == -EINTR) {
        counters.uring_cancelled.fetch_add(1);
      } else if (result == -EFAULT && !registration->registered()) {
        // Submitted after a teardown (which found it not yet submitted, so
        // could not cancel it) had unregistered the table: refused.
        counters.uring_refused_mid_teardown.fetch_add(1);
      } else {
        failures.Add("io_uring fixed " + std::string(read ? "read" : "write") + " of " +
                     std::to_string(n) + " bytes returned " + std::to_string(result));
      }
      if (!recorded.empty()) CheckStillMapped("io_uring writer", recorded, offset, offset + length);
      registration->EndFixedIo(user_data);
    }
    if (!registration->registered()) {
      counters.uring_teardowns.fetch_add(1);
      // Once the teardown finished, the kernel refuses the old buffer index.
      while (!registration->torn_down()) std::this_thread::yield();
      ++user_data;
      const int result = run(true, source, mapping->data(), 4096, 0);
      if (result == -EFAULT) {
        counters.uring_refused_after.fetch_add(1);
      } else {
        failures.Add("a fixed read after the teardown returned " + std::to_string(result) +
                     " instead of -EFAULT");
      }
    } else {
      counters.uring_unregistered_by_user.fetch_add(1);
    }
    registration.reset();
    mapping.reset();
  }
  if (source >= 0) close(source);
  if (sink >= 0) close(sink);
  io_uring_queue_exit(&ring);
}

// --- a layout grant, as a client's map_blocks would take it ----------------

bool Race::GrantLayout(const char* who, LayoutHolder& holder, uint64_t offset, uint64_t length,
                       LayoutId* layout, std::vector<ExtentInfo>* extents) {
  for (;;) {
    bool would_block = false;
    Status status = GateOf(fs_)->PrepareDirectAccess(
        a_, offset, length, kDirectAllocate,
        [&](const Attributes&, const std::vector<ExtentInfo>& given) -> Status {
          auto id_or = leases_->GrantLocked(&holder, a_, offset, length, LayoutMode::kReadWrite);
          if (!id_or.ok()) {
            would_block = id_or.status().code() == Code::kWouldBlock;
            return id_or.status();
          }
          *layout = *id_or;
          *extents = given;
          return Status::Ok();
        });
    if (status.ok()) return true;
    if (!would_block) {
      if (status.code() == Code::kNoSpace) {
        counters.no_space.fetch_add(1);
      } else {
        UnexpectedStatus((std::string(who) + " PrepareDirectAccess").c_str(), status);
      }
      return false;
    }
    Status waited = leases_->WaitForRange(a_, offset, length);
    if (!waited.ok()) UnexpectedStatus((std::string(who) + " WaitForRange").c_str(), waited);
  }
}

// --- a remote-client-like layout holder --------------------------------------

namespace {
class RemoteHolder : public LayoutHolder {
 public:
  explicit RemoteHolder(int id) : id_(id) {}
  void OnRecall(const LayoutInfo&) override { recalled = true; }
  void OnRevoke(const LayoutInfo&) override {
    fencing = true;             // no new device write starts
    std::unique_lock lock(io);  // waits for the device write in flight: fenced after it
    stopped = true;
    revoked = true;
  }
  std::string Describe() const override { return "race remote client " + std::to_string(id_); }

  std::shared_mutex io;
  bool stopped = false;  // guarded by io
  std::atomic<bool> recalled{false}, revoked{false}, fencing{false};

 private:
  const int id_;
};
}  // namespace

void Race::RemoteClient(int id) {
  Random random(knobs_.seed * 1000 + 400 + id);
  uint64_t counter = 0;
  std::vector<uint8_t> bytes(128 * kKiB);
  while (!stop.load()) {
    RemoteHolder holder(id);
    const uint64_t length = 64 * kKiB * random.Between(1, 8);
    const uint64_t offset = kBlockSize * random.Below((kMaxA - length) / kBlockSize);
    LayoutId layout = 0;
    std::vector<ExtentInfo> extents;
    const bool granted = GrantLayout("remote client", holder, offset, length, &layout, &extents);
    if (!granted) continue;
    counters.remote_grants.fetch_add(1);
    MarkA(extents);
    // After a recall: keep "committing" until a deadline, sometimes past
    // lease_break_time (then the lease manager revokes).
    const auto patience = std::chrono::milliseconds(random.Below(2 * knobs_.break_ms + 1));
    std::chrono::steady_clock::time_point recalled_at{};
    const uint64_t rounds = random.Between(1, 100);
    bool self_broke = false;
    bool reported = false;  // one failure per grant
    for (uint64_t round = 0; !stop.load(); ++round) {
      if (holder.recalled) {
        if (recalled_at == std::chrono::steady_clock::time_point{}) {
          recalled_at = std::chrono::steady_clock::now();
        }
        if (std::chrono::steady_clock::now() - recalled_at >= patience) break;
      } else if (round >= rounds) {
        break;
      }
      {
        std::shared_lock lock(holder.io);
        if (holder.stopped || holder.fencing) break;
        // One "DMA" into an extent of the layout, in two halves with an
        // ownership check between them: OnRevoke cannot return meanwhile.
        const ExtentInfo& e = extents[random.Below(extents.size())];
        const uint64_t begin = std::max(e.file_offset, offset);
        const uint64_t end = std::min(e.file_offset + e.length, offset + length);
        const uint64_t n = std::min<uint64_t>(end - begin, bytes.size());
        std::fill_n(bytes.begin(), n, ATag(++counter));
        const uint64_t device_at = e.device_offset + (begin - e.file_offset);
        Status written =
            DmaWrite(device_at, std::span(reinterpret_cast<const std::byte*>(bytes.data()), n / 2));
        if (written.ok() && !reported) {
          reported = !CheckStillMapped("remote client", extents, offset, offset + length, [&] {
            return LayoutStateOf(layout) + "; the holder has released nothing and its OnRevoke " +
                   "has not returned (it waits for this write)" +
                   (holder.recalled ? "; recalled" : "; not recalled") +
                   " [the lease-manager bug of ASecondBreakerWaitsForTheRevocationOfTheFirst, "
                   "fixed in a7ff40f: another breaker proceeded during a revocation]";
          });
          written = DmaWrite(
              device_at + n / 2,
              std::span(reinterpret_cast<const std::byte*>(bytes.data()) + n / 2, n - n / 2));
        }
        if (!written.ok()) UnexpectedStatus("remote client device Write", written);
        counters.remote_writes.fetch_add(1, std::memory_order_relaxed);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(random.Below(300)));
      if (!self_broke && random.OneIn(256)) {
        // A self-breaker: its own overlapping layout is revoked at once.
        self_broke = true;
        BreakScope scope(BreakOptions{.nonblocking = false, .self = &holder});
        const uint64_t punch_at = offset + kBlockSize * random.Below(length / kBlockSize);
        Status punched =
            fs_->Fallocate(a_, kFallocatePunchHole | kFallocateKeepSize, punch_at, kBlockSize);
        if (!punched.ok()) UnexpectedStatus("remote client self-punch", punched);
        // Revoked at once, unless the punched block lay past a new end of
        // file (nothing to change there, so nothing was recalled).
        if (holder.revoked) counters.remote_self_breaks.fetch_add(1);
      }
    }
    bool give_back;
    {
      std::unique_lock lock(holder.io);
      give_back = !holder.stopped;
      holder.stopped = true;
    }
    if (give_back) {
      Status released = leases_->Release(layout);
      if (released.ok()) {
        counters.remote_released.fetch_add(1);
      } else if (released.code() != Code::kNotFound) {  // revoked meanwhile
        UnexpectedStatus("remote client Release", released);
      }
    }
    if (holder.revoked) counters.remote_revoked.fetch_add(1);
    if (holder.recalled && !self_broke) counters.remote_recalled.fetch_add(1);
    leases_->ReleaseHolder(&holder);  // nothing left; waits for a callback still running
  }
}

}  // namespace mdfs::test::race
