// mdfs demo [IMAGE]: the whole MAP_DIRECT cycle on an image, step by step —
// map a file range onto the device's own blocks, store and Persist records
// through it, truncate the file from another thread (recall: the holder's
// callback stops the writer, the range is torn down), show that the old
// range now raises SIGBUS, then read the persisted records back and fsck.
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "command.h"
#include "direct/map_direct_engine.h"
#include "help.h"
#include "lease/leases.h"
#include "mdfs/fsck.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "output.h"
#include "size_parse.h"

namespace mdfs::cli {
namespace {

constexpr size_t kRecordBytes = 64;
constexpr uint64_t kMinRecords = 128;  // 8 KiB: the truncate point is at least one block

// One log record: what the writer stores through the mapping. 64 bytes,
// one cache line; the checksum covers the first 56.
struct Record {
  char magic[8];
  uint64_t sequence;
  int64_t written_ns;  // steady clock, for the curious
  char text[32];
  uint64_t checksum;
};
static_assert(sizeof(Record) == kRecordBytes);
constexpr char kRecordMagic[8] = {'M', 'D', 'F', 'S', 'L', 'O', 'G', '1'};

uint64_t Fnv1a(const void* data, size_t length) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < length; ++i) hash = (hash ^ p[i]) * 0x100000001b3ull;
  return hash;
}

Record MakeRecord(uint64_t sequence, int64_t now_ns) {
  Record r{};
  std::memcpy(r.magic, kRecordMagic, sizeof(r.magic));
  r.sequence = sequence;
  r.written_ns = now_ns;
  std::snprintf(r.text, sizeof(r.text), "log record %llu",
                static_cast<unsigned long long>(sequence));
  r.checksum = Fnv1a(&r, offsetof(Record, checksum));
  return r;
}

// Whether `bytes` hold record `sequence` intact.
bool IsRecord(const std::byte* bytes, uint64_t sequence) {
  Record r;
  std::memcpy(&r, bytes, sizeof(r));
  return std::memcmp(r.magic, kRecordMagic, sizeof(r.magic)) == 0 && r.sequence == sequence &&
         r.checksum == Fnv1a(&r, offsetof(Record, checksum));
}

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

long ThreadId() { return static_cast<long>(::syscall(SYS_gettid)); }

// "42 us", "3.1 ms", "1.25 s".
std::string Duration(int64_t ns) {
  char text[32];
  if (ns < 1'000) {
    std::snprintf(text, sizeof(text), "%lld ns", static_cast<long long>(ns));
  } else if (ns < 10'000) {
    std::snprintf(text, sizeof(text), "%.1f us", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000) {
    std::snprintf(text, sizeof(text), "%.0f us", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(text, sizeof(text), "%.1f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(text, sizeof(text), "%.2f s", static_cast<double>(ns) / 1e9);
  }
  return text;
}

std::string Address(const void* p) {
  char text[32];
  std::snprintf(text, sizeof(text), "%p", p);
  return text;
}

std::string ByteRange(uint64_t offset, uint64_t length) {
  auto bytes = [](uint64_t n) { return n == 0 ? std::string("0") : HumanBytes(n); };
  return "[" + bytes(offset) + ", " + bytes(offset + length) + ")";
}

// What Persist() does in each mode, honestly.
std::string PersistenceExplanation(PersistenceMode mode) {
  switch (mode) {
    case PersistenceMode::kCpuCache:
      return "the mapping is in the persistence domain (device-dax, or fs-dax mapped with\n"
             "MAP_SYNC): Persist() = cache-line write-back + store fence, no system call.";
    case PersistenceMode::kMsync:
      return "the image is an ordinary file mapped shared, not persistent memory:\n"
             "Persist() = msync(MS_SYNC) of the record's page, one system call per record;\n"
             "the record is durable when it returns. (cpu-cache mode needs device-dax or\n"
             "fs-dax with MAP_SYNC.)";
    case PersistenceMode::kFdatasync:
      return "the image was opened with pread/pwrite (--access pread) and the range mapped\n"
             "shared: Persist() = msync(MS_SYNC) of the record's page, one system call per\n"
             "record; durable when it returns.";
    case PersistenceMode::kVolatile:
      return "the image lives in memory (tmpfs, memfd): Persist() only orders the stores\n"
             "(store fence); nothing survives a reboot, whatever is flushed.";
  }
  return "";
}

struct DemoArgs {
  std::string image = "mdfs-demo.img";
  std::string size = "256M";
  std::string path = "/map-demo.log";
  std::string length = "1M";
  uint64_t records = 1024;
};

HelpPage DemoHelp() {
  return {
      "demo",
      "run the MAP_DIRECT cycle on an image: map, persist, recall, truncate",
      "mdfs [--access pread|mmap] demo [IMAGE] [--size SIZE] [--path PATH]\n"
      "          [--length LENGTH] [--records N]",
      "Demonstrates, in one process and step by step with timings, what mdfs\n"
      "is for: direct, revocable access to file blocks.\n"
      "\n"
      " 1. image: IMAGE (default mdfs-demo.img) is created with --size and\n"
      "    formatted when it does not exist; an existing mdfs image is reused.\n"
      " 2. create: PATH (default /map-demo.log) is created (replaced if it\n"
      "    exists).\n"
      " 3. map_direct: MapDirect of [0, LENGTH) with PROT_READ|PROT_WRITE and\n"
      "    kMapDirectAllocate: every block is allocated, zeroed and durable in\n"
      "    metadata before it returns; the mapping holds a layout lease whose\n"
      "    on_recall callback stops the writer.\n"
      " 4. persist: a writer thread stores 64-byte records through the\n"
      "    mapping and Persist()s each one; the persistence mode in force is\n"
      "    printed and explained (msync on an ordinary image file, volatile on\n"
      "    tmpfs, cpu-cache only on device-dax or fs-dax with MAP_SYNC).\n"
      " 5. a second, read-only mapping of the part below the truncate point.\n"
      " 6. truncate: after N records another thread truncates the file to\n"
      "    half of what was written: the overlapping layout is recalled (the\n"
      "    callback runs on the truncating thread and stops the writer), the\n"
      "    range is torn down, the layout released, the blocks freed. The\n"
      "    layout listing (like /proc/locks) is shown before, during and after,\n"
      "    with the recall latency.\n"
      " 7. SIGBUS: forked children touch the old range and die of SIGBUS;\n"
      "    Persist() on it fails with \"lease revoked\".\n"
      " 8. the read-only mapping, which did not overlap the truncated range,\n"
      "    was not recalled: its records are read through it.\n"
      " 9. verify: the image is closed and opened again; every record\n"
      "    persisted below the new size reads back intact (FileSystem::Read).\n"
      "10. fsck: the image is checked.\n"
      "\n"
      "The image is opened with --access mmap (the DAX path) unless --access\n"
      "pread is given. The demo's file stays in the image afterwards.",
      "0   every step worked and every check passed\n"
      "1   a step failed or a check did not hold (the error is printed on\n"
      "    stderr): IMAGE is not an mdfs image, no space, a record did not\n"
      "    read back, no SIGBUS, fsck found problems\n"
      "2   usage error: unknown option, unparsable number, --records too\n"
      "    small or not below LENGTH / 64",
      "# The README's first command runs this after building:\n"
      "mdfs demo\n"
      "# A fresh image elsewhere, with a 4 MiB mapping and 2048 records:\n"
      "mdfs demo /tmp/demo.img --size 64M --length 4M --records 2048\n"
      "# On a device-dax device (cpu-cache persistence), formatted first:\n"
      "mdfs --access mmap mkfs /dev/dax0.0 --force\n"
      "mdfs demo /dev/dax0.0",
  };
}

// The state the writer, the recall callback and the main thread share.
struct WriterState {
  std::mutex mu;
  std::condition_variable changed;
  bool stop_requested = false;         // set by on_recall
  bool stopped = false;                // set by the writer when it left its loop
  std::atomic<uint64_t> persisted{0};  // records stored and persisted
  Status error;                        // a failed Persist
  std::vector<int64_t> persist_ns;     // per record, written by the writer only
  long tid = 0;
  int64_t stopped_at_ns = 0;
};

// What on_recall saw.
struct RecallState {
  std::atomic<bool> ran{false};
  long tid = 0;
  int64_t entered_ns = 0;
  int64_t writer_stopped_ns = 0;
  int64_t returned_ns = 0;
  std::vector<LayoutInfo> layouts;  // during the recall
};

class Demo {
 public:
  Demo(const DemoArgs& args, const GlobalOptions& globals) : args_(args), globals_(globals) {}
  int Run();

 private:
  // Step helpers: print "[n] name" and the details; return false after
  // printing the error.
  void Step(const std::string& name, const std::string& headline);
  void Detail(const std::string& text);
  bool Fail(const std::string& what, const Status& status);
  bool Check(bool ok, const std::string& what, const std::string& failure);

  bool ParseArgs();
  bool OpenOrCreateImage();
  bool CreateFile();
  bool MapWritable();
  bool WriteRecords();
  bool MapReadOnly();
  bool TruncateWhileWriting();
  bool ShowSigbus();
  bool ReadThroughSurvivor();
  bool CloseReopenVerify();
  bool Fsck();

  void Writer();
  void OnRecall();
  void PrintLayouts(const std::vector<LayoutInfo>& layouts);
  void PrintExtents();
  // Forks a child that touches `address` (a store when `store`); returns
  // the signal it died of (0: it did not die of one).
  int TouchInChild(std::byte* address, bool store);

  const DemoArgs& args_;
  const GlobalOptions& globals_;
  uint64_t size_bytes_ = 0;
  uint64_t map_length_ = 0;
  uint64_t new_size_ = 0;
  Access access_ = Access::kMmap;
  int step_ = 0;
  int64_t start_ns_ = 0;

  // Declared in the order of dependence: destroyed mappings first, then
  // the lease manager, the file system, the device.
  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<LeaseManager> leases_;
  std::unique_ptr<DirectMapping> writable_;
  std::unique_ptr<DirectMapping> readable_;
  InodeNumber ino_ = 0;
  std::string path_;

  WriterState writer_;
  std::thread writer_thread_;
  RecallState recall_;
  long truncate_tid_ = 0;
  uint64_t persisted_before_truncate_ = 0;
  uint64_t persisted_total_ = 0;
  int64_t truncate_start_ns_ = 0;
  int64_t truncate_done_ns_ = 0;
  Status truncate_status_;
};

void Demo::Step(const std::string& name, const std::string& headline) {
  ++step_;
  char label[64];
  std::snprintf(label, sizeof(label), "[%d] %s (at %s): ", step_, name.c_str(),
                Duration(NowNs() - start_ns_).c_str());
  std::cout << "\n" << label << headline << "\n";
}

void Demo::Detail(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) std::cout << "    " << line << "\n";
}

bool Demo::Fail(const std::string& what, const Status& status) {
  std::cout.flush();
  ReportError("demo", what, status);
  return false;
}

bool Demo::Check(bool ok, const std::string& what, const std::string& failure) {
  if (ok) return true;
  std::cout.flush();
  ReportMessage("demo", what + ": " + failure, kExitFailure);
  return false;
}

bool Demo::ParseArgs() {
  auto size = ParseSize(args_.size);
  auto length = ParseSize(args_.length);
  for (const auto* parsed : {&size, &length}) {
    if (!parsed->ok()) {
      ReportMessage("demo", parsed->status().message(), kExitUsage);
      return false;
    }
  }
  size_bytes_ = *size;
  map_length_ = (*length + kBlockSize - 1) / kBlockSize * kBlockSize;
  if (args_.records < kMinRecords) {
    ReportMessage("demo",
                  "--records " + std::to_string(args_.records) + " is too small: at least " +
                      std::to_string(kMinRecords) + " (8 KiB of records)",
                  kExitUsage);
    return false;
  }
  if (map_length_ == 0 || args_.records >= map_length_ / kRecordBytes) {
    ReportMessage("demo",
                  "--records " + std::to_string(args_.records) +
                      " must be below LENGTH / 64 = " + std::to_string(map_length_ / kRecordBytes) +
                      " so that the writer is still running when the truncate comes",
                  kExitUsage);
    return false;
  }
  // The truncate point: half of what was written before it, whole blocks.
  new_size_ = args_.records * kRecordBytes / 2 / kBlockSize * kBlockSize;
  access_ = globals_.access_given ? globals_.access_mode() : Access::kMmap;
  return true;
}

bool Demo::OpenOrCreateImage() {
  int64_t begin = NowNs();
  struct stat st {};
  bool exists = ::stat(args_.image.c_str(), &st) == 0;
  Step("image", args_.image);
  if (!exists) {
    FileDeviceOptions options;
    options.create = true;
    options.create_size = size_bytes_;
    auto device = OpenImageDevice(args_.image, access_, options);
    if (!device.ok()) return Fail(args_.image, device.status());
    Status formatted = FileSystem::Format(device->get());
    if (!formatted.ok()) {
      device->reset();
      ::unlink(args_.image.c_str());
      return Fail(args_.image, formatted);
    }
    device->reset();
    Detail("did not exist: created (" + HumanBytes(size_bytes_) + ") and formatted");
  }
  auto image = OpenImage(args_.image, access_, /*read_only=*/false);
  if (!image.ok()) {
    const Status& status = image.status();
    return Fail(
        args_.image,
        Status(status.code(), status.message() + "; the demo leaves it alone: give another IMAGE"));
  }
  device_ = std::move(image->device);
  fs_ = std::move(image->fs);
  auto leases = LeaseManager::Attach(fs_.get());
  if (!leases.ok()) return Fail("attach the lease manager", leases.status());
  leases_ = std::move(leases).value();
  if (exists) Detail("exists: opened the mdfs file system in it");
  Detail("device: " + device_->Describe() + "; lease break time " +
         LeaseBreakTimeString(leases_->lease_break_time_ms()));
  Detail("a lease manager is attached: from now on every block-map change recalls the");
  Detail("layouts that overlap it first; took " + Duration(NowNs() - begin));
  return true;
}

bool Demo::CreateFile() {
  path_ = NormalizePath(args_.path);
  PathParts parts = SplitPath(path_);
  Step("create", path_);
  if (parts.name.empty()) return Fail(path_, InvalidArgument("not a file name"));
  auto parent = fs_->LookupPath(parts.parent);
  if (!parent.ok()) return Fail(parts.parent, parent.status());
  auto old = fs_->Lookup(parent->ino, parts.name);
  if (old.ok()) {
    if ((old->mode & S_IFMT) != S_IFREG) {
      return Fail(path_, InvalidArgument("exists and is not a regular file; give another --path"));
    }
    Status removed = fs_->Unlink(parent->ino, parts.name);
    if (!removed.ok()) return Fail(path_, removed.WithContext("removing the old demo file"));
    Detail("existed: removed the previous demo file");
  }
  auto created = fs_->Create(parent->ino, parts.name, S_IFREG | 0644, ::getuid(), ::getgid());
  if (!created.ok()) return Fail(path_, created.status());
  ino_ = created->ino;
  Detail("inode " + std::to_string(ino_) + ", 0 bytes, no blocks");
  return true;
}

void Demo::PrintExtents() {
  auto extents = fs_->GetExtents(ino_);
  if (!extents.ok()) {
    Detail("(extents: " + extents.status().ToString() + ")");
    return;
  }
  std::ostringstream table_text;
  Table table({"FILE_RANGE", "DEVICE_OFFSET", "FLAGS"}, {1});
  for (const ExtentInfo& e : *extents) {
    std::string flags = ExtentFlagsString(e.flags);
    table.AddRow({ByteRange(e.file_offset, e.length), std::to_string(e.device_offset),
                  flags.empty() ? "written" : flags});
  }
  table.Print(table_text);
  Detail(table_text.str());
}

void Demo::PrintLayouts(const std::vector<LayoutInfo>& layouts) {
  if (layouts.empty()) {
    Detail("  (no layouts)");
    return;
  }
  std::ostringstream table_text;
  Table table({"ID", "HOLDER", "FILE", "RANGE", "MODE", "STATE", "AGE"}, {0});
  for (const LayoutInfo& l : layouts) {
    std::string file = l.ino == ino_ ? path_ : "inode " + std::to_string(l.ino);
    std::string state = LayoutStateName(l.state);
    if (l.state == LayoutState::kRecalling) state += " for " + Duration(l.recalling_for_ns);
    table.AddRow({std::to_string(l.id), l.holder, file, ByteRange(l.offset, l.length),
                  LayoutModeName(l.mode), state, Duration(l.age_ns)});
  }
  table.Print(table_text);
  std::istringstream in(table_text.str());
  std::string line;
  while (std::getline(in, line)) Detail("  " + line);
}

bool Demo::MapWritable() {
  Step("map_direct",
       path_ + " " + ByteRange(0, map_length_) + ", PROT_READ|PROT_WRITE, kMapDirectAllocate");
  MapDirectOptions options;
  options.on_recall = [this] { OnRecall(); };
  int64_t begin = NowNs();
  auto mapping = MapDirect(fs_.get(), leases_.get(), ino_, 0, map_length_, PROT_READ | PROT_WRITE,
                           kMapDirectAllocate, std::move(options));
  int64_t took = NowNs() - begin;
  if (!mapping.ok()) return Fail(path_, mapping.status().WithContext("map_direct"));
  writable_ = std::move(mapping).value();
  auto attributes = fs_->GetAttributes(ino_);
  if (!attributes.ok()) return Fail(path_, attributes.status());
  Detail("mapped at " + Address(writable_->data()) + " in " + Duration(took) +
         ": the pages are the device's own blocks (no copy,");
  Detail("no page cache of ours). Before MapDirect returned, the file grew to " +
         HumanBytes(attributes->size) + " and every");
  Detail("block of the range was allocated, zeroed and made durable in metadata, so stores");
  Detail("need no metadata update. Extents:");
  PrintExtents();
  Detail("layout " + std::to_string(writable_->layout()) +
         " (rw) is held by the mapping; its on_recall callback stops the writer");
  return true;
}

void Demo::Writer() {
  writer_.tid = ThreadId();
  std::byte* base = writable_->data();
  const uint64_t slots = writable_->size() / kRecordBytes;
  writer_.persist_ns.reserve(slots);
  for (uint64_t i = 0; i < slots; ++i) {
    {
      std::lock_guard lock(writer_.mu);
      if (writer_.stop_requested) break;
    }
    Record record = MakeRecord(i, NowNs());
    std::byte* slot = base + i * kRecordBytes;
    int64_t begin = NowNs();
    std::memcpy(slot, &record, sizeof(record));  // a plain store through the mapping
    Status status = writable_->Persist(slot, kRecordBytes);
    writer_.persist_ns.push_back(NowNs() - begin);
    if (!status.ok()) {
      std::lock_guard lock(writer_.mu);
      writer_.error = status;
      break;
    }
    writer_.persisted.store(i + 1, std::memory_order_release);
    writer_.changed.notify_all();
  }
  std::lock_guard lock(writer_.mu);
  writer_.stopped = true;
  writer_.stopped_at_ns = NowNs();
  writer_.changed.notify_all();
}

// Runs on the truncating thread, with no lock of the engine or the lease
// manager held: stop the writer, wait until it stopped, return. The
// mapping then tears the range down and releases the layout.
void Demo::OnRecall() {
  recall_.entered_ns = NowNs();
  recall_.tid = ThreadId();
  recall_.layouts = leases_->ListLayouts();
  std::unique_lock lock(writer_.mu);
  writer_.stop_requested = true;
  writer_.changed.wait(lock, [this] { return writer_.stopped; });
  recall_.writer_stopped_ns = NowNs();
  recall_.returned_ns = NowNs();
  recall_.ran.store(true);
}

bool Demo::WriteRecords() {
  Step("persist", "mode " + std::string(PersistenceModeName(writable_->persistence_mode())));
  Detail(PersistenceExplanation(writable_->persistence_mode()));
  writer_thread_ = std::thread([this] { Writer(); });
  // Wait until the writer persisted --records records (or stopped early).
  std::unique_lock lock(writer_.mu);
  int64_t begin = NowNs();
  writer_.changed.wait(
      lock, [this] { return writer_.stopped || writer_.persisted.load() >= args_.records; });
  int64_t took = NowNs() - begin;
  uint64_t done = writer_.persisted.load();
  if (done < args_.records) {
    lock.unlock();
    writer_thread_.join();
    if (!writer_.error.ok()) return Fail("persist", writer_.error);
    return Check(false, "persist",
                 "the writer stopped after " + std::to_string(done) + " of " +
                     std::to_string(args_.records) + " records");
  }
  std::vector<int64_t> samples(writer_.persist_ns.begin(), writer_.persist_ns.begin() + done);
  lock.unlock();
  std::sort(samples.begin(), samples.end());
  auto percentile = [&](double p) {
    return samples[std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()))];
  };
  Detail("writer thread (tid " + std::to_string(writer_.tid) +
         "): record i (64 bytes) is stored at file offset 64*i through");
  Detail("the mapping, then Persist(record, 64); it goes on until it is told to stop.");
  Detail(std::to_string(done) + " records persisted in " + Duration(took) +
         "; store + Persist: " + "median " + Duration(percentile(0.5)) + ", p99 " +
         Duration(percentile(0.99)) + ", max " + Duration(samples.back()));
  return true;
}

bool Demo::MapReadOnly() {
  Step("map (read)", path_ + " " + ByteRange(0, new_size_) +
                         ", PROT_READ: a second layout, below the truncate point");
  int64_t begin = NowNs();
  auto mapping = MapDirect(fs_.get(), leases_.get(), ino_, 0, new_size_, PROT_READ, 0);
  int64_t took = NowNs() - begin;
  if (!mapping.ok()) return Fail(path_, mapping.status().WithContext("map_direct (read)"));
  readable_ = std::move(mapping).value();
  Detail("mapped at " + Address(readable_->data()) + " in " + Duration(took) +
         " (nothing to allocate). Layouts, like /proc/locks:");
  PrintLayouts(leases_->ListLayouts());
  return true;
}

bool Demo::TruncateWhileWriting() {
  Step("truncate", "Truncate(" + path_ + ", " + HumanBytes(new_size_) +
                       ") from another thread, while the writer runs");
  std::thread truncater([this] {
    long tid = ThreadId();
    truncate_tid_ = tid;
    truncate_start_ns_ = NowNs();
    truncate_status_ = fs_->Truncate(ino_, new_size_);
    truncate_done_ns_ = NowNs();
  });
  truncater.join();
  writer_thread_.join();
  persisted_total_ = writer_.persisted.load();
  if (!truncate_status_.ok()) return Fail(path_, truncate_status_.WithContext("truncate"));
  if (!writer_.error.ok()) return Fail("persist", writer_.error);
  if (!Check(recall_.ran.load(), "recall", "on_recall never ran: the layout was not recalled")) {
    return false;
  }
  auto since = [this](int64_t ns) { return "+" + Duration(ns - truncate_start_ns_); };
  Detail("truncating thread (tid " + std::to_string(truncate_tid_) + ") calls Truncate");
  Detail(since(recall_.entered_ns) + "  on_recall runs, on the truncating thread (tid " +
         std::to_string(recall_.tid) + "); layouts then:");
  PrintLayouts(recall_.layouts);
  if (writer_.stopped_at_ns < recall_.entered_ns) {
    Detail(since(recall_.writer_stopped_ns) + "  the writer had already filled the range (" +
           std::to_string(persisted_total_) + " records) and ended; on_recall returns;");
  } else {
    Detail(since(recall_.writer_stopped_ns) + "  the writer (tid " + std::to_string(writer_.tid) +
           ") stopped; it persisted records 0.." + std::to_string(persisted_total_ - 1) +
           "; on_recall returns;");
  }
  Detail("          the mapping tears the range down (SIGBUS from now on), releases the layout");
  Detail(since(truncate_done_ns_) + "  Truncate returned OK: the blocks past " +
         HumanBytes(new_size_) + " are freed");
  Detail("recall latency " + Duration(recall_.entered_ns - truncate_start_ns_) +
         " (Truncate called -> on_recall running); writer stopped " +
         Duration(recall_.writer_stopped_ns - recall_.entered_ns) + " later;");
  Detail("the whole truncate took " + Duration(truncate_done_ns_ - truncate_start_ns_) + ".");
  Detail("layouts after the truncate:");
  std::vector<LayoutInfo> after = leases_->ListLayouts();
  PrintLayouts(after);
  bool writable_gone = std::none_of(after.begin(), after.end(), [this](const LayoutInfo& l) {
    return l.id == writable_->layout();
  });
  bool readable_kept = readable_ && !readable_->torn_down() &&
                       std::any_of(after.begin(), after.end(), [this](const LayoutInfo& l) {
                         return l.id == readable_->layout();
                       });
  if (!Check(writable_gone && writable_->torn_down(), "recall",
             "the rw layout is still listed after the truncate")) {
    return false;
  }
  Detail(readable_kept ? "the read layout " + ByteRange(0, new_size_) +
                             " does not overlap the truncated range: not recalled."
                       : "the read layout was recalled too (the recall is not range-precise)");
  Detail("extents now:");
  PrintExtents();
  return true;
}

int Demo::TouchInChild(std::byte* address, bool store) {
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGBUS, SIG_DFL);
    ::signal(SIGSEGV, SIG_DFL);
    volatile std::byte* p = address;
    if (store) {
      *p = std::byte{0x42};
    } else {
      std::byte value = *p;
      (void)value;
    }
    ::_exit(0);
  }
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

bool Demo::ShowSigbus() {
  Step("SIGBUS", "the old range is guarded: touching it faults, as in the kernel");
  struct Touch {
    uint64_t offset;
    bool store;
  };
  uint64_t last = (persisted_total_ - 1) * kRecordBytes;
  bool ok = true;
  for (const Touch& t : {Touch{0, false}, Touch{last, true}}) {
    std::byte* address = writable_->data() + t.offset;
    int signal = TouchInChild(address, t.store);
    std::string what = std::string("a forked child that ") +
                       (t.store ? "stores to " : "loads from ") + Address(address) +
                       " (file offset " + std::to_string(t.offset) +
                       (t.offset < new_size_ ? ", below" : ", past") + " the new end)";
    if (signal == SIGBUS) {
      Detail(what + " died of SIGBUS");
    } else {
      Detail(what + (signal > 0 ? " died of signal " + std::to_string(signal) + " (" +
                                      strsignal(signal) + "), not SIGBUS"
                                : " did not fault"));
      ok = false;
    }
  }
  Status persist = writable_->Persist(writable_->data(), kRecordBytes);
  Detail("Persist() on the old mapping fails:");
  Detail("  " + persist.ToString());
  if (!Check(ok, "SIGBUS", "the old range did not raise SIGBUS")) return false;
  return Check(!persist.ok(), "persist after recall", "Persist() on the old range succeeded");
}

bool Demo::ReadThroughSurvivor() {
  Step("read map", "the read-only mapping still works");
  if (!readable_ || readable_->torn_down()) {
    Detail("it was recalled with the other: nothing to read through it");
    return true;
  }
  uint64_t slots = readable_->size() / kRecordBytes;
  uint64_t intact = 0;
  for (uint64_t i = 0; i < slots; ++i) {
    if (IsRecord(readable_->data() + i * kRecordBytes, i)) ++intact;
  }
  Detail("records 0.." + std::to_string(slots - 1) + " read through it at " +
         Address(readable_->data()) + ": " + std::to_string(intact) + " of " +
         std::to_string(slots) + " intact");
  return Check(intact == slots, "read map", "records read through the read-only mapping differ");
}

bool Demo::CloseReopenVerify() {
  Step("verify", "close everything, open the image again, read the records back");
  int64_t begin = NowNs();
  readable_.reset();
  writable_.reset();
  LeaseManager::Counters counters = leases_->counters();
  leases_.reset();
  fs_.reset();
  device_.reset();
  auto image = OpenImage(args_.image, Access::kPread, /*read_only=*/true);
  if (!image.ok()) return Fail(args_.image, image.status().WithContext("reopen"));
  auto attributes = image->fs->LookupPath(path_);
  if (!attributes.ok()) return Fail(path_, attributes.status());
  std::vector<std::byte> bytes(attributes->size);
  auto n = image->fs->Read(attributes->ino, 0, bytes);
  if (!n.ok()) return Fail(path_, n.status());
  uint64_t expected = new_size_ / kRecordBytes;  // every one was persisted before the truncate
  uint64_t intact = 0;
  for (uint64_t i = 0; i < expected && (i + 1) * kRecordBytes <= *n; ++i) {
    if (IsRecord(bytes.data() + i * kRecordBytes, i)) ++intact;
  }
  Detail("lease manager counters: " + std::to_string(counters.granted) + " granted, " +
         std::to_string(counters.recalled) + " recalled, " + std::to_string(counters.released) +
         " released, " + std::to_string(counters.revoked) + " revoked");
  Detail("reopened " + args_.image + " (pread, read-only): " + path_ + " is " +
         std::to_string(attributes->size) + " bytes");
  Detail("FileSystem::Read of records 0.." + std::to_string(expected - 1) +
         " (all persisted records below the new size): " + std::to_string(intact) + " of " +
         std::to_string(expected) + " intact");
  Detail("records " + std::to_string(expected) + ".." + std::to_string(persisted_total_ - 1) +
         " lay past the new size: gone with their blocks; took " + Duration(NowNs() - begin));
  if (!Check(attributes->size == new_size_, "verify",
             "the file is " + std::to_string(attributes->size) + " bytes, not " +
                 std::to_string(new_size_))) {
    return false;
  }
  return Check(intact == expected, "verify",
               std::to_string(expected - intact) + " persisted records did not read back");
}

bool Demo::Fsck() {
  Step("fsck", args_.image);
  int64_t begin = NowNs();
  FileDeviceOptions options;
  options.read_only = true;
  auto device = OpenFileDevice(args_.image, options);
  if (!device.ok()) return Fail(args_.image, device.status());
  auto report = CheckFileSystem(device->get());
  if (!report.ok()) return Fail(args_.image, report.status());
  for (const FsckProblem& p : report->problems) {
    Detail(p.check + " " + p.where + ": " + p.message);
  }
  Detail(std::to_string(report->inodes_in_use) + " inodes, " +
         std::to_string(report->blocks_in_use) +
         " blocks in use; journal: " + report->journal_state);
  Detail(std::string(report->clean()
                         ? "clean"
                         : std::to_string(report->problems.size()) + " problems found") +
         "; took " + Duration(NowNs() - begin));
  return Check(report->clean(), "fsck", "the image has problems");
}

int Demo::Run() {
  if (!ParseArgs()) return kExitUsage;
  start_ns_ = NowNs();
  std::cout << "mdfs demo: the MAP_DIRECT cycle on " << args_.image
            << ": map, persist, recall, truncate\n";
  bool ok = OpenOrCreateImage() && CreateFile() && MapWritable() && WriteRecords() &&
            MapReadOnly() && TruncateWhileWriting() && ShowSigbus() && ReadThroughSurvivor() &&
            CloseReopenVerify() && Fsck();
  if (writer_thread_.joinable()) {
    {
      std::lock_guard lock(writer_.mu);
      writer_.stop_requested = true;
    }
    writer_thread_.join();
  }
  if (!ok) return kExitFailure;
  std::cout << "\nmdfs demo: OK: mapped " << HumanBytes(map_length_) << ", persisted "
            << persisted_total_ << " records, recalled in "
            << Duration(recall_.entered_ns - truncate_start_ns_) << ", truncated to "
            << HumanBytes(new_size_) << ", " << new_size_ / kRecordBytes
            << " records verified, fsck clean (" << Duration(NowNs() - start_ns_) << ")\n";
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App& app, const GlobalOptions& globals, std::vector<Command>& out) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* sub = AddCommandWithHelp(app, DemoHelp());
  sub->add_option("IMAGE", args->image,
                  "the image (default mdfs-demo.img); created and formatted if absent");
  sub->add_option("--size", args->size, "size of a new image (default 256M)")->option_text("SIZE");
  sub->add_option("--path", args->path, "the demo file inside the image (default /map-demo.log)")
      ->option_text("PATH");
  sub->add_option("--length", args->length, "length of the writable mapping (default 1M)")
      ->option_text("LENGTH");
  sub->add_option("--records", args->records,
                  "records persisted before the truncate (default 1024; at least 128, below "
                  "LENGTH / 64)")
      ->option_text("N");
  out.push_back({sub, [args, &globals] {
                   Demo demo(*args, globals);
                   return demo.Run();
                 }});
}

}  // namespace mdfs::cli
