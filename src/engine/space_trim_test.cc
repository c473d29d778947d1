// Speculative preallocation (doc/format.md, "allocation"): the unwritten
// rest of a 2 MiB chunk past EOF is trimmed by Fsync, reclaimed when an
// allocation would fail for lack of space, and dropped where the file
// grows past it leaving a gap; explicit fallocate preallocation is kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/block_map_gate.h"
#include "mdfs/file_system.h"

namespace mdfs {
namespace {

constexpr uint64_t kFileBytes = 3'000'000;
constexpr uint64_t kFileBlocks = (kFileBytes + 4095) / 4096;  // 733
constexpr uint64_t kChunkBytes = 2 << 20;

std::string Pattern(size_t size, char seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + i % 251);
  return data;
}

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Counts the block-map changes it is asked about; demands waits on request.
class CountingListener : public BlockMapListener {
 public:
  Result<BreakTicket> BeginBlockMapChange(const BlockMapChange& change, uint64_t id) override {
    changes.push_back(change);
    BreakTicket ticket{id == 0 ? ++next_id : id, waits_to_demand > 0};
    if (waits_to_demand > 0) --waits_to_demand;
    return ticket;
  }
  Status WaitForBreak(uint64_t) override {
    ++waits;
    return Status::Ok();
  }
  void EndBlockMapChange(uint64_t) override {}
  std::vector<BlockMapChange> Of(InodeNumber ino, BlockMapChangeKind kind) const {
    std::vector<BlockMapChange> found;
    for (const BlockMapChange& c : changes) {
      if (c.ino == ino && c.kind == kind) found.push_back(c);
    }
    return found;
  }
  std::vector<BlockMapChange> changes;
  int waits_to_demand = 0;
  int waits = 0;
  uint64_t next_id = 0;
};

class SpaceTrimTest : public ::testing::Test {
 protected:
  void SetUpDevice(uint64_t bytes) {
    auto device = CreateMemoryDevice(bytes);
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
    ASSERT_TRUE(FileSystem::Format(device_.get()).ok());
    Reopen();
  }
  void SetUp() override { SetUpDevice(64 << 20); }
  void Reopen() {
    fs_.reset();
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }
  // A new file holding `data` (one Write), not fsynced.
  InodeNumber NewFile(const std::string& name, const std::string& data) {
    auto file = fs_->Create(kRootInode, name, 0644);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return 0;
    auto written = fs_->Write(file->ino, 0, Bytes(data));
    EXPECT_TRUE(written.ok()) << name << ": " << written.status().ToString();
    return file->ino;
  }
  // (Held in a variable: a range-for over *GetExtents() would dangle.)
  std::vector<ExtentInfo> Extents(InodeNumber ino) {
    Result<std::vector<ExtentInfo>> extents = fs_->GetExtents(ino);
    EXPECT_TRUE(extents.ok()) << extents.status().ToString();
    return extents.ok() ? *extents : std::vector<ExtentInfo>{};
  }
  uint64_t Allocated(InodeNumber ino) { return fs_->GetAttributes(ino)->allocated_blocks; }
  uint64_t FreeBlocks() { return fs_->StatFs()->free_blocks; }
  std::string ReadAll(InodeNumber ino) {
    std::string out(fs_->GetAttributes(ino)->size, '\0');
    auto n = fs_->Read(ino, 0, std::as_writable_bytes(std::span(out)));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return out;
  }
  // Bytes of `ino` mapped (written or unwritten) in [begin, end).
  uint64_t MappedBytesIn(InodeNumber ino, uint64_t begin, uint64_t end) {
    uint64_t mapped = 0;
    for (const ExtentInfo& e : Extents(ino)) {
      uint64_t low = std::max(begin, e.file_offset);
      uint64_t high = std::min(end, e.file_offset + e.length);
      if (low < high) mapped += high - low;
    }
    return mapped;
  }

  // Where byte `offset` of `ino` lies on the device (UINT64_MAX: a hole).
  uint64_t DeviceOffsetOf(InodeNumber ino, uint64_t offset) {
    for (const ExtentInfo& e : Extents(ino)) {
      if (offset >= e.file_offset && offset < e.file_offset + e.length) {
        return e.device_offset + (offset - e.file_offset);
      }
    }
    return UINT64_MAX;
  }

  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(SpaceTrimTest, FsyncTrimsTheChunkTailOfAFinishedFile) {
  std::string data = Pattern(kFileBytes, 'a');
  InodeNumber ino = NewFile("f", data);
  ASSERT_EQ(Allocated(ino), 1024u) << "two 2 MiB chunks: the policy this trims after";
  uint64_t free_before = FreeBlocks();
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  EXPECT_EQ(Allocated(ino), kFileBlocks);
  EXPECT_EQ(FreeBlocks(), free_before + (1024 - kFileBlocks));
  EXPECT_EQ(ReadAll(ino), data);
  Reopen();
  EXPECT_EQ(Allocated(ino), kFileBlocks);
  EXPECT_EQ(ReadAll(ino), data);
}

TEST_F(SpaceTrimTest, FdatasyncChangesNoMetadataAndKeepsTheTail) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'a'));
  ASSERT_TRUE(fs_->Fsync(ino, /*data_only=*/true).ok());
  EXPECT_EQ(Allocated(ino), 1024u);
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  EXPECT_EQ(Allocated(ino), kFileBlocks);
}

TEST_F(SpaceTrimTest, FsyncKeepsAnExplicitKeepSizePreallocation) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'a'));
  // Explicit: [EOF, EOF + 1 MiB), inside the chunk the write already mapped.
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocateKeepSize, kFileBytes, 1 << 20).ok());
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  uint64_t explicit_end_block = (kFileBytes + (1 << 20) + 4095) / 4096;  // 989
  EXPECT_EQ(Allocated(ino), explicit_end_block);
  EXPECT_EQ(fs_->GetAttributes(ino)->size, kFileBytes);
  EXPECT_EQ(MappedBytesIn(ino, kFileBlocks * 4096, explicit_end_block * 4096),
            (explicit_end_block - kFileBlocks) * 4096);
}

TEST_F(SpaceTrimTest, KeepSizeInANewChunkKeepsWhatWasAskedForOnly) {
  InodeNumber ino = NewFile("f", Pattern(2 * kChunkBytes, 'b'));
  ASSERT_EQ(Allocated(ino), 1024u);
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocateKeepSize, 2 * kChunkBytes, 4096).ok());
  ASSERT_EQ(Allocated(ino), 1536u) << "the chunk policy maps a whole chunk for one block";
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  EXPECT_EQ(Allocated(ino), 1025u);
  EXPECT_EQ(MappedBytesIn(ino, 2 * kChunkBytes, 2 * kChunkBytes + 4096), 4096u);
}

TEST_F(SpaceTrimTest, ZeroRangeKeepSizePastEofIsExplicitToo) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'c'));
  ASSERT_TRUE(fs_->Fallocate(ino, kFallocateZeroRange | kFallocateKeepSize, 3 << 20, 8192).ok());
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  EXPECT_EQ(MappedBytesIn(ino, 3 << 20, (3 << 20) + 8192), 8192u);
  EXPECT_EQ(MappedBytesIn(ino, kFileBlocks * 4096, 3 << 20), 0u);
  EXPECT_EQ(Allocated(ino), kFileBlocks + 2);
}

// The record of what is speculative is in memory (allocator.h, S2): after a
// reopen nothing past EOF is trimmed, an explicit preallocation included.
TEST_F(SpaceTrimTest, AfterReopenFsyncTrimsNothing) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'd'));
  InodeNumber explicit_ino = NewFile("g", Pattern(kFileBytes, 'e'));
  ASSERT_TRUE(fs_->Fallocate(explicit_ino, kFallocateKeepSize, kFileBytes, 1 << 20).ok());
  Reopen();
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  ASSERT_TRUE(fs_->Fsync(explicit_ino).ok());
  EXPECT_EQ(Allocated(ino), 1024u);
  EXPECT_EQ(Allocated(explicit_ino), 1024u);
}

TEST_F(SpaceTrimTest, TheTrimPassesTheGate) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'a'));
  CountingListener listener;
  GateOf(fs_.get())->SetBlockMapListener(&listener);
  listener.waits_to_demand = 1;  // a layout on the tail is being recalled
  ASSERT_TRUE(fs_->Fsync(ino).ok());
  GateOf(fs_.get())->SetBlockMapListener(nullptr);
  EXPECT_EQ(listener.waits, 1);
  std::vector<BlockMapChange> trims = listener.Of(ino, BlockMapChangeKind::kPunchHole);
  ASSERT_EQ(trims.size(), 2u) << "asked once per attempt";
  EXPECT_EQ(trims[1].offset, kFileBlocks * 4096);
  EXPECT_EQ(trims[1].end(), 1024u * 4096);
  EXPECT_EQ(Allocated(ino), kFileBlocks);
}

TEST_F(SpaceTrimTest, AWriteThatSkipsPastTheTailLeavesAHole) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'a'));
  ASSERT_TRUE(fs_->Write(ino, 10 << 20, Bytes("ten bytes!")).ok());
  EXPECT_EQ(MappedBytesIn(ino, kFileBlocks * 4096, 10 << 20), 0u);
  EXPECT_EQ(Allocated(ino), kFileBlocks + 1);
  EXPECT_EQ(ReadAll(ino).substr(kFileBytes, 4096), std::string(4096, '\0'));
}

TEST_F(SpaceTrimTest, AnAppendKeepsUsingTheTail) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'a'));
  uint64_t tail_offset = kFileBlocks * 4096;
  uint64_t tail_device = DeviceOffsetOf(ino, tail_offset);
  ASSERT_TRUE(fs_->Write(ino, kFileBytes, Bytes(Pattern(8192, 'z'))).ok());
  EXPECT_EQ(Allocated(ino), 1024u) << "the append lands in the preallocated blocks";
  EXPECT_EQ(DeviceOffsetOf(ino, tail_offset), tail_device);
}

TEST_F(SpaceTrimTest, TruncateUpOverTheTailLeavesAHole) {
  InodeNumber ino = NewFile("f", Pattern(kFileBytes, 'a'));
  ASSERT_TRUE(fs_->Truncate(ino, 8 << 20).ok());
  EXPECT_EQ(Allocated(ino), kFileBlocks);
  EXPECT_EQ(ReadAll(ino).substr(kFileBytes), std::string((8 << 20) - kFileBytes, '\0'));
}

// An 8 MiB device: 1754 data blocks, three free 2 MiB-aligned chunks.
class FullDeviceTest : public SpaceTrimTest {
 protected:
  void SetUp() override { SetUpDevice(8 << 20); }
};

TEST_F(FullDeviceTest, NoSpaceReclaimsAnotherFilesSpeculativeTail) {
  std::string a = Pattern(kFileBytes, 'a');
  InodeNumber a_ino = NewFile("a", a);
  ASSERT_EQ(Allocated(a_ino), 1024u);
  // Needs 100 blocks more than are free: only A's tail (291) can give them.
  uint64_t b_blocks = FreeBlocks() + 100;
  ASSERT_LT(b_blocks, FreeBlocks() + (1024 - kFileBlocks));
  std::string b = Pattern(b_blocks * 4096, 'b');
  auto b_file = fs_->Create(kRootInode, "b", 0644);
  ASSERT_TRUE(b_file.ok());
  CountingListener listener;
  GateOf(fs_.get())->SetBlockMapListener(&listener);
  auto written = fs_->Write(b_file->ino, 0, Bytes(b));
  GateOf(fs_.get())->SetBlockMapListener(nullptr);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(Allocated(a_ino), kFileBlocks);
  EXPECT_FALSE(listener.Of(a_ino, BlockMapChangeKind::kPunchHole).empty())
      << "the reclaim passes the gate for A";
  Reopen();
  EXPECT_EQ(ReadAll(a_ino), a);
  EXPECT_EQ(ReadAll(b_file->ino), b);
}

TEST_F(FullDeviceTest, NoSpaceLeavesExplicitPreallocationAlone) {
  InodeNumber a_ino = NewFile("a", Pattern(kFileBytes, 'a'));
  ASSERT_TRUE(
      fs_->Fallocate(a_ino, kFallocateKeepSize, kFileBytes, 2 * kChunkBytes - kFileBytes).ok());
  std::string b = Pattern((FreeBlocks() + 100) * 4096, 'b');
  auto b_file = fs_->Create(kRootInode, "b", 0644);
  ASSERT_TRUE(b_file.ok());
  EXPECT_EQ(fs_->Write(b_file->ino, 0, Bytes(b)).status().code(), Code::kNoSpace);
  EXPECT_EQ(Allocated(a_ino), 1024u);
  EXPECT_EQ(Allocated(b_file->ino), 0u) << "the failed write changed nothing";
}

TEST_F(FullDeviceTest, FallocateReclaimsToo) {
  InodeNumber a_ino = NewFile("a", Pattern(kFileBytes, 'a'));
  uint64_t wanted = FreeBlocks() + 100;
  auto b_file = fs_->Create(kRootInode, "b", 0644);
  ASSERT_TRUE(b_file.ok());
  Status status = fs_->Fallocate(b_file->ino, 0, 0, wanted * 4096);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Allocated(a_ino), kFileBlocks);
  EXPECT_GE(Allocated(b_file->ino), wanted);
}

// Power fails at each write and each flush of the Fsync that trims, and
// just after it: the file reads back whole and holds its old 1024 blocks or
// the trimmed 733, and bitmap and map agree (unlinking the file gives back
// exactly its blocks; a writable open also checks every claim).
enum class CrashAt { kWrite, kFlush, kAfter };

// Runs the trim with a crash at `point`; false when the Fsync ran to its
// end without reaching it.
bool TrimWithCrash(CrashAt at, uint64_t point) {
  auto memory = CreateMemoryDevice(64 << 20);
  EXPECT_TRUE(memory.ok() && FileSystem::Format(memory->get()).ok());
  CrashDevice crash(memory->get());
  CrashDevice::CrashOptions options{.seed = point};
  std::string data = Pattern(kFileBytes, 'k');
  uint64_t free_without_file = 0;
  InodeNumber ino = 0;
  bool crashed = false;
  {
    auto fs = FileSystem::Open(&crash);
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    auto file = (*fs)->Create(kRootInode, "f", 0644);
    ino = file->ino;
    free_without_file = (*fs)->StatFs()->free_blocks;
    EXPECT_TRUE((*fs)->Write(ino, 0, Bytes(data)).ok());
    if (at == CrashAt::kWrite) crash.CrashAtWrite(point, options);
    if (at == CrashAt::kFlush) crash.CrashAtFlush(point, options);
    Status synced = (*fs)->Fsync(ino);
    crashed = crash.crashed();
    if (!crashed && at == CrashAt::kAfter) {
      EXPECT_TRUE(synced.ok()) << synced.ToString();
      crash.Crash(options);
      crashed = true;
    }
    crash.CrashAtWrite(0, options);
    crash.CrashAtFlush(0, options);
  }
  auto fs = FileSystem::Open(memory->get());
  EXPECT_TRUE(fs.ok()) << fs.status().ToString();
  if (!fs.ok()) return false;
  uint64_t allocated = (*fs)->GetAttributes(ino)->allocated_blocks;
  EXPECT_TRUE(allocated == 1024 || allocated == kFileBlocks) << allocated;
  if (at == CrashAt::kAfter) EXPECT_EQ(allocated, kFileBlocks) << "the trim was durable";
  std::string back(kFileBytes, '\0');
  EXPECT_TRUE((*fs)->Read(ino, 0, std::as_writable_bytes(std::span(back))).ok());
  EXPECT_TRUE(back == data) << "the file's bytes changed";
  EXPECT_TRUE((*fs)->Unlink(kRootInode, "f").ok());
  EXPECT_EQ((*fs)->StatFs()->free_blocks, free_without_file);
  return crashed;
}

TEST(SpaceTrimCrashTest, ACrashDuringTheTrimLeavesTheOldMapOrTheNew) {
  int crash_points = 0;
  for (CrashAt at : {CrashAt::kWrite, CrashAt::kFlush}) {
    for (uint64_t point = 1; point < 50; ++point) {
      SCOPED_TRACE(::testing::Message() << (at == CrashAt::kWrite ? "write " : "flush ") << point);
      if (!TrimWithCrash(at, point)) break;
      ++crash_points;
    }
  }
  EXPECT_GE(crash_points, 3) << "the trim commits: two flushes and at least one write";
  EXPECT_TRUE(TrimWithCrash(CrashAt::kAfter, 1));
}

}  // namespace
}  // namespace mdfs
