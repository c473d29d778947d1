// mdfs get -r on sound images: a tree round-trips byte for byte (files,
// empty and sparse files, nested directories, symbolic links, names that
// are not UTF-8, modes, owners, times), a second run over the copy
// reuses it, and a file that fails part way is removed. Each test runs the
// built binary; the engine, opened on the image file, is the oracle.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cli_tree_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

// Times from 2017 with odd nanoseconds, distinct per object.
constexpr int64_t kFirstTimeNs = 1'500'000'000'123'456'789;

class GetTreeTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("t.img", "64M");
  }
  void Put(const std::string& path, const std::string& data) {
    Ok({"put", image_, "-", path}, data);
  }
  void BuildTree();
  void SetAttributesTheCliCannot();
  // Whether the host file system keeps holes (tested on a scratch file).
  bool HostKeepsHoles();

  std::string image_;
};

void GetTreeTest::BuildTree() {
  Ok({"mkdir", image_, "/a/b/c", "-p"});
  Ok({"mkdir", image_, "/a/private", "-m", "0700"});
  Ok({"mkdir", image_, "/ro", "-m", "0555"});
  Put("/a/f1", RandomBytes(100 * kKiB + 5, 1));
  Put("/a/b/c/deep", RandomBytes(9 * kMiB + 3, 2));  // more than one 8 MiB chunk
  Put("/empty", "");
  Put("/ro/inside", "inside a read-only directory");
  Put("/a/private/secret", "s3cret");
  Put("/we\xff"
      "ird\nname",
      "a name that is not UTF-8");
  // A hole, data, an unwritten extent, a trailing hole.
  Put("/sparse", "");
  Ok({"truncate", image_, "/sparse", "24M"});
  Ok({"fallocate", image_, "/sparse", "2M", "1M"});
  int fd = ::open(Path("middle").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 16 * kMiB), 0);
  ASSERT_EQ(::pwrite(fd, "middle", 6, 10 * kMiB), 6);
  ::close(fd);
  Ok({"put", image_, Path("middle"), "/sparse2"});
  WriteFile(Path("exec"), "#!/bin/sh\n");
  ASSERT_EQ(::chmod(Path("exec").c_str(), 0741), 0);
  Ok({"put", image_, Path("exec"), "/a/exec"});
  Ok({"ln", image_, "-s", "../f1", "/a/b/rel"});
  Ok({"ln", image_, "-s", "/etc/passwd", "/abs"});
  Ok({"ln", image_, "-s", "no/such\xfe", "/dangling"});
}

// Distinct atime and mtime on every object; another owner on /a/f1 (with
// the set-user-ID bit) and /a/b.
void GetTreeTest::SetAttributesTheCliCannot() {
  EngineImage engine = OpenEngine(image_, /*read_only=*/false);
  ASSERT_NE(engine.fs, nullptr);
  FileSystem& fs = *engine.fs;
  int64_t next = kFirstTimeNs;
  std::vector<InodeNumber> pending = {kRootInode};
  while (!pending.empty()) {
    InodeNumber ino = pending.back();
    pending.pop_back();
    if ((fs.GetAttributes(ino)->mode & S_IFMT) == S_IFDIR) {
      auto entries = fs.ReadDirectory(ino);
      ASSERT_TRUE(entries.ok()) << entries.status().ToString();
      for (const DirectoryEntry& entry : *entries) pending.push_back(entry.ino);
    }
    SetAttributesRequest times;
    times.mask = kSetAtime | kSetMtime;
    times.atime.ns = next + 7;
    times.mtime.ns = next;
    next += 1'000'000'007;
    ASSERT_TRUE(fs.SetAttributes(ino, times).ok());
  }
  SetAttributesRequest owner;
  owner.mask = kSetMode | kSetUid | kSetGid;
  owner.mode = 04755;
  owner.uid = 4321;
  owner.gid = 8765;
  ASSERT_TRUE(fs.SetAttributes(fs.LookupPath("/a/f1")->ino, owner).ok());
  owner.mask = kSetUid | kSetGid;
  owner.uid = 1111;
  owner.gid = 2222;
  ASSERT_TRUE(fs.SetAttributes(fs.LookupPath("/a/b")->ino, owner).ok());
}

bool GetTreeTest::HostKeepsHoles() {
  int fd = ::open(Path("probe").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_EQ(::ftruncate(fd, 8 * kMiB), 0);
  ::fsync(fd);
  struct stat st {};
  ::fstat(fd, &st);
  ::close(fd);
  return static_cast<uint64_t>(st.st_blocks) * 512 < 1 * kMiB;
}

struct stat LinkStat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

TEST_F(GetTreeTest, ASoundTreeRoundTripsByteForByte) {
  BuildTree();
  SetAttributesTheCliCannot();
  RunResult r = Ok({"get", "-r", image_, "/", Path("out")});
  EXPECT_EQ(r.err, "") << r.Describe();
  TreeTotals totals = ExpectSameTree(image_, "/", Path("out"));
  EXPECT_EQ(totals.files, 9u);
  EXPECT_EQ(totals.directories, 6u);
  EXPECT_EQ(totals.symlinks, 3u);
  EXPECT_EQ(r.out, SummaryLine(totals, 0)) << r.Describe();
  // Independently of the oracle: contents, a link's target, DIR itself.
  EXPECT_TRUE(ReadFile(Path("out/a/b/c/deep")) == RandomBytes(9 * kMiB + 3, 2));
  EXPECT_TRUE(ReadFile(Path("out/sparse2")) == ReadFile(Path("middle")));
  EXPECT_EQ(std::filesystem::read_symlink(Path("out/dangling")).string(), "no/such\xfe");
  EXPECT_EQ(LinkStat(Path("out/a/f1")).st_mode & 07777, 04755u);
  const mode_t umask_bits = ::umask(0);
  ::umask(umask_bits);
  EXPECT_EQ(LinkStat(Path("out/a/exec")).st_mode & 07777, 0741u & ~umask_bits);
  EXPECT_EQ(LinkStat(Path("out/ro")).st_mode & 07777, 0555u);
  struct stat top = LinkStat(Path("out"));
  nlohmann::json root = Json({"stat", image_, "/", "--json"});
  EXPECT_EQ(NsOf(top.st_mtim), root["mtime_ns"].get<int64_t>());
  EXPECT_EQ(top.st_mode & 07777, std::stoul(root["permissions"].get<std::string>(), nullptr, 8));
  if (HostKeepsHoles()) {
    EXPECT_LT(LinkStat(Path("out/sparse")).st_blocks * 512, 64 * kKiB) << "holes were written";
    EXPECT_LT(LinkStat(Path("out/sparse2")).st_blocks * 512, 64 * kKiB) << "holes were written";
  }
  // Again over the copy: files are overwritten, directories merged into,
  // links replaced; the result is the same.
  RunResult again = Ok({"get", "-r", image_, "/", Path("out")});
  EXPECT_EQ(again.out, r.out) << again.Describe();
  ExpectSameTree(image_, "/", Path("out"));
}

TEST_F(GetTreeTest, ASubtreeAndJsonOutput) {
  BuildTree();
  nlohmann::json json = Json({"get", "-r", image_, "/a/", Path("sub"), "--json"});
  TreeTotals totals = ExpectSameTree(image_, "/a", Path("sub"));
  EXPECT_EQ(json["path"], "/a");
  EXPECT_EQ(json["directory"], Path("sub"));
  EXPECT_EQ(json["files"].get<uint64_t>(), totals.files);
  EXPECT_EQ(json["directories"].get<uint64_t>(), totals.directories);
  EXPECT_EQ(json["symlinks"].get<uint64_t>(), totals.symlinks);
  EXPECT_EQ(json["bytes"].get<uint64_t>(), totals.bytes);
  EXPECT_EQ(json["failure_count"].get<uint64_t>(), 0u);
  EXPECT_TRUE(json["failures"].empty());
}

// A file whose host write fails part way (here: past RLIMIT_FSIZE) is
// removed again and reported; the other files are copied.
TEST_F(GetTreeTest, AFileThatFailsPartWayIsRemovedAndListed) {
  Put("/a", RandomBytes(10 * kKiB, 3));
  Put("/big", RandomBytes(3 * kMiB, 4));
  Put("/z", "last");
  ASSERT_EQ(::mkdir(Path("out2").c_str(), 0755), 0);
  WriteFile(Path("out2/big"), "an older host file");
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limit = saved;
  limit.rlim_cur = 1 * kMiB;
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // write fails with EFBIG instead
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  RunResult fresh = Run({"get", "-r", image_, "/", Path("out")});
  RunResult over = Run({"get", "-r", image_, "/", Path("out2")});
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, old_handler);

  ExpectError(
      fresh, 1, "get",
      {"/big: file too large", "the partly written host file " + Path("out/big") + " was removed"});
  EXPECT_EQ(fresh.out, "get: copied 2 files, 1 directory, 0 symlinks (" +
                           std::to_string(10 * kKiB + 4) +
                           " bytes); 1 object could not be read or written\n");
  EXPECT_FALSE(std::filesystem::exists(Path("out/big")));
  EXPECT_TRUE(ReadFile(Path("out/a")) == RandomBytes(10 * kKiB, 3));
  EXPECT_EQ(ReadFile(Path("out/z")), "last");
  ExpectError(over, 1, "get", {"(it had replaced an existing file) was removed"});
  EXPECT_FALSE(std::filesystem::exists(Path("out2/big")));
}

TEST_F(GetTreeTest, ProgressOnATerminalOnly) {
  Put("/big", "x");
  Ok({"truncate", image_, "/big", "100M"});  // a hole: quick to copy
  RunResult terminal = RunMdfsWithTerminalStderr({"get", "-r", image_, "/", Path("out")});
  EXPECT_EQ(terminal.exit_code, 0) << terminal.Describe();
  EXPECT_TRUE(Contains(terminal.err, "get: 100 MiB, 1 file")) << terminal.Describe();
  RunResult quiet = Ok({"get", "-r", image_, "/", Path("out")});
  EXPECT_EQ(quiet.err, "") << quiet.Describe();
}

TEST_F(GetTreeTest, UsageAndTheManualPage) {
  Put("/f", "file");
  RunResult to_stdout = Run({"get", "-r", image_, "/", "-"});
  EXPECT_EQ(to_stdout.exit_code, 2) << to_stdout.Describe();
  EXPECT_TRUE(Contains(to_stdout.err, "standard output")) << to_stdout.Describe();
  RunResult json_alone = Run({"get", image_, "/f", Path("f"), "--json"});
  EXPECT_EQ(json_alone.exit_code, 2) << json_alone.Describe();
  EXPECT_FALSE(std::filesystem::exists(Path("f")));
  ExpectError(Run({"get", "-r", image_, "/f", Path("out")}), 1, "get",
              {"/f: not a directory", "without -r"});
  ExpectError(Run({"get", "-r", image_, "/nope", Path("out")}), 1, "get", {"/nope: not found"});
  EXPECT_FALSE(std::filesystem::exists(Path("out")));
  RunResult help = Ok({"get", "--help"});
  for (const char* part : {"mdfs get -r IMAGE PATH DIR [--json]", "--recursive",
                           "could not be read or written", "--json without -r"}) {
    EXPECT_TRUE(Contains(help.out, part)) << part << "\n" << help.out;
  }
}

}  // namespace
}  // namespace mdfs::cli::testing
