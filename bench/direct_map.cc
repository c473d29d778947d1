// 4. The cost of map_direct + unmap, for 4 KiB, 2 MiB and --map-big-mib
// ranges: of a file whose range is already allocated and written (the
// mapping cost: PrepareDirectAccess's check, the layout grant, MapAt, and
// the unmap with its release), against mmap + munmap of the same length of a
// memfd; and the first-time cost, mapping a hole with kMapDirectAllocate
// (allocate, zero, commit, map), against the kernel allocating zeroed pages
// (fallocate of a memfd) and against a memset of the same length.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "direct/map_direct_engine.h"
#include "direct_bench.h"
#include "direct_table.h"
#include "lease/leases.h"

namespace mdfs::bench::direct {

namespace {

std::string SizeName(uint64_t size) {
  if (size % kGiB == 0) return std::to_string(size / kGiB) + " GiB";
  if (size % kMiB == 0) return std::to_string(size / kMiB) + " MiB";
  return std::to_string(size / kKiB) + " KiB";
}

double MmapMunmap(int fd, uint64_t size, int flags) {
  const int64_t start = NowNs();
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
  CheckErrno(p != MAP_FAILED, "mmap");
  CheckErrno(munmap(p, size) == 0, "munmap");
  return static_cast<double>(NowNs() - start);
}

void PunchHost(int fd, uint64_t size) {
  CheckErrno(
      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size)) == 0,
      "fallocate PUNCH_HOLE");
}

// mdfs files whose first --map-big-mib are allocated and written (inode
// numbers; 0 in a baselines-only build).
struct MapFiles {
  uint64_t memory = 0, image = 0;
};

// Per-size map cost of a written range (tables 4a..).
void MapTable(Env& env, uint64_t size, const std::string& number,
              const std::shared_ptr<Memfd>& memfd, const MapFiles& files) {
  Table t;
  t.title = number + ". map + unmap of a written " + SizeName(size) + " range";
  t.notes = {"kernel rows: mmap(MAP_SHARED) + munmap of the first " + SizeName(size) +
             " of a pre-faulted memfd, without and with MAP_POPULATE"};
  const int fd = memfd->fd();
  t.rows = {
      {"mmap+munmap (memfd)", "-", nullptr,
       [memfd, fd, size](uint64_t) { return MmapMunmap(fd, size, 0); }},
      {"mmap(MAP_POPULATE)+munmap (memfd)", "-", nullptr,
       [memfd, fd, size](uint64_t) { return MmapMunmap(fd, size, MAP_POPULATE); }},
  };
  for (MdfsTarget* target : {env.memory.get(), env.image.get()}) {
    const InodeNumber ino = target == env.memory.get() ? files.memory : files.image;
    t.rows.push_back({"mdfs MapDirect+Unmap (" + target->label + ")", "-", nullptr,
                      [target, ino, size](uint64_t) {
                        const int64_t start = NowNs();
                        target->Map(ino, 0, size, 0).reset();
                        return static_cast<double>(NowNs() - start);
                      }});
  }
  t.notes.push_back("mdfs rows: MapDirect(PROT_READ|PROT_WRITE, no flags) of [0, " +
                    SizeName(size) + ") of a written file, then the mapping's destructor");
  t.extra_ratios = {{2, 1}, {3, 0}};
  t.warmup_ops = env.p.quick ? 1 : 10;
  t.samples = size >= 64 * kMiB ? std::max<uint64_t>(env.p.iterations / 5, 3) : env.p.iterations;
  t.batch = 10;
  auto s = RunTable(t);
  env.AddHeadline("map+unmap " + SizeName(size) + ", mdfs MapDirect (memory) / mmap+munmap",
                  FormatRatio(s[2].median_ns, s[0].median_ns));
  env.AddHeadline("map+unmap " + SizeName(size) + ", mdfs MapDirect (memory) / mmap(POPULATE)",
                  FormatRatio(s[2].median_ns, s[1].median_ns));
}

// Per-size first-time cost (tables 4d..): allocate + zero + map + unmap.
void AllocateTable(Env& env, uint64_t size, const std::string& number, bool on_image) {
  Table t;
  t.title = number + ". First map of a " + SizeName(size) + " hole: allocate + zero + map + unmap" +
            (on_image ? " (image on " + env.host + ")" : " (memory)");
  t.notes = {"each op starts from a hole; the range is punched out again after it, untimed"};
  if (!on_image) {
    auto memfd = std::make_shared<Memfd>(size, /*touch=*/false);
    auto zeros = std::make_shared<AlignedBuffer>(size);
    t.rows = {
        {"memfd fallocate+mmap+munmap (kernel zeroes)", "-", nullptr,
         [memfd, size](uint64_t) {
           const int64_t start = NowNs();
           CheckErrno(fallocate(memfd->fd(), 0, 0, static_cast<off_t>(size)) == 0,
                      "fallocate memfd");
           MmapMunmap(memfd->fd(), size, 0);
           const double ns = static_cast<double>(NowNs() - start);
           PunchHost(memfd->fd(), size);
           return ns;
         }},
        {"memset 0 of present pages", "-",
         [zeros, size](uint64_t) {
           std::memset(zeros->data(), 0, size);
           ClobberMemory();
         },
         nullptr},
    };
  } else {
    auto file = std::make_shared<PlainFile>(env.base + ".alloc" + std::to_string(size), size);
    auto zeros = std::make_shared<AlignedBuffer>(size, /*zero=*/true);
    PunchHost(file->fd(), size);
    t.rows = {
        {env.H("pwrite(zeros)+fdatasync into a hole"), "fdatasync: durable", nullptr,
         [file, zeros, size](uint64_t) {
           const int64_t start = NowNs();
           PwriteAll(file->fd(), zeros->data(), size, 0);
           FdatasyncOrFail(file->fd());
           const double ns = static_cast<double>(NowNs() - start);
           PunchHost(file->fd(), size);
           return ns;
         }},
        {env.H("fallocate+fdatasync (unwritten)"), "fdatasync: durable", nullptr,
         [file, size](uint64_t) {
           const int64_t start = NowNs();
           CheckErrno(fallocate(file->fd(), FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size)) == 0,
                      "fallocate");
           FdatasyncOrFail(file->fd());
           const double ns = static_cast<double>(NowNs() - start);
           PunchHost(file->fd(), size);
           return ns;
         }},
    };
  }
  MdfsTarget* target = on_image ? env.image.get() : env.memory.get();
  const InodeNumber ino = target->CreateFile();
  t.rows.push_back({"mdfs MapDirect(allocate)+Unmap (" + target->label + ")",
                    on_image ? "metadata durable at return" : "-", nullptr,
                    [target, ino, size](uint64_t) {
                      const int64_t start = NowNs();
                      target->Map(ino, 0, size, kMapDirectAllocate).reset();
                      const double ns = static_cast<double>(NowNs() - start);
                      target->Punch(ino, 0, size);
                      return ns;
                    }});
  // The other way to reach the same state: an allocating Write of zeros
  // (durable at return), then a map of written blocks.
  const InodeNumber ino_write = target->CreateFile();
  auto zero_source = std::make_shared<AlignedBuffer>(size, /*zero=*/true);
  t.rows.push_back(
      {"mdfs Write(zeros)+MapDirect+Unmap (" + target->label + ")",
       on_image ? "metadata durable at return" : "-", nullptr,
       [target, ino_write, size, zero_source](uint64_t) {
         const int64_t start = NowNs();
         Check(target->fs->Write(ino_write, 0, {zero_source->data(), size}).status(), "mdfs Write");
         target->Map(ino_write, 0, size, 0).reset();
         const double ns = static_cast<double>(NowNs() - start);
         target->Punch(ino_write, 0, size);
         return ns;
       }});
  t.extra_ratios = {{2, 3}};
  const bool big = size >= 64 * kMiB;
  t.warmup_ops = env.p.quick || big ? 1 : 5;
  t.samples = big ? env.p.allocate_big_samples
                  : std::max<uint64_t>(env.p.iterations / (on_image ? 5 : 2), 3);
  t.batch = big ? 1 : 5;
  auto s = RunTable(t);
  env.AddHeadline(
      "first map " + SizeName(size) + " (" + target->label + "), mdfs / " + t.rows[0].name,
      FormatRatio(s[2].median_ns, s[0].median_ns));
  env.AddHeadline("first map " + SizeName(size) + " (" + target->label +
                      "), MapDirect(allocate) / Write(zeros)+MapDirect",
                  FormatRatio(s[2].median_ns, s[3].median_ns));
}

}  // namespace

void RunMapCost(Env& env) {
  const uint64_t big = env.p.map_big_mib * kMiB;
  const uint64_t sizes[] = {4 * kKiB, 2 * kMiB, big};
  auto memfd = std::make_shared<Memfd>(big, /*touch=*/true);
  MapFiles files;
  // Allocated and written once (zeroed by a first allocating map), so that
  // the map rows measure mapping only.
  for (MdfsTarget* target : {env.memory.get(), env.image.get()}) {
    const InodeNumber ino = target->CreateFile();
    target->Map(ino, 0, big, kMapDirectAllocate).reset();
    (target == env.memory.get() ? files.memory : files.image) = ino;
  }
  char number = 'a';
  for (uint64_t size : sizes) MapTable(env, size, std::string("4") + number++, memfd, files);
  for (uint64_t size : sizes) AllocateTable(env, size, std::string("4") + number++, false);
  for (uint64_t size : {4 * kKiB, 2 * kMiB}) {
    AllocateTable(env, size, std::string("4") + number++, true);
  }
}

}  // namespace mdfs::bench::direct
