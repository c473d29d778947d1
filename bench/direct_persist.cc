// 1. Durable 64 B and 4 KiB updates: a store through a MAP_DIRECT mapping +
// DirectMapping::Persist, against the host's ways of making the same update
// durable (pwrite + fdatasync, mmap + store + msync) and against PMDK's
// pmem_persist on the same memory as the mdfs mapping.
//
// Two tables per size. On the disk (an image file on the host file system)
// the baseline is pwrite + fdatasync. On memory (CreateMemoryDevice, a memfd)
// the baseline is pmem_persist: there nothing is durable, and the table shows
// what the cpu-cache path costs in CPU, next to the flush-free store.
#include <libpmem.h>
#include <sys/mman.h>

#include <cstring>
#include <memory>

#include "direct/map_direct_engine.h"
#include "direct_bench.h"
#include "direct_table.h"

#include "device/cache_flush.h"

namespace mdfs::bench::direct {

namespace {

constexpr uint64_t kRegion = kMiB;  // each row's updates rotate over 256 blocks of it
constexpr uint64_t kRegionBlocks = kRegion / kPage;
constexpr uint64_t kSmallUpdate = 64;
constexpr uint64_t kSmallInBlock = 128;  // a 64 B update: bytes 128..191 of its block (one line)
constexpr uint64_t kMemoryOpsPerSample = 16;

uint64_t UpdateOffset(uint64_t size, uint64_t i) {
  return (i % kRegionBlocks) * kPage + (size == kPage ? 0 : kSmallInBlock);
}

std::string SizeName(uint64_t size) { return size == kPage ? "4 KiB" : "64 B"; }

// The store of update i: `size` bytes, the first 8 of them = i.
void Store(std::byte* region, AlignedBuffer& source, uint64_t size, uint64_t i) {
  std::memcpy(region + UpdateOffset(size, i), source.Stamped(i, size).data(), size);
  ClobberMemory();
}

void MsyncPageOf(std::byte* region, uint64_t size, uint64_t i) {
  const uint64_t page = UpdateOffset(size, i) & ~(kPage - 1);
  CheckErrno(msync(region + page, kPage, MS_SYNC) == 0, "msync");
}

void DiskTable(Env& env, uint64_t size, const std::string& number) {
  const std::string tag = std::to_string(size);
  auto source = std::make_shared<AlignedBuffer>(kPage);
  auto pwrite_file = std::make_shared<PlainFile>(env.base + ".pwrite" + tag, kRegion);
  auto mmap_file = std::make_shared<PlainFile>(env.base + ".mmap" + tag, kRegion);
  std::byte* mmap_region = mmap_file->Map();

  Table t;
  t.title = number + ". Durable " + SizeName(size) + " update on the " + env.host +
            " disk (one op = store or write + flush)";
  t.notes = {
      "each row rotates over 256 blocks of its own written 1 MiB region; a 64 B update "
      "is one cache line at byte 128 of a block; msync and Persist cover the update's page "
      "or bytes"};
  t.rows = {
      {env.H("pwrite+fdatasync"), "fdatasync: durable",
       [=](uint64_t i) {
         PwriteAll(pwrite_file->fd(), source->Stamped(i, size).data(), size, UpdateOffset(size, i));
         FdatasyncOrFail(pwrite_file->fd());
       },
       nullptr},
      {env.H("mmap+store+msync(MS_SYNC)"), "msync: durable",
       [=](uint64_t i) {
         Store(mmap_region, *source, size, i);
         MsyncPageOf(mmap_region, size, i);
       },
       nullptr},
  };
  // One mapping of a new 2 MiB file (MapDirect allocates and zeroes it):
  // the mdfs row uses its first MiB, the pmem_persist row its second (the
  // same memory, not the same cache lines).
  MdfsTarget& image = *env.image;
  std::shared_ptr<DirectMapping> mapping =
      image.Map(image.CreateFile(), 0, 2 * kRegion, kMapDirectAllocate);
  std::byte* mdfs_region = mapping->data();
  std::byte* pmem_region = mapping->data() + kRegion;
  PreFault(mapping->data(), 2 * kRegion);  // as the host rows' MAP_POPULATE mappings
  t.notes.push_back("mdfs: MapDirect(kMapDirectAllocate) of a new 2 MiB file of mdfs on " +
                    image.describe + "; Persist mode " +
                    PersistenceModeName(mapping->persistence_mode()));
  // On cpu-cache the op is a few instructions, timed 16 per sample as the
  // pmem_persist row is (one clock read per op would weigh as much as it).
  const bool cpu_cache = mapping->persistence_mode() == PersistenceMode::kCpuCache;
  t.rows.push_back({"mdfs MAP_DIRECT store+Persist (image)",
                    MappingDurability(mapping->persistence_mode()),
                    [=](uint64_t i) {
                      Store(mdfs_region, *source, size, i);
                      Check(mapping->Persist(mdfs_region + UpdateOffset(size, i), size),
                            "DirectMapping::Persist");
                    },
                    nullptr, cpu_cache ? kMemoryOpsPerSample : 1});
  t.rows.push_back({"store+pmem_persist on that mdfs mapping",
                    CacheFlushDurability(mapping->persistence_mode()),
                    [=](uint64_t i) {
                      Store(pmem_region, *source, size, i);
                      pmem_persist(pmem_region + UpdateOffset(size, i), size);
                    },
                    nullptr, kMemoryOpsPerSample});
  // The engine's own durable update on the same file system: Write into
  // written blocks + Fsync (a journal commit), as in mdfs_bench_engine.
  const InodeNumber written = image.CreateWrittenFile(kRegion, AlignedBuffer(kMiB));
  FileSystem* fs = image.fs.get();
  t.rows.push_back(
      {"mdfs Write+Fsync (image, engine API)", "mdfs Fsync: durable",
       [=](uint64_t i) {
         Check(fs->Write(written, UpdateOffset(size, i), source->Stamped(i, size)).status(),
               "mdfs Write");
         Check(fs->Fsync(written), "mdfs Fsync");
       },
       nullptr});
  t.extra_ratios = {{2, 1}, {2, 4}, {3, 0}};
  t.warmup_ops = env.p.quick ? 1 : 25;
  t.samples = env.p.iterations;
  t.batch = 10;
  auto s = RunTable(t);
  const size_t pmem_row = 3;
  env.AddHeadline(SizeName(size) + " durable update, mdfs MAP_DIRECT+Persist / mdfs Write+Fsync",
                  FormatRatio(s[2].median_ns, s[4].median_ns));
  env.AddHeadline(SizeName(size) + " durable update, mdfs MAP_DIRECT+Persist (image, " +
                      PersistenceModeName(mapping->persistence_mode()) + ") / " +
                      env.H("pwrite+fdatasync"),
                  FormatRatio(s[2].median_ns, s[0].median_ns));
  env.AddHeadline(SizeName(size) + " durable update, mdfs MAP_DIRECT+Persist (image) / " +
                      env.H("mmap+store+msync"),
                  FormatRatio(s[2].median_ns, s[1].median_ns));
  env.AddHeadline(SizeName(size) + " update, " + env.H("mmap+store+msync / pwrite+fdatasync"),
                  FormatRatio(s[1].median_ns, s[0].median_ns));
  env.AddHeadline(SizeName(size) + " update, store+pmem_persist on the image mapping (" +
                      CacheFlushDurability(mapping->persistence_mode()) + ") / " +
                      env.H("pwrite+fdatasync"),
                  FormatRatio(s[pmem_row].median_ns, s[0].median_ns));
  env.AddHeadline(SizeName(size) +
                      " durable update, mdfs MAP_DIRECT+Persist (image) / "
                      "store+pmem_persist on the same mapping",
                  FormatRatio(s[2].median_ns, s[pmem_row].median_ns));
}

void MemoryTable(Env& env, uint64_t size, const std::string& number) {
  auto source = std::make_shared<AlignedBuffer>(kPage);
  constexpr int kRows = 5;  // each row updates its own 1 MiB region of the same memory
  Table t;
  t.title = number + ". " + SizeName(size) + " update + persist on memory (one op = store + flush)";
  t.notes = {
      "nothing on this machine is persistent memory: every row here is NOT durable; the "
      "table is the CPU cost of each way to persist, on the same memory"};
  MdfsTarget& memory = *env.memory;
  std::shared_ptr<DirectMapping> mapping =
      memory.Map(memory.CreateFile(), 0, kRows * kRegion, kMapDirectAllocate);
  std::byte* base = mapping->data();
  const std::string where = "mdfs mapping";
  PreFault(base, kRows * kRegion);
  t.notes.push_back(
      "all rows store into one MapDirect(kMapDirectAllocate) mapping of a new file of mdfs on " +
      memory.describe + " (Persist mode " + PersistenceModeName(mapping->persistence_mode()) +
      "); mdfs's own cache-line flush: " +
      device_internal::CacheFlushInstructionName(device_internal::BestCacheFlushInstruction()) +
      " + sfence");
  auto region = [base](int row) { return base + row * kRegion; };
  t.rows.push_back({"store+pmem_persist (" + where + ")", "cpu cache of DRAM: NOT durable",
                    [=](uint64_t i) {
                      Store(region(0), *source, size, i);
                      pmem_persist(region(0) + UpdateOffset(size, i), size);
                    },
                    nullptr, kMemoryOpsPerSample});
  t.rows.push_back(
      {"mdfs MAP_DIRECT store+Persist (memory)", MappingDurability(mapping->persistence_mode()),
       [=](uint64_t i) {
         Store(region(1), *source, size, i);
         Check(mapping->Persist(region(1) + UpdateOffset(size, i), size), "DirectMapping::Persist");
       },
       nullptr, kMemoryOpsPerSample});
  t.rows.push_back({"store+mdfs PersistCacheLines (cpu-cache Persist)",
                    "cpu cache of DRAM: NOT durable",
                    [=](uint64_t i) {
                      Store(region(2), *source, size, i);
                      device_internal::PersistCacheLines(region(2) + UpdateOffset(size, i), size);
                    },
                    nullptr, kMemoryOpsPerSample});
  t.rows.push_back({"store+msync(MS_SYNC) (" + where + ")", "msync of memfd: NOT durable",
                    [=](uint64_t i) {
                      Store(region(3), *source, size, i);
                      MsyncPageOf(region(3), size, i);
                    },
                    nullptr, kMemoryOpsPerSample});
  t.rows.push_back({"store only (" + where + ")", "none: NOT durable",
                    [=](uint64_t i) { Store(region(4), *source, size, i); }, nullptr,
                    kMemoryOpsPerSample});
  t.warmup_ops = env.p.quick ? 1 : 25 * kMemoryOpsPerSample;
  t.samples = env.p.iterations;
  t.batch = 10;
  auto s = RunTable(t);
  env.AddHeadline(SizeName(size) + " on memory, mdfs Persist (" +
                      PersistenceModeName(mapping->persistence_mode()) + ") / pmem_persist",
                  FormatRatio(s[1].median_ns, s[0].median_ns));
  env.AddHeadline(SizeName(size) + " on memory, mdfs PersistCacheLines / pmem_persist",
                  FormatRatio(s[2].median_ns, s[0].median_ns));
  env.AddHeadline(SizeName(size) + " on memory, store only / store+pmem_persist",
                  FormatRatio(s.back().median_ns, s[0].median_ns));
}

}  // namespace

void RunPersist(Env& env) {
  DiskTable(env, kSmallUpdate, "1a");
  MemoryTable(env, kSmallUpdate, "1b");
  DiskTable(env, kPage, "1c");
  MemoryTable(env, kPage, "1d");
}

}  // namespace mdfs::bench::direct
