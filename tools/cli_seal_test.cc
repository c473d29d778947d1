// End-to-end tests of mdfs seal / unseal and of the lease break time
// (mkfs --lease-break-time, df): the built binary, as a user runs it.
#include "cli_test_util.h"
#include "lease/leases.h"

namespace mdfs::cli::testing {
namespace {

constexpr size_t kKiB = 1024;

class SealTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("a.img", "16M");
    content_ = RandomBytes(100 * kKiB + 7, 21);
    Ok({"put", image_, "-", "/f"}, content_);
  }
  nlohmann::json Stat(const std::string& path) { return Json({"stat", image_, path, "--json"}); }

  std::string image_;
  std::string content_;
};

TEST_F(SealTest, SealedFileRefusesBlockMapChangesUntilUnsealed) {
  EXPECT_EQ(Stat("/f")["sealed"], false);
  RunResult seal = Ok({"seal", image_, "/f"});
  EXPECT_TRUE(seal.out.empty()) << seal.Describe();
  EXPECT_TRUE(seal.err.empty()) << seal.Describe();
  nlohmann::json stat = Stat("/f");
  EXPECT_EQ(stat["sealed"], true);
  EXPECT_EQ(stat["flags"], 1);
  RunResult human = Ok({"stat", image_, "/f"});
  EXPECT_TRUE(Contains(human.out, "Flags:        sealed")) << human.out;

  // Every breaker fails with "text file busy" and changes nothing.
  std::string before = ReadFile(image_);
  ExpectError(Run({"truncate", image_, "/f", "4K"}), 1, "truncate", {"/f", "text file busy"});
  ExpectError(Run({"fallocate", image_, "/f", "--punch-hole", "0", "4K"}), 1, "fallocate",
              {"text file busy"});
  ExpectError(Run({"fallocate", image_, "/f", "1M", "4K"}), 1, "fallocate", {"text file busy"});
  ExpectError(Run({"rm", image_, "/f"}), 1, "rm", {"/f", "text file busy"});
  ExpectError(Run({"put", image_, "-", "/f"}, std::string("new")), 1, "put", {"text file busy"});
  EXPECT_TRUE(ReadFile(image_) == before) << "a refused breaker changed the image";
  EXPECT_TRUE(Ok({"get", image_, "/f", "-"}).out == content_);

  Ok({"seal", image_, "/f"});  // sealing a sealed file: nothing to do
  EXPECT_TRUE(ReadFile(image_) == before) << "sealing a sealed file wrote";

  Ok({"unseal", image_, "/f"});
  EXPECT_EQ(Stat("/f")["sealed"], false);
  EXPECT_TRUE(Contains(Ok({"stat", image_, "/f"}).out, "Flags:        none"));
  Ok({"unseal", image_, "/f"});  // not sealed: nothing to do
  Ok({"truncate", image_, "/f", "4K"});
  EXPECT_EQ(Stat("/f")["size"], 4 * kKiB);
  Ok({"rm", image_, "/f"});
  RunResult fsck = Ok({"fsck", image_});
  EXPECT_TRUE(Contains(fsck.out, "clean")) << fsck.out;
}

TEST_F(SealTest, SealFreesPreallocatedBlocksPastTheEnd) {
  Ok({"fallocate", image_, "/f", "--keep-size", "1M", "1M"});
  EXPECT_GT(Stat("/f")["allocated_bytes"].get<uint64_t>(), 1024 * kKiB);
  Ok({"seal", image_, "/f"});
  nlohmann::json stat = Stat("/f");
  EXPECT_EQ(stat["allocated_bytes"], (content_.size() + 4095) / 4096 * 4096) << stat.dump(2);
  EXPECT_TRUE(Ok({"get", image_, "/f", "-"}).out == content_);
  Ok({"fsck", image_});
}

TEST_F(SealTest, HolesAndUnwrittenExtentsAreNamedByByteOffset) {
  // A hole at byte 0 (a file grown by truncate).
  Ok({"put", image_, "-", "/sparse"}, std::string());
  Ok({"truncate", image_, "/sparse", "64K"});
  // Data in the first block, then a hole from 4096.
  Ok({"put", image_, "-", "/tail"}, RandomBytes(4 * kKiB, 22));
  Ok({"truncate", image_, "/tail", "64K"});
  // Data, then an unwritten extent from 102400 (= 25 blocks).
  Ok({"fallocate", image_, "/f", "200K", "8K"});
  const std::string before = ReadFile(image_);
  ExpectError(Run({"seal", image_, "/sparse"}), 1, "seal",
              {"/sparse", "invalid argument", "hole at byte 0"});
  ExpectError(Run({"seal", image_, "/tail"}), 1, "seal", {"/tail", "hole at byte 4096"});
  // 100 KiB + 7 bytes of data: blocks 0..25 written; the fallocated range
  // [200K, 208K) is unwritten; [104K, 200K) between them is a hole.
  ExpectError(Run({"seal", image_, "/f"}), 1, "seal", {"/f", "hole at byte 106496"});
  EXPECT_TRUE(ReadFile(image_) == before) << "a refused seal changed the image";
  Ok({"fallocate", image_, "/f", "--zero-range", "100K", "100K"});
  ExpectError(Run({"seal", image_, "/f"}), 1, "seal",
              {"/f", "unwritten (preallocated) extent at byte"});
  EXPECT_EQ(Stat("/f")["sealed"], false);
  EXPECT_EQ(Stat("/sparse")["sealed"], false);
  // An empty file has no block to miss: it seals.
  Ok({"put", image_, "-", "/empty"}, std::string());
  Ok({"seal", image_, "/empty"});
  ExpectError(Run({"truncate", image_, "/empty", "1"}), 1, "truncate", {"text file busy"});
  Ok({"fsck", image_});
}

TEST_F(SealTest, WrongTargetsAndUsage) {
  Ok({"mkdir", image_, "/dir"});
  Ok({"ln", image_, "/f", "/link", "-s"});
  std::string before = ReadFile(image_);
  for (const char* command : {"seal", "unseal"}) {
    ExpectError(Run({command, image_, "/nope"}), 1, command, {"/nope", "not found"});
    ExpectError(Run({command, image_, "/dir"}), 1, command, {"/dir", "is a directory"});
    ExpectError(Run({command, image_, "/link"}), 1, command, {"/link", "not a regular file"});
    ExpectError(Run({command, image_}), 2, command, {"PATH", "see 'mdfs " + std::string(command)});
    ExpectError(Run({command, image_, "/f", "--bogus"}), 2, command, {"--bogus"});
    ExpectError(Run({command, Path("missing.img"), "/f"}), 1, command, {"missing.img"});
  }
  EXPECT_TRUE(ReadFile(image_) == before) << "a refused seal/unseal changed the image";
}

TEST_F(CliTest, LeaseBreakTimeIsSetByMkfsAndShownByDf) {
  std::string image = MakeImage("default.img", "8M");
  EXPECT_EQ(Json({"df", image, "--json"})["lease_break_time_ms"], 45000);
  EXPECT_TRUE(Contains(Ok({"df", image}).out, "Lease break time:  45000 ms (45 s)"));

  RunResult mkfs = Ok({"mkfs", Path("b.img"), "--size", "8M", "--lease-break-time", "2500ms"});
  EXPECT_TRUE(Contains(mkfs.out, "Lease break time:  2500 ms (2.5 s)")) << mkfs.out;
  EXPECT_EQ(Json({"df", Path("b.img"), "--json"})["lease_break_time_ms"], 2500);
  Ok({"mkfs", Path("b.img"), "--force", "--lease-break-time", "5s"});
  EXPECT_EQ(Json({"df", Path("b.img"), "--json"})["lease_break_time_ms"], 5000);
  Ok({"mkfs", Path("b.img"), "--force", "--lease-break-time", "0"});
  EXPECT_EQ(Json({"df", Path("b.img"), "--json"})["lease_break_time_ms"], 0);
  EXPECT_TRUE(Contains(Ok({"df", Path("b.img")}).out, "0 (never revoke)"));
  Ok({"fsck", Path("b.img")});

  for (const char* bad : {"1.5s", "5m", "-1", "soon"}) {
    RunResult r = Run({"mkfs", Path("c.img"), "--size", "8M", "--lease-break-time", bad});
    ExpectError(r, 2, "mkfs", {"invalid time '" + std::string(bad) + "'"});
    EXPECT_FALSE(std::filesystem::exists(Path("c.img")));
  }
}

}  // namespace
}  // namespace mdfs::cli::testing
