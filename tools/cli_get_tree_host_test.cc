// mdfs get -r and the host: DIR that is a file or the image is refused
// before anything is written; the image inside DIR is never overwritten;
// symbolic links (and FIFOs) already in DIR are neither followed nor
// replaced by a file or directory, so an image cannot make get write
// outside DIR. Each test runs the built binary.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

class GetTreeHostTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("h.img", "16M");
    Ok({"put", image_, "-", "/f"}, std::string("image file"));
  }
  void ExpectImageUnchanged(const std::string& before, const std::string& what) {
    EXPECT_TRUE(ReadFile(image_) == before) << "the image changed: " << what;
  }
  std::string image_;
};

TEST_F(GetTreeHostTest, ADirThatIsAFileOrTheImageIsRefused) {
  WriteFile(Path("plain"), "keep me");
  ExpectError(Run({"get", "-r", image_, "/", Path("plain")}), 1, "get",
              {Path("plain") + ": not a directory: exists and is not a directory"});
  EXPECT_EQ(ReadFile(Path("plain")), "keep me");
  const std::string before = ReadFile(image_);
  ASSERT_EQ(::link(image_.c_str(), Path("hard.img").c_str()), 0);
  for (const std::string& dir : {image_, Path("hard.img")}) {
    ExpectError(Run({"get", "-r", image_, "/", dir}), 1, "get",
                {"is the image", "same file", "refusing to write into it"});
    ExpectImageUnchanged(before, dir);
  }
  ExpectError(Run({"get", "-r", image_, "/", Path("no/such/dir")}), 1, "get",
              {"not found", "create the directory"});
  ExpectError(Run({"get", "-r", image_, "/", image_ + "/inside"}), 1, "get", {"not a directory"});
  ExpectImageUnchanged(before, "a DIR inside the image's path");
}

// DIR holds the image (and a hard link to it): the image's files of the
// same names are refused, the others copied.
TEST_F(GetTreeHostTest, TheImageInsideDirIsNeverOverwritten) {
  ASSERT_EQ(::mkdir(Path("out").c_str(), 0755), 0);
  const std::string image = Path("out/self.img");
  ASSERT_EQ(::rename(image_.c_str(), image.c_str()), 0);
  ASSERT_EQ(::link(image.c_str(), Path("out/hard.img").c_str()), 0);
  Ok({"put", image, "-", "/self.img"}, std::string("not the image"));
  Ok({"put", image, "-", "/hard.img"}, std::string("not the image either"));
  const std::string before = ReadFile(image);
  RunResult r = Run({"get", "-r", image, "/", Path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(LineCount(r.err), 2u) << r.Describe();
  EXPECT_TRUE(Contains(
      r.err, "mdfs get: /hard.img: invalid argument: '" + Path("out/hard.img") + "' is the image"))
      << r.Describe();
  EXPECT_TRUE(Contains(r.err, "mdfs get: /self.img: invalid argument: '" + image +
                                  "' is the image " + image +
                                  " itself (the same file); "
                                  "refusing to overwrite it"))
      << r.Describe();
  EXPECT_TRUE(ReadFile(image) == before) << "the image was written";
  EXPECT_EQ(ReadFile(Path("out/f")), "image file");
  EXPECT_TRUE(Contains(r.out, "; 2 objects could not be read or written")) << r.Describe();
}

// Symbolic links in DIR that point outside it, named like objects of the
// image: a file or directory is not written through them; a symbolic link
// of the image replaces a host link (the link itself, not its target).
TEST_F(GetTreeHostTest, SymlinksInDirAreNeitherFollowedNorReplaced) {
  Ok({"mkdir", image_, "/evildir"});
  Ok({"put", image_, "-", "/evildir/x"}, std::string("must stay inside"));
  Ok({"put", image_, "-", "/evil"}, std::string("must stay inside too"));
  Ok({"put", image_, "-", "/fifo"}, std::string("no reader needed"));
  Ok({"ln", image_, "-s", "new-target", "/lnk"});
  ASSERT_EQ(::mkdir(Path("outside").c_str(), 0755), 0);
  WriteFile(Path("outside/target"), "untouched");
  ASSERT_EQ(::mkdir(Path("out").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(Path("outside/target").c_str(), Path("out/evil").c_str()), 0);
  ASSERT_EQ(::symlink(Path("outside").c_str(), Path("out/evildir").c_str()), 0);
  ASSERT_EQ(::symlink(Path("outside/target").c_str(), Path("out/lnk").c_str()), 0);
  ASSERT_EQ(::mkfifo(Path("out/fifo").c_str(), 0644), 0);

  RunResult r = Run({"get", "-r", image_, "/", Path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(LineCount(r.err), 3u) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "mdfs get: /evil: exists: " + Path("out/evil") +
                                  " is a symbolic link on the host, not a regular file; get -r "
                                  "leaves it alone and does not follow it"))
      << r.Describe();
  EXPECT_TRUE(Contains(r.err, "mdfs get: /evildir: exists: " + Path("out/evildir") +
                                  " is a symbolic link on the host, not a directory"))
      << r.Describe();
  EXPECT_TRUE(Contains(r.err, "mdfs get: /fifo: exists: " + Path("out/fifo") + " is a FIFO"))
      << r.Describe();
  EXPECT_EQ(ReadFile(Path("outside/target")), "untouched");
  EXPECT_FALSE(std::filesystem::exists(Path("outside/x")));
  EXPECT_EQ(std::filesystem::read_symlink(Path("out/evil")), Path("outside/target"));
  EXPECT_EQ(std::filesystem::read_symlink(Path("out/lnk")), "new-target");
  EXPECT_EQ(ReadFile(Path("out/f")), "image file");
}

}  // namespace
}  // namespace mdfs::cli::testing
