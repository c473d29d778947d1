// Crash consistency of MAP_DIRECT's allocation (DESIGN.md semantics 6 and
// 9): MapDirect with kMapDirectAllocate promises that before it returns
// every block of the range is allocated, written (zeroed if new) and
// durable in metadata. Each round builds a file with data blocks, holes,
// unwritten extents (inside the file and preallocated past its end) and a
// partial last block, on blocks that a deleted file filled with stale
// bytes (0xEE), then maps a range of it — often past EOF — on a
// CrashDevice over a memory device, and the power fails:
//
//   * right after MapDirect returned (Crash(): unflushed writes kept,
//     dropped or torn; "drop everything" always among them): after
//     recovery the range must be allocated, written (no unwritten extent,
//     no hole), read as the old bytes plus zeros, and a new read-only
//     MapDirect of it must show exactly that;
//   * at every device write and every device flush MapDirect makes
//     (CrashAtWrite(n), CrashAtFlush(n), n = 1 .. what a crash-free run
//     makes, + 1): after recovery the file is either in its old state
//     (size, every block's mapping, bytes: only when MapDirect did not
//     return OK) or in the complete new state — never in between;
//
// and in every case fsck is clean before and after recovery, and no block
// that the file maps as written holds a byte other than the file's (the
// device bytes behind each written extent are compared with the model: a
// stale 0xEE left in a block a mapping would expose fails the test).
//
// "cpu-cache simulated": records stored through the mapping and Persist()ed,
// then a crash (while a later metadata transaction is in flight, or idle),
// then recovery: the records must read back with FileSystem::Read. Honestly:
// the CrashDevice maps its base device directly (CrashDevice::MapAt), so
// stores through the mapping reach the memory device at once and no
// simulated crash can lose or tear them, Persist() or not; the memory
// device reports the volatile mode, so Persist() is only a fence here. What
// this variant proves is the metadata half of the promise — the blocks the
// mapping stores to are still the file's written blocks after recovery (not
// unwritten extents that would read back as zeros, not blocks recovery gives
// back to the free space) — so a store needs no metadata update to survive.
// The data half (that a persisted store reaches the media) is the device's:
// see src/direct/persist_test.cc and the msync / cpu-cache modes.
//
// Knobs (doc/testing.md): MDFS_DIRECT_CRASH_ROUNDS (default 64) rounds,
// each a different file, range and crash options; MDFS_DIRECT_CRASH_ROUND=<r>
// runs only round r (to reproduce); MDFS_FIRST_SEED shifts the rounds.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "direct/map_direct_engine.h"
#include "lease/leases.h"
#include "mdfs/device.h"
#include "mdfs/file_system.h"
#include "mdfs/fsck.h"
#include "mdfs/lease.h"
#include "mdfs/map_direct.h"
#include "model/test_env.h"

namespace mdfs::test {
namespace {

constexpr uint64_t kDeviceBytes = 16ull << 20;
constexpr uint64_t kB = kBlockSize;
constexpr std::byte kStale{0xEE};
constexpr uint64_t kDefaultRounds = 64;  // MDFS_DIRECT_CRASH_ROUNDS

enum class BlockKind { kData, kHole, kUnwritten };

// The file before MapDirect, and the range mapped: a pure function of the seed.
struct Scenario {
  uint64_t seed = 0;
  uint64_t old_size = 0;
  std::vector<BlockKind> blocks;            // below BlocksCeil(old_size)
  std::vector<uint64_t> prealloc_past_eof;  // blocks past EOF preallocated (KEEP_SIZE)
  uint64_t map_offset = 0;                  // bytes, block-aligned
  uint64_t map_length = 0;                  // bytes, > 0, not necessarily aligned

  uint64_t map_end() const { return map_offset + map_length; }
  uint64_t new_size() const { return std::max(old_size, map_end()); }

  std::string ToString() const {
    std::ostringstream out;
    out << "seed " << seed << ": old size " << old_size << ", blocks ";
    for (BlockKind k : blocks)
      out << (k == BlockKind::kData ? 'D' : k == BlockKind::kHole ? '.' : 'u');
    out << ", preallocated past EOF {";
    for (uint64_t b : prealloc_past_eof) out << " " << b;
    out << " }, map [" << map_offset << ", " << map_end() << ")";
    return out.str();
  }
};

uint64_t BlocksCeil(uint64_t bytes) { return (bytes + kB - 1) / kB; }

Scenario MakeScenario(uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 17);
  auto below = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  Scenario s;
  s.seed = seed;
  uint64_t old_blocks = below(40);  // 0 .. 39 blocks
  s.old_size = old_blocks * kB;
  if (old_blocks > 0 && below(2) == 0) s.old_size -= 1 + below(kB - 1);  // a partial last block
  for (uint64_t b = 0; b < BlocksCeil(s.old_size); ++b) {
    uint64_t r = below(4);
    s.blocks.push_back(r < 2    ? BlockKind::kData
                       : r == 2 ? BlockKind::kHole
                                : BlockKind::kUnwritten);
  }
  if (below(2) == 0) {
    uint64_t first = BlocksCeil(s.old_size) + below(4);
    for (uint64_t b = first, n = 1 + below(6); n > 0; --n, ++b) s.prealloc_past_eof.push_back(b);
  }
  // Mostly inside or across the old end; sometimes entirely past it (a gap).
  s.map_offset = below(old_blocks + 1) * kB;
  if (below(5) == 0) s.map_offset = (BlocksCeil(s.old_size) + below(8)) * kB;
  uint64_t length_blocks = 1 + below(64);
  if (below(8) == 0) length_blocks = 256 + below(512);  // 1 - 3 MiB: several zeroing chunks
  s.map_length = length_blocks * kB;
  if (below(4) == 0) s.map_length -= below(kB);  // unaligned length
  return s;
}

// The bytes the scenario writes: never zero, a function of the file offset.
std::byte PatternByte(uint64_t seed, uint64_t offset) {
  uint64_t x = (offset + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
  x ^= x >> 29;
  return std::byte(static_cast<uint8_t>(x % 255 + 1));
}

std::vector<std::byte> OldContent(const Scenario& s) {
  std::vector<std::byte> content(s.old_size, std::byte{0});
  for (uint64_t b = 0; b < s.blocks.size(); ++b) {
    if (s.blocks[b] != BlockKind::kData) continue;
    for (uint64_t x = b * kB; x < std::min(s.old_size, (b + 1) * kB); ++x) {
      content[x] = PatternByte(s.seed, x);
    }
  }
  return content;
}

std::vector<std::byte> NewContent(const Scenario& s) {
  std::vector<std::byte> content = OldContent(s);
  content.resize(s.new_size(), std::byte{0});
  return content;
}

// Per block: (device block, unwritten) of every mapped block.
using BlockMap = std::map<uint64_t, std::pair<uint64_t, bool>>;

BlockMap ToBlockMap(const std::vector<ExtentInfo>& extents) {
  BlockMap map;
  for (const ExtentInfo& e : extents) {
    for (uint64_t i = 0; i < e.length / kB; ++i) {
      map[e.file_offset / kB + i] = {e.device_offset / kB + i, (e.flags & kExtentUnwritten) != 0};
    }
  }
  return map;
}

std::string Describe(const Status& status) { return status.ok() ? "OK" : status.ToString(); }

// For the harness self-test: a device that, once armed, silently drops
// every write of whole blocks of zeros — an engine that "forgot" to zero
// the blocks it maps. The checks must catch the stale bytes it leaves.
class ZeroDroppingDevice : public Device {
 public:
  explicit ZeroDroppingDevice(Device* base) : base_(base) {}
  void Arm() { armed_ = true; }
  uint64_t size_bytes() const override { return base_->size_bytes(); }
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    return base_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    bool zeros = data.size() >= kB && std::all_of(data.begin(), data.end(),
                                                  [](std::byte b) { return b == std::byte{0}; });
    if (armed_ && zeros) return Status::Ok();
    return base_->Write(offset, data);
  }
  Status Flush() override { return base_->Flush(); }
  PersistenceMode persistence_mode() const override { return base_->persistence_mode(); }
  std::string Describe() const override { return "zero-dropping(" + base_->Describe() + ")"; }
  Status MapAt(void* address, uint64_t offset, uint64_t length, bool writable) override {
    return base_->MapAt(address, offset, length, writable);
  }

 private:
  Device* const base_;
  bool armed_ = false;
};

// The file system of one iteration: memory device -> CrashDevice
// (-> ZeroDroppingDevice for the self-test) -> engine -> lease manager.
// Declared in the order of dependence.
struct Rig {
  Device* base = nullptr;  // a memory device reused across iterations
  std::unique_ptr<CrashDevice> crash;
  std::unique_ptr<ZeroDroppingDevice> liar;
  std::unique_ptr<FileSystem> fs;
  std::unique_ptr<LeaseManager> leases;
  std::unique_ptr<DirectMapping> mapping;
  InodeNumber ino = 0;

  // Destroys everything above the base device (after a crash: nothing more
  // reaches it).
  void PowerOff() {
    mapping.reset();
    leases.reset();
    fs.reset();
    liar.reset();
    crash.reset();
  }
  Device* top() { return liar ? static_cast<Device*>(liar.get()) : crash.get(); }
};

// The image of a scenario before MapDirect: formatted, every free block
// filled with stale bytes by a file that was then deleted, the scenario's
// file built, the file system closed cleanly. Built once per round.
using Image = std::vector<std::byte>;

void MakeImage(const Scenario& s, Image& image) {
  auto base = CreateMemoryDevice(kDeviceBytes);
  ASSERT_TRUE(base.ok()) << Describe(base.status());
  ASSERT_TRUE(FileSystem::Format(base->get()).ok());
  auto opened = FileSystem::Open(base->get());
  ASSERT_TRUE(opened.ok()) << Describe(opened.status());
  std::unique_ptr<FileSystem> fs = std::move(opened).value();
  FileSystem& f = *fs;
  // Every free block gets stale bytes, which the next allocations inherit.
  auto junk = f.Create(kRootInode, "junk", S_IFREG | 0644);
  ASSERT_TRUE(junk.ok());
  uint64_t offset = 0;
  for (uint64_t chunk = 1 << 20; chunk >= kB; chunk /= 4) {
    std::vector<std::byte> stale(chunk, kStale);
    while (f.Write(junk->ino, offset, stale).ok()) offset += chunk;
  }
  ASSERT_GT(offset, kDeviceBytes / 2);
  ASSERT_TRUE(f.Fsync(junk->ino).ok());
  ASSERT_TRUE(f.Unlink(kRootInode, "junk").ok());

  auto file = f.Create(kRootInode, "f", S_IFREG | 0644);
  ASSERT_TRUE(file.ok());
  InodeNumber ino = file->ino;
  std::vector<std::byte> block(kB);
  for (uint64_t b = 0; b < s.blocks.size(); ++b) {
    if (s.blocks[b] != BlockKind::kData) continue;
    for (uint64_t i = 0; i < kB; ++i) block[i] = PatternByte(s.seed, b * kB + i);
    ASSERT_TRUE(f.Write(ino, b * kB, block).ok());
  }
  // Exactly old_size: trims a written last block, or grows over holes.
  ASSERT_TRUE(f.Truncate(ino, s.old_size).ok());
  for (uint64_t b = 0; b < s.blocks.size(); ++b) {
    if (s.blocks[b] != BlockKind::kUnwritten) continue;
    Status st = f.Fallocate(ino, kFallocateKeepSize, b * kB, kB);
    ASSERT_TRUE(st.ok()) << Describe(st);
  }
  for (uint64_t b : s.prealloc_past_eof) {
    Status st = f.Fallocate(ino, kFallocateKeepSize, b * kB, kB);
    ASSERT_TRUE(st.ok()) << Describe(st);
  }
  fs.reset();  // a clean close
  image.resize(kDeviceBytes);
  ASSERT_TRUE((*base)->Read(0, image).ok());
}

// The memory device the rigs run on: one, rewritten with the image of each
// iteration (creating a memfd per iteration costs more than the test).
Device* SharedBase() {
  static std::unique_ptr<Device> device = [] {
    auto created = CreateMemoryDevice(kDeviceBytes);
    if (!created.ok()) std::abort();
    return std::move(created).value();
  }();
  return device.get();
}

// A rig on a copy of `image` (through a ZeroDroppingDevice when `with_liar`).
void Load(const Image& image, Rig& rig, bool with_liar = false) {
  rig.base = SharedBase();
  ASSERT_TRUE(rig.base->Write(0, image).ok());
  rig.crash = std::make_unique<CrashDevice>(rig.base);
  if (with_liar) rig.liar = std::make_unique<ZeroDroppingDevice>(rig.crash.get());
  auto fs = FileSystem::Open(rig.top());
  ASSERT_TRUE(fs.ok()) << Describe(fs.status());
  rig.fs = std::move(fs).value();
  auto file = rig.fs->LookupPath("/f");
  ASSERT_TRUE(file.ok()) << Describe(file.status());
  rig.ino = file->ino;
  auto leases = LeaseManager::Attach(rig.fs.get());
  ASSERT_TRUE(leases.ok()) << Describe(leases.status());
  rig.leases = std::move(leases).value();
}

Result<std::unique_ptr<DirectMapping>> MapForWrite(const Scenario& s, Rig& rig) {
  return MapDirect(rig.fs.get(), rig.leases.get(), rig.ino, s.map_offset, s.map_length,
                   PROT_READ | PROT_WRITE, kMapDirectAllocate);
}

// What the file looked like before MapDirect (taken from a crash-free build).
struct Before {
  Image image;  // the device before MapDirect
  BlockMap blocks;
  std::vector<std::byte> content;
  uint64_t writes = 0;   // device writes MapDirect makes
  uint64_t flushes = 0;  // device flushes MapDirect makes
};

// How one iteration crashes.
struct CrashPoint {
  enum Kind { kAfterReturn, kAtWrite, kAtFlush } kind = kAfterReturn;
  uint64_t n = 0;
  CrashDevice::CrashOptions options;

  std::string ToString() const {
    std::ostringstream out;
    out << (kind == kAfterReturn ? "crash after MapDirect returned"
            : kind == kAtWrite   ? "crash at MapDirect's device write " + std::to_string(n)
                                 : "crash during MapDirect's device flush " + std::to_string(n))
        << " (keep " << options.keep_probability << ", drop " << options.drop_probability
        << ", crash seed " << options.seed << ")";
    return out.str();
  }
};

// The crash options of a point: "drop everything unflushed" first, then
// seeded mixes of kept, dropped and torn writes.
std::vector<CrashDevice::CrashOptions> OptionVariants(uint64_t seed, int count) {
  std::vector<CrashDevice::CrashOptions> variants;
  variants.push_back({.seed = seed, .keep_probability = 0.0, .drop_probability = 1.0});
  std::mt19937_64 rng(seed);
  const double keeps[] = {1.0, 0.5, 0.2, 0.7};
  for (int i = 1; i < count; ++i) {
    double keep = keeps[rng() % 4];
    double drop = (1.0 - keep) * static_cast<double>(rng() % 3) / 2.0;
    variants.push_back({.seed = rng(), .keep_probability = keep, .drop_probability = drop});
  }
  return variants;
}

struct Tally {
  uint64_t iterations = 0, old_state = 0, new_state = 0, acknowledged = 0, remapped = 0;
  uint64_t records = 0;
};

class DirectCrashTest : public ::testing::Test {
 protected:
  // Raw device bytes behind every written block of the file below `size`
  // (plus, in the new state, the whole mapped blocks) must be the model's.
  static std::string CheckDeviceBytes(Device* device, const BlockMap& blocks,
                                      const std::vector<std::byte>& content, uint64_t whole_end) {
    std::vector<std::byte> raw(kB);
    for (const auto& [file_block, where] : blocks) {
      const auto& [device_block, unwritten] = where;
      if (unwritten) continue;  // reads as zeros whatever the block holds
      uint64_t begin = file_block * kB;
      uint64_t end = std::max<uint64_t>(std::min<uint64_t>(content.size(), begin + kB),
                                        std::min(whole_end, begin + kB));
      if (begin >= end) continue;
      Status st = device->Read(device_block * kB, raw);
      if (!st.ok()) return "raw read: " + Describe(st);
      for (uint64_t x = begin; x < end; ++x) {
        std::byte want = x < content.size() ? content[x] : std::byte{0};
        if (raw[x - begin] != want) {
          std::ostringstream out;
          out << "file byte " << x << " (device block " << device_block << ") holds 0x" << std::hex
              << static_cast<int>(raw[x - begin]) << ", the file's byte is 0x"
              << static_cast<int>(want) << (raw[x - begin] == kStale ? " (stale data!)" : "");
          return out.str();
        }
      }
    }
    return "";
  }

  static std::string CheckFsck(Device* device, const std::string& when) {
    auto report = CheckFileSystem(device);
    if (!report.ok()) return "fsck " + when + ": " + Describe(report.status());
    if (report->clean()) return "";
    std::string text =
        "fsck " + when + ": " + std::to_string(report->problems.size()) + " problems";
    for (const FsckProblem& p : report->problems)
      text += "; " + p.check + " " + p.where + ": " + p.message;
    return text;
  }

  // After the power failed: fsck, recover, and find the old or the new state.
  // Returns "" or what is wrong.
  std::string Verify(const Scenario& s, const Before& before, Rig& rig, bool acknowledged,
                     bool remap, Tally& tally) {
    rig.PowerOff();
    Device* device = rig.base;
    if (std::string e = CheckFsck(device, "before recovery"); !e.empty()) return e;
    auto opened = FileSystem::Open(device);
    if (!opened.ok()) return "recovery: " + Describe(opened.status());
    std::unique_ptr<FileSystem> fs = std::move(opened).value();
    auto attributes = fs->GetAttributes(rig.ino);
    if (!attributes.ok()) return "the file is gone: " + Describe(attributes.status());
    auto extents = fs->GetExtents(rig.ino);
    if (!extents.ok()) return "extents: " + Describe(extents.status());
    BlockMap blocks = ToBlockMap(*extents);
    std::vector<std::byte> content(attributes->size);
    auto n = fs->Read(rig.ino, 0, content);
    if (!n.ok() || *n != content.size()) return "read: " + Describe(n.status());

    const uint64_t first = s.map_offset / kB, last = BlocksCeil(s.map_end());
    bool is_old =
        attributes->size == s.old_size && blocks == before.blocks && content == before.content;
    std::string why_not_new;
    if (attributes->size != s.new_size()) {
      why_not_new =
          "size " + std::to_string(attributes->size) + ", want " + std::to_string(s.new_size());
    } else if (content != NewContent(s)) {
      why_not_new = "bytes differ from the old bytes plus zeros";
    } else {
      for (uint64_t b = first; b < last && why_not_new.empty(); ++b) {
        auto it = blocks.find(b);
        if (it == blocks.end())
          why_not_new = "block " + std::to_string(b) + " is a hole";
        else if (it->second.second)
          why_not_new = "block " + std::to_string(b) + " is unwritten";
      }
      // Blocks outside the range keep their mapping.
      for (const auto& [b, where] : before.blocks) {
        if ((b < first || b >= last) && why_not_new.empty()) {
          auto it = blocks.find(b);
          if (it == blocks.end() || it->second != where) {
            why_not_new = "block " + std::to_string(b) + " outside the range changed its mapping";
          }
        }
      }
      // New blocks outside the range may only be the allocator's 2 MiB-chunk
      // preallocation (doc/format.md, "Allocation"): mapped unwritten.
      for (const auto& [b, where] : blocks) {
        if ((b < first || b >= last) && !before.blocks.count(b) && where.second == false &&
            why_not_new.empty()) {
          why_not_new = "block " + std::to_string(b) + " outside the range was mapped written";
        }
      }
    }
    bool is_new = why_not_new.empty();
    if (!is_new && !(is_old && !acknowledged)) {
      return std::string(acknowledged ? "MapDirect returned OK but the new state is not complete: "
                                      : "neither the old state nor the complete new state: ") +
             why_not_new + (is_old ? "" : "; and not the old state either");
    }
    std::string raw = CheckDeviceBytes(device, blocks, is_new ? NewContent(s) : before.content,
                                       is_new ? last * kB : 0);
    if (!raw.empty()) return "device bytes: " + raw;
    is_new ? ++tally.new_state : ++tally.old_state;

    if (remap && is_new) {
      // What a MAP_DIRECT mapping shows after recovery: the same bytes.
      auto leases = LeaseManager::Attach(fs.get());
      if (!leases.ok()) return "attach: " + Describe(leases.status());
      auto m =
          MapDirect(fs.get(), leases->get(), rig.ino, s.map_offset, s.map_length, PROT_READ, 0);
      if (!m.ok()) return "MapDirect (read) after recovery: " + Describe(m.status());
      std::vector<std::byte> want = NewContent(s);
      want.resize(last * kB, std::byte{0});
      for (uint64_t x = 0; x < (*m)->size(); ++x) {
        if ((*m)->data()[x] != want[s.map_offset + x]) {
          return "the mapping after recovery shows a wrong byte at file offset " +
                 std::to_string(s.map_offset + x);
        }
      }
      ++tally.remapped;
    }
    fs.reset();
    return CheckFsck(device, "after recovery");
  }

  // A crash-free run: the old state and how much I/O MapDirect does.
  Before Measure(const Scenario& s) {
    Before before;
    MakeImage(s, before.image);
    if (HasFatalFailure()) return before;
    Rig rig;
    Load(before.image, rig);
    if (HasFatalFailure()) return before;
    auto extents = rig.fs->GetExtents(rig.ino);
    EXPECT_TRUE(extents.ok());
    before.blocks = ToBlockMap(*extents);
    before.content = OldContent(s);
    std::vector<std::byte> read(s.old_size);
    EXPECT_TRUE(rig.fs->Read(rig.ino, 0, read).ok());
    EXPECT_TRUE(read == before.content)
        << "the scenario was not built as modelled: " << s.ToString();
    uint64_t writes = rig.crash->writes_seen(), flushes = rig.crash->flushes_seen();
    auto m = MapForWrite(s, rig);
    EXPECT_TRUE(m.ok()) << s.ToString() << ": " << Describe(m.status());
    before.writes = rig.crash->writes_seen() - writes;
    before.flushes = rig.crash->flushes_seen() - flushes;
    return before;
  }

  void RunPoint(const Scenario& s, const Before& before, const CrashPoint& point, Tally& tally) {
    Rig rig;
    Load(before.image, rig);
    if (HasFatalFailure()) return;
    if (point.kind == CrashPoint::kAtWrite) rig.crash->CrashAtWrite(point.n, point.options);
    if (point.kind == CrashPoint::kAtFlush) rig.crash->CrashAtFlush(point.n, point.options);
    auto m = MapForWrite(s, rig);
    bool acknowledged = m.ok();
    if (m.ok()) rig.mapping = std::move(m).value();
    if (point.kind == CrashPoint::kAfterReturn) {
      ASSERT_TRUE(acknowledged) << s.ToString() << ": " << Describe(m.status());
    }
    if (!rig.crash->crashed()) rig.crash->Crash(point.options);  // the power fails now
    ++tally.iterations;
    if (acknowledged) ++tally.acknowledged;
    std::string error = Verify(s, before, rig, acknowledged,
                               /*remap=*/point.kind == CrashPoint::kAfterReturn, tally);
    ASSERT_TRUE(error.empty()) << s.ToString() << "\n"
                               << point.ToString() << "\nMapDirect returned "
                               << (acknowledged ? "OK" : Describe(m.status())) << "\n"
                               << error << "\nreproduce: MDFS_DIRECT_CRASH_ROUND=" << round_
                               << " ./tests/direct_crash_test";
  }

  // Rounds to run: MDFS_DIRECT_CRASH_ROUND=<r> only r, else
  // MDFS_DIRECT_CRASH_ROUNDS from MDFS_FIRST_SEED.
  static std::vector<uint64_t> Rounds(uint64_t default_count) {
    if (std::getenv("MDFS_DIRECT_CRASH_ROUND") != nullptr) {
      return {EnvUint("MDFS_DIRECT_CRASH_ROUND", 0)};
    }
    std::vector<uint64_t> rounds;
    uint64_t first = EnvUint("MDFS_FIRST_SEED", 1);
    for (uint64_t i = 0; i < EnvUint("MDFS_DIRECT_CRASH_ROUNDS", default_count); ++i) {
      rounds.push_back(first + i);
    }
    return rounds;
  }

  uint64_t round_ = 0;
};

TEST_F(DirectCrashTest, AllocationIsAllOrNothingAtEveryCrashPoint) {
  Tally tally;
  uint64_t max_writes = 0, max_flushes = 0;
  for (uint64_t round : Rounds(kDefaultRounds)) {
    round_ = round;
    Scenario s = MakeScenario(round);
    Before before = Measure(s);
    if (HasFatalFailure() || HasFailure()) return;
    max_writes = std::max(max_writes, before.writes);
    max_flushes = std::max(max_flushes, before.flushes);
    std::vector<CrashDevice::CrashOptions> variants = OptionVariants(round, 3);
    for (const CrashDevice::CrashOptions& options : variants) {
      RunPoint(s, before, {CrashPoint::kAfterReturn, 0, options}, tally);
      if (HasFatalFailure()) return;
    }
    // Every write and every flush MapDirect makes, and one past the last.
    for (uint64_t n = 1; n <= before.writes + 1; ++n) {
      for (size_t v = 0; v < 2; ++v) {
        RunPoint(s, before, {CrashPoint::kAtWrite, n, variants[v]}, tally);
        if (HasFatalFailure()) return;
      }
    }
    for (uint64_t n = 1; n <= before.flushes + 1; ++n) {
      for (const CrashDevice::CrashOptions& options : variants) {
        RunPoint(s, before, {CrashPoint::kAtFlush, n, options}, tally);
        if (HasFatalFailure()) return;
      }
    }
  }
  std::cout << "[ direct crash ] " << tally.iterations << " crash points: " << tally.new_state
            << " recovered the complete new state (" << tally.acknowledged
            << " after MapDirect returned OK, " << tally.remapped << " re-mapped and compared), "
            << tally.old_state << " the old state; MapDirect made up to " << max_writes
            << " device writes and " << max_flushes << " flushes" << std::endl;
  EXPECT_GT(tally.old_state, 0u) << "no crash point hit before the commit: the loop is too narrow";
  EXPECT_GT(tally.new_state, tally.acknowledged) << "no crash point hit after the commit";
}

// The harness can fail: with the blocks' zeroing dropped, a crash after
// MapDirect returned must be reported for every range that needed zeroing.
TEST_F(DirectCrashTest, HarnessDetectsBlocksLeftUnzeroed) {
  uint64_t needed = 0, detected = 0;
  for (uint64_t round = 1; round <= 12; ++round) {
    round_ = round;
    Scenario s = MakeScenario(round);
    Before before = Measure(s);
    if (HasFatalFailure() || HasFailure()) return;
    Rig rig;
    Load(before.image, rig, /*with_liar=*/true);
    if (HasFatalFailure()) return;
    rig.liar->Arm();
    auto m = MapForWrite(s, rig);
    ASSERT_TRUE(m.ok()) << Describe(m.status());
    rig.mapping = std::move(m).value();
    rig.crash->Crash({.seed = round, .keep_probability = 0.0, .drop_probability = 1.0});
    bool needs_zeroing = false;
    for (uint64_t b = s.map_offset / kB; b < BlocksCeil(s.map_end()); ++b) {
      auto it = before.blocks.find(b);
      if (it == before.blocks.end() || it->second.second) needs_zeroing = true;
    }
    Tally tally;
    std::string error = Verify(s, before, rig, /*acknowledged=*/true, /*remap=*/false, tally);
    if (!needs_zeroing) continue;
    ++needed;
    if (!error.empty()) ++detected;
    EXPECT_FALSE(error.empty()) << s.ToString() << ": unzeroed blocks were not detected";
  }
  EXPECT_GT(needed, 5u);
  std::cout << "[ direct crash ] self-test: " << detected << " of " << needed
            << " ranges with unzeroed blocks detected" << std::endl;
}

// Stores through the mapping + Persist, then a crash: the records survive
// recovery (see the top of the file for what this does and does not prove).
TEST_F(DirectCrashTest, PersistedRecordsSurviveACrashCpuCacheSimulated) {
  Tally tally;
  for (uint64_t round : Rounds(kDefaultRounds)) {
    round_ = round;
    Scenario s = MakeScenario(round);
    std::vector<CrashDevice::CrashOptions> variants = OptionVariants(round + 1000, 2);
    Image image;
    MakeImage(s, image);
    if (HasFatalFailure()) return;
    for (size_t v = 0; v < variants.size(); ++v) {
      Rig rig;
      Load(image, rig);
      if (HasFatalFailure()) return;
      auto m = MapForWrite(s, rig);
      ASSERT_TRUE(m.ok()) << s.ToString() << ": " << Describe(m.status());
      rig.mapping = std::move(m).value();
      DirectMapping& mapping = *rig.mapping;
      ASSERT_EQ(mapping.persistence_mode(), PersistenceMode::kVolatile)
          << "the memory device under the CrashDevice: Persist is a fence";
      // A 64-byte record in every 512 bytes of the range, inside the new size.
      std::vector<uint64_t> offsets;  // file offsets of the records
      for (uint64_t x = s.map_offset; x + 64 <= s.map_end(); x += 512) {
        std::byte* at = mapping.data() + (x - s.map_offset);
        for (uint64_t i = 0; i < 64; ++i) at[i] = PatternByte(s.seed + 77, x + i);
        Status st = mapping.Persist(at, 64);
        ASSERT_TRUE(st.ok()) << Describe(st);
        offsets.push_back(x);
      }
      // The power fails while a later metadata transaction is in flight
      // (variant 0: at its first device write) or when idle (variant 1).
      if (v == 0) {
        rig.crash->CrashAtWrite(1, variants[v]);
        (void)rig.fs->Create(kRootInode, "marker", S_IFREG | 0644);
      }
      if (!rig.crash->crashed()) rig.crash->Crash(variants[v]);
      rig.PowerOff();
      Device* device = rig.base;
      std::string e = CheckFsck(device, "before recovery");
      ASSERT_TRUE(e.empty()) << s.ToString() << "\n" << e;
      auto opened = FileSystem::Open(device);
      ASSERT_TRUE(opened.ok()) << Describe(opened.status());
      std::unique_ptr<FileSystem> fs = std::move(opened).value();
      auto attributes = fs->GetAttributes(rig.ino);
      ASSERT_TRUE(attributes.ok());
      ASSERT_EQ(attributes->size, s.new_size()) << s.ToString();
      std::vector<std::byte> record(64);
      for (uint64_t x : offsets) {
        auto n = fs->Read(rig.ino, x, record);
        ASSERT_TRUE(n.ok() && *n == 64) << s.ToString() << ": record at " << x;
        for (uint64_t i = 0; i < 64; ++i) {
          ASSERT_EQ(record[i], PatternByte(s.seed + 77, x + i))
              << s.ToString() << ": the record persisted at file offset " << x
              << " did not survive the crash (byte " << i
              << ")\nreproduce: MDFS_DIRECT_CRASH_ROUND=" << round << " ./tests/direct_crash_test";
        }
      }
      tally.records += offsets.size();
      ++tally.iterations;
      fs.reset();
      e = CheckFsck(device, "after recovery");
      ASSERT_TRUE(e.empty()) << s.ToString() << "\n" << e;
    }
  }
  std::cout << "[ direct crash ] " << tally.iterations << " crashes after persisting through the "
            << "mapping: all " << tally.records << " records read back after recovery" << std::endl;
}

}  // namespace
}  // namespace mdfs::test
