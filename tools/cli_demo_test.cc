// End-to-end test of `mdfs demo` (the README's main-job command): the whole
// MAP_DIRECT cycle on a temporary image — exit code, the key lines of each
// step, and the image it leaves behind. Registered with ctest as mdfs_demo.
#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class DemoTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    RunResult help = Run({"demo", "--help"});
    ASSERT_EQ(help.exit_code, 0) << "mdfs demo --help failed";
  }
};

TEST_F(DemoTest, RunsTheWholeMapPersistRecallTruncateCycle) {
  std::string image = Path("demo.img");
  RunResult r = Run({"demo", image, "--size", "32M"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(r.err.empty()) << r.Describe();
  // One line (or more) per step, in order.
  const std::vector<std::string> key_lines = {
      "did not exist: created (32 MiB) and formatted",
      "[3] map_direct",
      "PROT_READ|PROT_WRITE, kMapDirectAllocate",
      "allocated, zeroed and made durable in metadata",
      "[4] persist",
      " records persisted in",
      "Layouts, like /proc/locks:",
      "on_recall runs, on the truncating thread",
      "recalling for",
      "Truncate returned OK",
      "recall latency",
      "does not overlap the truncated range: not recalled",
      "died of SIGBUS",
      "lease revoked",
      "512 of 512 intact",  // through the surviving read-only mapping
      "/map-demo.log is 32768 bytes",
      "(all persisted records below the new size): 512 of 512 intact",
      "clean",
      "mdfs demo: OK",
  };
  size_t at = 0;
  for (const std::string& line : key_lines) {
    size_t found = r.out.find(line, at);
    ASSERT_NE(found, std::string::npos) << "missing, or out of order: " << line << "\n"
                                        << r.Describe();
    at = found;
  }
  EXPECT_EQ(Count(r.out, "died of SIGBUS"), 2u) << r.out;
  // An image file opened with --access mmap (the demo's default): msync on
  // a disk file system, volatile when $TMPDIR is a tmpfs — never cpu-cache
  // on an ordinary file.
  EXPECT_TRUE(Contains(r.out, "): mode msync\n") || Contains(r.out, "): mode volatile\n")) << r.out;

  // What the demo left: a clean image with the truncated, persisted log.
  Ok({"fsck", image});
  nlohmann::json stat = Json({"stat", image, "/map-demo.log", "--json"});
  EXPECT_EQ(stat["size"], 32768);
  std::string log = Ok({"get", image, "/map-demo.log", "-"}).out;
  ASSERT_EQ(log.size(), 32768u);
  for (size_t record = 0; record < 512; record += 511) {
    EXPECT_EQ(log.substr(record * 64, 8), "MDFSLOG1") << "record " << record;
  }

  // Again on the same image: reused, the old demo file replaced.
  RunResult again = Run({"demo", image, "--records", "256"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_TRUE(Contains(again.out, "exists: opened the mdfs file system")) << again.out;
  EXPECT_TRUE(Contains(again.out, "existed: removed the previous demo file")) << again.out;
  EXPECT_TRUE(Contains(again.out, "128 of 128 intact")) << again.out;
  Ok({"fsck", image});
}

TEST_F(DemoTest, PreadAccessPersistsByMsyncToo) {
  RunResult r = Run({"--access", "pread", "demo", Path("p.img"), "--size", "16M", "--records",
                     "256", "--length", "64K"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, "mode fdatasync")) << r.out;
  EXPECT_TRUE(Contains(r.out, "msync(MS_SYNC) of the record's page")) << r.out;
  EXPECT_TRUE(Contains(r.out, "mdfs demo: OK")) << r.out;
}

TEST_F(DemoTest, HelpIsAManualPage) {
  RunResult help = Ok({"demo", "--help"});
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "ARGUMENTS", "OPTIONS",
                              "EXIT STATUS", "EXAMPLES", "SIGBUS", "on_recall", "--records"}) {
    EXPECT_TRUE(Contains(help.out, section)) << section << "\n" << help.out;
  }
  EXPECT_TRUE(Contains(Ok({"--help"}).out, "    demo ")) << "demo is not in mdfs --help";
}

TEST_F(DemoTest, RefusesAForeignFileAndBadArguments) {
  std::string junk = Path("junk.img");
  WriteFile(junk, std::string(1 << 20, 'x'));
  RunResult r = Run({"demo", junk});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err.rfind("mdfs demo: " + junk + ": corruption: not an mdfs file system", 0), 0u)
      << r.Describe();
  EXPECT_TRUE(ReadFile(junk) == std::string(1 << 20, 'x')) << "the demo wrote to a foreign file";

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"demo", Path("x.img"), "--records", "5"},
           {"demo", Path("x.img"), "--records", "16384"},  // = 1M / 64: nothing left to write
           {"demo", Path("x.img"), "--size", "12Q"},
           {"demo", Path("x.img"), "--bogus"}}) {
    RunResult bad = Run(args);
    EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
    EXPECT_EQ(bad.err.rfind("mdfs demo: ", 0), 0u) << bad.Describe();
  }
  EXPECT_FALSE(std::filesystem::exists(Path("x.img")));
}

}  // namespace
}  // namespace mdfs::cli::testing
