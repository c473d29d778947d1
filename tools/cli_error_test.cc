// End-to-end tests of how the mdfs command fails: one-line errors on
// stderr, the documented exit codes, and nothing changed on the image.
#include <fcntl.h>
#include <unistd.h>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

void OverwriteBytes(const std::string& path, uint64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

class ErrorTest : public CliTest {
 protected:
  // An image with a directory and a file, and its bytes.
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("a.img", "16M");
    Ok({"mkdir", image_, "/dir"});
    content_ = RandomBytes(200 * kKiB + 3, 11);
    WriteFile(Path("host.bin"), content_);
    Ok({"put", image_, Path("host.bin"), "/dir/file"});
    before_ = ReadFile(image_);
  }
  void ExpectImageUnchanged(const std::string& after_what) {
    EXPECT_TRUE(ReadFile(image_) == before_) << "the image changed after " << after_what;
  }

  std::string image_;
  std::string content_;
  std::string before_;
};

TEST_F(ErrorTest, NonexistentPathFailsAndChangesNothing) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"ls", {"ls", image_, "/nope"}},
      {"stat", {"stat", image_, "/dir/nope"}},
      {"get", {"get", image_, "/nope", Path("out")}},
      {"rm", {"rm", image_, "/nope"}},
      {"mv", {"mv", image_, "/nope", "/other"}},
      {"truncate", {"truncate", image_, "/nope", "1K"}},
      {"fallocate", {"fallocate", image_, "/nope", "0", "4K"}},
      {"put", {"put", image_, Path("host.bin"), "/nope/file"}},
      {"mkdir", {"mkdir", image_, "/nope/sub"}},
      {"ln", {"ln", image_, "/nope", "/link"}},
  };
  for (const auto& [command, args] : cases) {
    RunResult r = Run(args);
    ExpectError(r, 1, command, {"/nope", "not found"});
    ExpectImageUnchanged(r.command);
  }
  EXPECT_FALSE(std::filesystem::exists(Path("out"))) << "get created the host file";
}

TEST_F(ErrorTest, MissingHostFileFailsBeforeOpeningTheImage) {
  RunResult r = Run({"put", image_, Path("absent"), "/x"});
  ExpectError(r, 1, "put", {Path("absent"), "not found"});
  ExpectImageUnchanged(r.command);
}

TEST_F(ErrorTest, UnparsableSizesExitTwoAndChangeNothing) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"truncate", {"truncate", image_, "/dir/file", "12Q"}},
      {"truncate", {"truncate", image_, "/dir/file", "-5"}},
      {"truncate", {"truncate", image_, "/dir/file", "99999999999999999999"}},
      {"fallocate", {"fallocate", image_, "/dir/file", "1.5K", "4K"}},
      {"fallocate", {"fallocate", image_, "/dir/file", "0", "lots"}},
      {"mkfs", {"mkfs", image_, "--size", "12Q", "--force"}},
      {"mkfs", {"mkfs", image_, "--size", "16777216T", "--force"}},
  };
  for (const auto& [command, args] : cases) {
    RunResult r = Run(args);
    ExpectError(r, 2, command, {"invalid size '"});
    ExpectImageUnchanged(r.command);
  }
  RunResult r = Run({"truncate", image_, "/dir/file", "12Q"});
  EXPECT_EQ(r.err,
            "mdfs truncate: invalid size '12Q': unknown suffix 'Q'; use bytes or a K, M, "
            "G, T (KiB, MiB, GiB, TiB) suffix\n");
  RunResult mkfs = Run({"mkfs", Path("new.img"), "--size", "4X"});
  ExpectError(mkfs, 2, "mkfs", {"invalid size '4X'"});
  EXPECT_FALSE(std::filesystem::exists(Path("new.img")));
}

TEST_F(ErrorTest, UsageErrorsExitTwoAndChangeNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"ls", image_, "/", "--bogus"},
      {"--access", "carrier-pigeon", "ls", image_},
      {"fallocate", image_, "/dir/file", "--punch-hole", "--collapse-range", "0", "4K"},
      {"fallocate", image_, "/dir/file", "--insert-range", "--keep-size", "0", "4K"},
      {"rm", image_, "/dir", "-r", "-d"},
      {"put", image_, Path("host.bin")},
      {"frobnicate", image_},
      {"mkdir", image_, "/new", "--mode", "999"},
  };
  for (const auto& args : cases) {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_EQ(r.err.rfind("mdfs", 0), 0u) << r.Describe();
    EXPECT_EQ(LineCount(r.err), 1u) << r.Describe();
    EXPECT_TRUE(r.out.empty()) << r.Describe();
    ExpectImageUnchanged(r.command);
  }
}

TEST_F(ErrorTest, WrongFileTypesAreRefused) {
  ExpectError(Run({"get", image_, "/dir", Path("out")}), 1, "get", {"/dir", "is a directory"});
  EXPECT_FALSE(std::filesystem::exists(Path("out")));
  ExpectError(Run({"rm", image_, "/dir"}), 1, "rm", {"/dir", "is a directory"});
  ExpectError(Run({"truncate", image_, "/dir", "0"}), 1, "truncate", {"is a directory"});
  ExpectError(Run({"mkdir", image_, "/dir"}), 1, "mkdir", {"/dir", "exists"});
  ExpectError(Run({"mkdir", image_, "/dir/file/sub"}), 1, "mkdir", {"/dir/file"});
  ExpectError(Run({"put", image_, Path("host.bin"), "/dir/file/x"}), 1, "put", {"/dir/file"});
  ExpectError(Run({"rm", image_, "/"}), 1, "rm", {"root"});
  ExpectError(Run({"put", image_, dir_, "/x"}), 1, "put", {"directory"});
  ExpectImageUnchanged("refused commands");
}

TEST_F(ErrorTest, ReadOnlyCommandsAndFsckNeverWrite) {
  Ok({"df", image_});
  Ok({"df", image_, "--json"});
  Ok({"ls", image_, "/dir"});
  Ok({"stat", image_, "/dir/file"});
  Ok({"get", image_, "/dir/file", Path("copy")});
  Ok({"fsck", image_});
  Ok({"fsck", image_, "--json"});
  Ok({"--access", "mmap", "df", image_});
  Ok({"--access", "mmap", "fsck", image_});
  ExpectImageUnchanged("read-only commands");
  EXPECT_TRUE(ReadFile(Path("copy")) == content_);
}

TEST_F(CliTest, NotAnImageIsNamedAndLeftAlone) {
  std::string junk = Path("junk.img");
  WriteFile(junk, RandomBytes(4 * kMiB, 12));
  std::string before = ReadFile(junk);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"df", junk},
                                             {"ls", junk, "/"},
                                             {"stat", junk, "/"},
                                             {"mkdir", junk, "/d"},
                                             {"put", junk, "-", "/f"}}) {
    RunResult r = Run(args, std::string("data"));
    ExpectError(r, 1, args[0], {junk, "not an mdfs file system"});
  }
  RunResult fsck = Run({"fsck", junk});
  ExpectError(fsck, 8, "fsck", {junk, "not an mdfs file system"});
  RunResult mkfs = Run({"mkfs", junk});
  ExpectError(mkfs, 1, "mkfs", {junk, "already holds data", "--force"});
  EXPECT_TRUE(ReadFile(junk) == before) << "a failing command wrote to a non-mdfs file";

  RunResult missing = Run({"df", Path("missing.img")});
  ExpectError(missing, 1, "df", {Path("missing.img"), "not found"});
  EXPECT_EQ(Run({"fsck", Path("missing.img")}).exit_code, 8);
  EXPECT_FALSE(std::filesystem::exists(Path("missing.img")));
}

TEST_F(ErrorTest, CorruptSuperblocks) {
  OverwriteBytes(image_, 64, "garbage!");  // primary superblock payload
  Ok({"ls", image_, "/dir"});              // the backup still opens it
  RunResult one = Run({"fsck", image_});
  EXPECT_EQ(one.exit_code, 4) << one.Describe();
  EXPECT_TRUE(Contains(one.out, "superblock")) << one.Describe();
  nlohmann::json report = nlohmann::json::parse(Run({"fsck", image_, "--json"}).out);
  EXPECT_EQ(report["clean"], false);
  EXPECT_GE(report["problem_count"].get<int>(), 1);

  OverwriteBytes(image_, 4096 + 64, "garbage!");  // and the backup
  std::string corrupt = ReadFile(image_);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"ls", image_, "/"}, {"df", image_}, {"put", image_, Path("host.bin"), "/x"}}) {
    ExpectError(Run(args), 1, args[0], {image_, "corruption"});
  }
  ExpectError(Run({"fsck", image_}), 8, "fsck", {image_, "superblock"});
  EXPECT_TRUE(ReadFile(image_) == corrupt) << "a failing command wrote to a corrupt image";
}

TEST_F(CliTest, MkfsRefusesToOverwriteWithoutForce) {
  std::string image = MakeImage("a.img", "8M");
  Ok({"put", image, "-", "/keep"}, std::string("precious"));
  std::string before = ReadFile(image);
  ExpectError(Run({"mkfs", image, "--size", "8M"}), 1, "mkfs",
              {image, "already holds data; use --force to overwrite"});
  ExpectError(Run({"mkfs", image}), 1, "mkfs", {"--force"});
  ExpectError(Run({"mkfs", image, "--size", "1M", "--force"}), 1, "mkfs", {"too small"});
  EXPECT_TRUE(ReadFile(image) == before);
  ExpectError(Run({"mkfs", Path("new.img")}), 2, "mkfs", {"--size"});
  EXPECT_FALSE(std::filesystem::exists(Path("new.img")));

  Ok({"mkfs", image, "--force"});
  EXPECT_EQ(std::filesystem::file_size(image), 8 * kMiB);
  EXPECT_EQ(Json({"ls", image, "/", "--json"})["entries"].size(), 0u);
  Ok({"mkfs", image, "--size", "12M", "--force", "--inodes-per", "64K", "--journal-blocks", "64"});
  EXPECT_EQ(std::filesystem::file_size(image), 12 * kMiB);
  nlohmann::json df = Json({"df", image, "--json"});
  EXPECT_EQ(df["total_blocks"], 3072);
  EXPECT_LE(df["total_inodes"].get<uint64_t>(), 12 * kMiB / (64 * kKiB) + 15);
  Ok({"fsck", image});

  WriteFile(Path("zero.img"), std::string(4 * kMiB, '\0'));  // all zero: no --force needed
  Ok({"mkfs", Path("zero.img")});
  Ok({"fsck", Path("zero.img")});
}

TEST_F(CliTest, FullDeviceFailsWithNoSpaceAndLeavesNothingBehind) {
  std::string image = MakeImage("small.img", "3M");
  std::string keep = RandomBytes(64 * kKiB, 13);
  Ok({"put", image, "-", "/keep"}, keep);
  std::string big = RandomBytes(4 * kMiB, 14);
  WriteFile(Path("big.bin"), big);

  // A regular file of known size: refused before anything changes.
  std::string before = ReadFile(image);
  ExpectError(Run({"put", image, Path("big.bin"), "/big"}), 1, "put", {"/big", "no space"});
  EXPECT_TRUE(ReadFile(image) == before) << "a refused put changed the image";

  // A stream: fails while writing; the partial file is removed.
  ExpectError(Run({"put", image, "-", "/big"}, big), 1, "put", {"/big", "no space", "removed"});
  ExpectError(Run({"stat", image, "/big"}), 1, "stat", {"not found"});
  nlohmann::json ls = Json({"ls", image, "/", "--json"});
  ASSERT_EQ(ls["entries"].size(), 1u);
  EXPECT_EQ(ls["entries"][0]["name"], "keep");
  EXPECT_TRUE(Ok({"get", image, "/keep", "-"}).out == keep);
  RunResult fsck = Ok({"fsck", image});
  EXPECT_TRUE(Contains(fsck.out, "clean")) << fsck.out;

  // Replacing an existing file with a stream that does not fit: the error
  // says the old file is gone, and it is.
  ExpectError(Run({"put", image, "-", "/keep"}, big), 1, "put", {"/keep", "no space", "replaced"});
  EXPECT_EQ(Json({"ls", image, "/", "--json"})["entries"].size(), 0u);
  Ok({"fsck", image});
  // Space is back: a file that fits can be written.
  Ok({"put", image, "-", "/again"}, keep);
  EXPECT_TRUE(Ok({"get", image, "/again", "-"}).out == keep);
}

// `get` onto the image itself (by any name) and `put` of the image into
// itself are refused before a byte of the image is truncated or written
// (issue 7: `mdfs get self.img /f self.img` used to truncate the image).
TEST_F(ErrorTest, TheImageItselfIsNeverAHostDestinationOrSource) {
  ASSERT_EQ(::link(image_.c_str(), Path("hard.img").c_str()), 0);
  ASSERT_EQ(::symlink(image_.c_str(), Path("soft.img").c_str()), 0);
  int fd = ::open(image_.c_str(), O_RDONLY);  // inherited by mdfs: /proc/self/fd/N
  ASSERT_GE(fd, 0);
  std::string by_fd = "/proc/self/fd/" + std::to_string(fd);
  for (const std::string& name : {image_, Path("hard.img"), Path("soft.img"), by_fd}) {
    ExpectError(Run({"get", image_, "/dir/file", name}), 1, "get",
                {"is the image", "same file", "refusing to overwrite"});
    ExpectImageUnchanged("get " + name);
    ExpectError(Run({"put", image_, name, "/copy"}), 1, "put",
                {"is the image", "same file", "refusing to copy into itself"});
    ExpectImageUnchanged("put " + name);
  }
  // The image opened through the symlink or hard link, destination the image.
  ExpectError(Run({"get", Path("soft.img"), "/dir/file", image_}), 1, "get", {"is the image"});
  ExpectImageUnchanged("get through the symlink");
  ::close(fd);

  // Standard output or input redirected onto the image (without truncation).
  std::string shell_get = std::string(MDFS_BINARY) + " get " + image_ + " /dir/file - 1<>" +
                          image_ + " 2>" + Path("err");
  EXPECT_NE(std::system(shell_get.c_str()), 0);
  EXPECT_TRUE(Contains(ReadFile(Path("err")), "standard output' is the image"))
      << ReadFile(Path("err"));
  ExpectImageUnchanged("get to a stdout redirected onto the image");
  std::string shell_put =
      std::string(MDFS_BINARY) + " put " + image_ + " - /copy <" + image_ + " 2>" + Path("err");
  EXPECT_NE(std::system(shell_put.c_str()), 0);
  EXPECT_TRUE(Contains(ReadFile(Path("err")), "standard input' is the image"))
      << ReadFile(Path("err"));
  ExpectImageUnchanged("put from a stdin redirected from the image");

  // An ordinary existing destination is still overwritten (and truncated).
  WriteFile(Path("out.bin"), std::string(400 * kKiB, 'x'));
  Ok({"get", image_, "/dir/file", Path("out.bin")});
  EXPECT_TRUE(ReadFile(Path("out.bin")) == content_);
  Ok({"fsck", image_});
}

}  // namespace
}  // namespace mdfs::cli::testing
