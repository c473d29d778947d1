// Concurrency smoke test: several threads each run a seeded model workload
// (create, mkdir, write, read, truncate, fallocate, rename, link, unlink, ...)
// in their own directory of one FileSystem, checking every step against
// their own model, while readers read a shared file and list the root. At
// the end every subtree equals its model, the root lists exactly what it
// should, and fsck is clean.
//
// Knobs: MDFS_CONCURRENCY_THREADS (default 4), MDFS_CONCURRENCY_STEPS
// (default 1000 per thread), MDFS_FIRST_SEED.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "mdfs/fsck.h"
#include "model/checker.h"
#include "model/fs_driver.h"
#include "model/history.h"
#include "model/test_env.h"
#include "model/workload.h"

namespace mdfs::test {
namespace {

constexpr uint64_t kDeviceBytes = 128ull << 20;
constexpr uint64_t kSharedBytes = 1 << 20;
constexpr uint64_t kSharedSeed = 99;

// One thread's workload in directory `prefix`; reports the first mismatch.
void RunWorker(FileSystem& fs, const std::string& prefix, uint64_t seed, uint64_t steps,
               ModelFs& model) {
  WorkloadProfile profile = WorkloadProfile::Everything();
  profile.weights[static_cast<int>(OpKind::kReopen)] = 0;
  profile.max_write_bytes = 32 * 1024;
  profile.far_offset_bytes = 256 * 1024;
  profile.soft_max_file_bytes = 512 * 1024;
  profile.soft_max_nodes = 30;
  Workload workload(seed, profile);
  History history;
  const CheckOptions options{.times = false, .prefix = prefix};
  for (uint64_t step = 1; step <= steps; ++step) {
    const Op op = workload.Next(model);
    history.Add(step, op);
    std::vector<std::byte> expected_read, actual_read;
    const Outcome expected = model.Apply(op, 0, &expected_read);
    const Status status = ApplyToFileSystem(fs, WithPrefix(op, prefix), &actual_read);
    testing::AssertionResult result = testing::AssertionSuccess();
    if (!expected.Accepts(status.code())) {
      result = testing::AssertionFailure() << op.ToString() << " returned " << status.ToString()
                                           << ", the model expects " << CodeName(expected.code);
    } else if (op.kind == OpKind::kRead && actual_read != expected_read) {
      result = testing::AssertionFailure() << op.ToString() << " read wrong bytes";
    }
    for (const std::string& path : {op.path, op.path2}) {
      if (result && !path.empty()) result = CheckPath(fs, model, path, options);
    }
    if (!result) {
      ADD_FAILURE() << prefix << " (seed " << seed << "), step " << step << ": " << result.message()
                    << "\nlast operations:\n"
                    << history.Dump();
      return;
    }
  }
}

// Reads random ranges of /shared and lists the root until `stop`.
void RunReader(FileSystem& fs, InodeNumber shared, const std::set<std::string>& root_names,
               uint64_t seed, const std::atomic<bool>& stop) {
  std::mt19937_64 random(seed);
  std::vector<std::byte> buffer(64 * 1024);
  while (!stop.load()) {
    const uint64_t offset = random() % kSharedBytes;
    auto read = fs.Read(shared, offset, buffer);
    const uint64_t want = std::min<uint64_t>(buffer.size(), kSharedBytes - offset);
    if (!read.ok() || *read != want ||
        !std::equal(buffer.begin(), buffer.begin() + want,
                    PatternBytes(kSharedSeed, offset, want).begin())) {
      ADD_FAILURE() << "concurrent read of /shared at " << offset << " went wrong";
      return;
    }
    auto listed = fs.ReadDirectory(kRootInode);
    std::set<std::string> names;
    if (listed.ok()) {
      for (const DirectoryEntry& entry : *listed) names.insert(entry.name);
    }
    if (!listed.ok() || names != root_names || !fs.StatFs().ok()) {
      ADD_FAILURE() << "concurrent ReadDirectory/StatFs of the root went wrong";
      return;
    }
  }
}

TEST(ConcurrencyTest, ThreadsInTheirOwnDirectoriesMatchTheirModels) {
  const uint64_t threads = EnvUint("MDFS_CONCURRENCY_THREADS", 4);
  const uint64_t steps = EnvUint("MDFS_CONCURRENCY_STEPS", 1000);
  const uint64_t first_seed = EnvUint("MDFS_FIRST_SEED", 1);
  auto device = CreateMemoryDevice(kDeviceBytes);
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto opened = FileSystem::Open(device->get());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<FileSystem> fs = std::move(*opened);

  auto shared = fs->Create(kRootInode, "shared", 0644);
  ASSERT_TRUE(shared.ok());
  ASSERT_TRUE(fs->Write(shared->ino, 0, PatternBytes(kSharedSeed, 0, kSharedBytes)).ok());
  std::set<std::string> root_names = {"shared"};
  std::vector<ModelFs> models(threads);
  for (uint64_t i = 0; i < threads; ++i) {
    root_names.insert("t" + std::to_string(i));
    ASSERT_TRUE(fs->Mkdir(kRootInode, "t" + std::to_string(i), 0755).ok());
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> readers, workers;
  for (uint64_t i = 0; i < 2; ++i) {
    readers.emplace_back(RunReader, std::ref(*fs), shared->ino, std::cref(root_names),
                         first_seed + 1000 + i, std::cref(stop));
  }
  for (uint64_t i = 0; i < threads; ++i) {
    workers.emplace_back(RunWorker, std::ref(*fs), "/t" + std::to_string(i), first_seed + i, steps,
                         std::ref(models[i]));
  }
  for (std::thread& worker : workers) worker.join();
  stop = true;
  for (std::thread& reader : readers) reader.join();

  for (uint64_t i = 0; i < threads; ++i) {
    const std::string prefix = "/t" + std::to_string(i);
    EXPECT_TRUE(CheckTree(*fs, models[i], {.times = false, .prefix = prefix})) << prefix;
  }
  fs.reset();
  auto report = CheckFileSystem(device->get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->clean()) << DescribeProblems(*report);
}

// The DESIGN.md rule "no block is ever observed by the wrong file": each
// writer owns a file whose bytes are all its tag (index + 1) or zero, and
// writes, truncates, punches, zeroes, collapses and inserts in it; blocks
// are freed and reallocated all the time. Readers read random ranges of
// random files concurrently: every byte must be 0 or that file's tag.
TEST(ConcurrencyTest, NoFileEverSeesAnotherFilesBytes) {
  constexpr int kFiles = 4;
  const uint64_t steps = EnvUint("MDFS_CONCURRENCY_STEPS", 1000);
  auto device = CreateMemoryDevice(kDeviceBytes);
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  auto opened = FileSystem::Open(device->get());
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<FileSystem> fs = std::move(*opened);
  std::vector<InodeNumber> files;
  for (int i = 0; i < kFiles; ++i) {
    auto file = fs->Create(kRootInode, "f" + std::to_string(i), 0644);
    ASSERT_TRUE(file.ok());
    files.push_back(file->ino);
  }
  std::atomic<bool> stop{false};
  auto writer = [&](int index) {
    std::mt19937_64 random(index + 1);
    const std::vector<std::byte> tagged(256 * 1024, static_cast<std::byte>(index + 1));
    const InodeNumber ino = files[index];
    for (uint64_t step = 0; step < steps; ++step) {
      const uint64_t offset = random() % (3u << 20), length = 1 + random() % tagged.size();
      const uint64_t aligned = offset / 4096 * 4096, blocks = 4096 * (1 + random() % 32);
      Status status;
      switch (random() % 7) {
        case 0:
        case 1:
        case 2:
          status = fs->Write(ino, offset, std::span(tagged).first(length)).status();
          break;
        case 3:
          status = fs->Truncate(ino, random() % (4u << 20));
          break;
        case 4:
          status = fs->Fallocate(ino, kFallocatePunchHole | kFallocateKeepSize, offset, length);
          break;
        case 5:
          status = fs->Fallocate(ino, kFallocateZeroRange, offset, length);
          break;
        default:
          status = fs->Fallocate(
              ino, random() % 2 ? kFallocateCollapseRange : kFallocateInsertRange, aligned, blocks);
          if (status.code() == Code::kInvalidArgument || status.code() == Code::kFileTooLarge)
            status = {};
      }
      if (!status.ok()) {
        ADD_FAILURE() << "file " << index << " step " << step << ": " << status.ToString();
        return;
      }
    }
  };
  auto reader = [&](uint64_t seed) {
    std::mt19937_64 random(seed);
    std::vector<std::byte> buffer(128 * 1024);
    while (!stop.load()) {
      const int index = static_cast<int>(random() % kFiles);
      auto read = fs->Read(files[index], random() % (4u << 20), buffer);
      if (!read.ok()) {
        ADD_FAILURE() << "read: " << read.status().ToString();
        return;
      }
      for (size_t i = 0; i < *read; ++i) {
        if (buffer[i] != std::byte{0} && buffer[i] != static_cast<std::byte>(index + 1)) {
          ADD_FAILURE() << "file " << index << " shows byte " << static_cast<int>(buffer[i])
                        << ", which belongs to file " << static_cast<int>(buffer[i]) - 1;
          return;
        }
      }
    }
  };
  std::vector<std::thread> writers, readers;
  for (int i = 0; i < 2; ++i) readers.emplace_back(reader, 100 + i);
  for (int i = 0; i < kFiles; ++i) writers.emplace_back(writer, i);
  for (std::thread& thread : writers) thread.join();
  stop = true;
  for (std::thread& thread : readers) thread.join();
  fs.reset();
  auto report = CheckFileSystem(device->get());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << DescribeProblems(*report);
}

}  // namespace
}  // namespace mdfs::test
