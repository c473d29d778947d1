// 2. Mapped sequential read and write bandwidth through a DirectMapping
// against plain memcpy on the same memory (the DESIGN.md target: within 5%).
//
// A written file of --bandwidth-mib is mapped with MapDirect; the baseline
// copies the same device bytes (from GetExtents) through another mapping of
// the same memory: the memory device's own mapping (mapped_base()), or a
// plain mmap of the image file (its page cache). The other side of every
// copy is a private buffer of the same size, so each pass streams through
// both. One op copies one 1 MiB chunk, in file order; a pass is the whole
// file.
#include <fcntl.h>
#include <libpmem.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "direct_bench.h"
#include "direct_table.h"

namespace mdfs::bench::direct {

namespace {

// Small enough that most copies run without being preempted on a loaded
// machine (16 MiB ops were preempted often enough here to move medians),
// large enough for the clock not to matter.
constexpr uint64_t kChunk = 1 * kMiB;

struct Chunking {
  uint64_t total = 0, chunk = 0, chunks = 0;
};

Chunking ChunkingFor(const Params& p) {
  Chunking c;
  c.total = p.bandwidth_mib * kMiB;
  c.chunk = std::min(kChunk, c.total);
  c.chunks = c.total / c.chunk;
  return c;
}

// A range of bytes that is the same memory through two mappings: `direct`
// (file order) and `pieces` (device order) of the baseline mapping.
struct SameMemory {
  std::byte* direct = nullptr;
  std::vector<std::vector<std::pair<std::byte*, uint64_t>>> pieces;  // per chunk
};

// Tables `numbers[0]` (read) and `numbers[1]` (write). `copy_persist`, if
// set, adds the non-temporal copy rows to the write table.
void RunPair(Env& env, const SameMemory& memory, const std::string& where,
             const std::string (&numbers)[2], const std::string& note,
             const std::function<Status(void*, const void*, size_t)>& copy_persist) {
  const bool with_copy_persist = static_cast<bool>(copy_persist);
  const Chunking c = ChunkingFor(env.p);
  auto other = std::make_shared<AlignedBuffer>(c.total);
  const std::string chunk_note = "one op = " + std::to_string(c.chunk / kMiB) + " MiB of a " +
                                 std::to_string(c.total / kMiB) +
                                 " MiB file, in file order; the other side is a private buffer "
                                 "of the same size";
  // Row `row` starts its passes a quarter of the file further on than the
  // row before it: rows that ran one after the other on the same chunk found
  // it in the L3 cache (32 MiB here), so whichever row went second was fast
  // and the medians of the two-mode distribution swung by 20% between runs.
  auto chunk_of = [c](uint64_t i, int row) { return (i + row * (c.chunks / 4)) % c.chunks; };
  auto baseline_copy = [=](uint64_t i, bool read) {
    const uint64_t k = chunk_of(i, 0);
    std::byte* buffer = other->data() + k * c.chunk;
    for (const auto& [address, length] : memory.pieces[k]) {
      if (read) {
        std::memcpy(buffer, address, length);
      } else {
        std::memcpy(address, buffer, length);
      }
      buffer += length;
    }
    ClobberMemory();
  };
  std::byte* direct = memory.direct;
  // Both mappings must show the same bytes (checked before and after).
  auto check_same = [&](const char* when) {
    for (uint64_t k = 0; k < c.chunks; ++k) {
      const std::byte* through_direct = direct + k * c.chunk;
      for (const auto& [address, length] : memory.pieces[k]) {
        if (std::memcmp(through_direct, address, length) != 0) {
          Fail("bandwidth " + where, std::string("the two mappings differ ") + when);
        }
        through_direct += length;
      }
    }
  };
  check_same("before the tables");
  for (bool read : {true, false}) {
    Table t;
    t.title = numbers[read ? 0 : 1] + ". Mapped sequential " + (read ? "read" : "write") +
              " bandwidth, " + where;
    t.notes = {chunk_note, note};
    t.rows = {
        {std::string("memcpy ") + (read ? "from" : "to") + " the same memory, other mapping", "-",
         [=](uint64_t i) { baseline_copy(i, read); }, nullptr, 1, c.chunk},
        {std::string("memcpy ") + (read ? "from" : "to") + " the MAP_DIRECT mapping", "-",
         [=](uint64_t i) {
           const uint64_t k = chunk_of(i, 1);
           if (read) {
             std::memcpy(other->data() + k * c.chunk, direct + k * c.chunk, c.chunk);
           } else {
             std::memcpy(direct + k * c.chunk, other->data() + k * c.chunk, c.chunk);
           }
           ClobberMemory();
         },
         nullptr, 1, c.chunk},
    };
    if (!read && with_copy_persist) {
      t.rows.push_back(
          {"DirectMapping::CopyPersist to the MAP_DIRECT mapping", "-",
           [=](uint64_t i) {
             const uint64_t k = chunk_of(i, 2);
             Check(copy_persist(direct + k * c.chunk, other->data() + k * c.chunk, c.chunk),
                   "CopyPersist");
           },
           nullptr, 1, c.chunk});
      t.rows.push_back({"pmem_memcpy_persist to the MAP_DIRECT mapping", "-",
                        [=](uint64_t i) {
                          const uint64_t k = chunk_of(i, 3);
                          pmem_memcpy_persist(direct + k * c.chunk, other->data() + k * c.chunk,
                                              c.chunk);
                          ClobberMemory();
                        },
                        nullptr, 1, c.chunk});
    }
    t.warmup_ops = c.chunks;  // one untimed pass: faults in every page of both mappings
    t.samples = c.chunks * env.p.bandwidth_passes;
    t.batch = std::min<uint64_t>(c.chunks, 4);
    auto s = RunTable(t);
    // Copies are CPU and memory work only: the fastest sample is the one no
    // other tenant of the machine disturbed.
    for (size_t r = 1; r < s.size(); ++r) {
      std::printf("  fastest op: %s %s us vs baseline %s us (%s)\n", t.rows[r].name.c_str(),
                  FormatMicros(s[r].min_ns).c_str(), FormatMicros(s[0].min_ns).c_str(),
                  FormatRatio(s[r].min_ns, s[0].min_ns).c_str());
    }
    const auto& [first_piece, first_length] = memory.pieces[0].front();
    std::printf("  pages (/proc/self/smaps, whole VMAs): MAP_DIRECT mapping %s; other mapping %s\n",
                SmapsSummary(direct, c.total).c_str(),
                SmapsSummary(first_piece, first_length).c_str());
    env.AddHeadline(std::string("mapped ") + (read ? "read" : "write") + " " + where +
                        ": MAP_DIRECT mapping / memcpy on the same memory (time per MiB)",
                    FormatRatio(s[1].median_ns, s[0].median_ns) +
                        " (fastest op: " + FormatRatio(s[1].min_ns, s[0].min_ns) + ")");
    if (!read && with_copy_persist) {
      env.AddHeadline("mapped write " + where + ": CopyPersist / memcpy (time per MiB)",
                      FormatRatio(s[2].median_ns, s[0].median_ns));
    }
  }
  check_same("after the tables");
}

}  // namespace

void RunBandwidth(Env& env) {
  const Chunking c = ChunkingFor(env.p);
  AlignedBuffer pattern(kMiB);
  for (MdfsTarget* target : {env.memory.get(), env.image.get()}) {
    const bool memory = target == env.memory.get();
    InodeNumber ino = target->CreateWrittenFile(c.total, pattern);
    std::shared_ptr<DirectMapping> mapping = target->Map(ino, 0, c.total, 0);
    size_t extent_count = 0;
    target->DeviceRanges(ino, 0, c.total, &extent_count);
    // The baseline mapping of the same memory.
    std::byte* device_base = target->device->mapped_base();
    std::shared_ptr<void> image_map;
    std::string how;
    if (device_base) {
      how = "the device's own mapping (mapped_base())";
    } else {
      const uint64_t size = target->device->size_bytes();
      std::string path = env.base + ".img";
      int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
      CheckErrno(fd >= 0, "open " + path);
      void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      CheckErrno(p != MAP_FAILED, "mmap " + path);
      close(fd);
      image_map = std::shared_ptr<void>(p, [size](void* q) { munmap(q, size); });
      device_base = static_cast<std::byte*>(p);
      how = "a plain mmap(MAP_SHARED) of the image file";
    }
    SameMemory same;
    same.direct = mapping->data();
    same.pieces.resize(c.chunks);
    for (uint64_t k = 0; k < c.chunks; ++k) {
      for (const auto& r : target->DeviceRanges(ino, k * c.chunk, c.chunk)) {
        same.pieces[k].push_back({device_base + r.device_offset, r.length});
      }
    }
    const std::string where = memory ? "memory device" : "image on " + env.host + " (page cache)";
    const std::string note = "mdfs on " + target->describe + "; file in " +
                             std::to_string(extent_count) + " extent(s); baseline through " + how;
    // CopyPersist on the image would msync every op: only on memory.
    std::function<Status(void*, const void*, size_t)> copy_persist;
    if (memory) {
      copy_persist = [mapping](void* dst, const void* src, size_t n) {
        return mapping->CopyPersist(dst, src, n);
      };
    }
    const std::string numbers[2] = {memory ? "2a" : "2c", memory ? "2b" : "2d"};
    RunPair(env, same, where, numbers, note, copy_persist);
  }
}

}  // namespace mdfs::bench::direct
