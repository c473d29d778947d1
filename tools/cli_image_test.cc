// End-to-end tests of how mdfs treats the image as a whole: an image too
// small to be mdfs is named so by every command, a busy image names the
// process that holds its lock, and a failing `mkdir -p` leaves the
// namespace as it was.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr size_t kMiB = 1024 * 1024;

// issue 7: a 100-byte image gave "invalid argument: reading block 0" from
// ls while fsck said "not an mdfs file system".
TEST_F(CliTest, ImageSmallerThanAFileSystemIsNotMdfsForEveryCommand) {
  std::string image = MakeImage("a.img", "8M");
  std::string whole = ReadFile(image);
  WriteFile(Path("host"), "data");
  for (size_t size : {size_t{0}, size_t{100}, size_t{8192}, 2 * kMiB - 4096}) {
    WriteFile(image, whole.substr(0, size));  // starts with a real superblock
    std::string reason = "not an mdfs file system (the image is " + std::to_string(size) +
                         " bytes, smaller than 2 MiB, the smallest mdfs file system)";
    const std::vector<std::vector<std::string>> cases = {
        {"ls", image, "/"},
        {"stat", image, "/"},
        {"df", image},
        {"get", image, "/f", "-"},
        {"put", image, Path("host"), "/f"},
        {"mkdir", image, "/d"},
        {"rm", image, "/f"},
        {"truncate", image, "/f", "0"},
        {"seal", image, "/f"},
    };
    for (const std::vector<std::string>& args : cases) {
      ExpectError(Run(args), 1, args[0], {image + ": corruption: " + reason});
    }
    ExpectError(Run({"fsck", image}), 8, "fsck", {image + ": corruption: " + reason});
    EXPECT_EQ(ReadFile(image).size(), size) << "a failing command changed the image";
  }
}

// Starts `mdfs args...` with its standard input a pipe the caller writes
// and closes (*stdin_fd); stdout and stderr go to /dev/null.
pid_t StartMdfs(const std::vector<std::string>& args, int* stdin_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(fds[0], 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close(fds[1]);
    std::vector<char*> argv = {const_cast<char*>(MDFS_BINARY)};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(MDFS_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);
  *stdin_fd = fds[1];
  return pid;
}

// Waits (at most 20 seconds) until /proc/locks shows an exclusive flock
// held by `pid`. Polling /proc/locks takes no lock itself: a reader run
// while `pid` is still opening the image would make it fail with "in use".
bool WaitForExclusiveLock(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const std::string holder = " WRITE " + std::to_string(pid) + " ";
  do {
    std::istringstream locks(ReadFile("/proc/locks"));
    for (std::string line; std::getline(locks, line);) {
      if (Contains(line, "FLOCK") && Contains(line, holder)) return true;
    }
    ::usleep(20'000);
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

// Runs `args` until it fails with "in use by another process" (the other
// process has taken the lock by then), for at most 20 seconds.
RunResult RunUntilBusy(const std::vector<std::string>& args, const std::string& dir) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  RunResult r;
  do {
    r = RunMdfs(args, dir);
    if (Contains(r.err, "in use by another process")) break;
    ::usleep(20'000);
  } while (std::chrono::steady_clock::now() < deadline);
  return r;
}

// "in use by another process (open)" did not say which process; the error
// now names it from /proc/locks, with its command name and lock mode.
TEST_F(CliTest, BusyImageNamesTheProcessHoldingIt) {
  std::string image = MakeImage("a.img", "8M");
  int writer_stdin = -1;
  pid_t writer = StartMdfs({"put", image, "-", "/slow"}, &writer_stdin);
  ASSERT_GT(writer, 0);
  std::string holder = "pid " + std::to_string(writer) + " 'mdfs', open for writing)";
  ASSERT_TRUE(WaitForExclusiveLock(writer)) << "the put never took the image lock";
  RunResult reader = RunUntilBusy({"ls", image}, dir_);
  ExpectError(reader, 1, "ls", {image + ": in use by another process (" + holder});
  ExpectError(Run({"mkdir", image, "/d"}), 1, "mkdir", {"in use by another process (" + holder});
  RunResult fsck = Run({"fsck", image});
  ExpectError(fsck, 8, "fsck", {"in use by another process (" + holder});
  ASSERT_EQ(::write(writer_stdin, "data", 4), 4);
  ::close(writer_stdin);
  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the put failed";
  EXPECT_EQ(Ok({"get", image, "/slow", "-"}).out, "data");

  // A shared (read-only) holder: this test process itself.
  int fd = ::open(image.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_SH), 0);
  std::string comm = ReadFile("/proc/self/comm");  // "mdfs_cli_test\n"
  comm.pop_back();
  RunResult blocked = Run({"rm", image, "/slow"});
  ExpectError(blocked, 1, "rm",
              {"in use by another process (pid " + std::to_string(::getpid()) + " '" + comm +
               "', open read-only)"});
  Ok({"ls", image});  // readers share the image
  ::close(fd);
  Ok({"rm", image, "/slow"});
}

// issue 7: `mkdir -p /z/1/2/3/4/5/6/7/8/9` on an image short of inodes
// failed with "no free inode" but left /z/1 .. /z/1/2/3/4/5 behind.
TEST_F(CliTest, FailingMkdirParentsRemovesTheDirectoriesItCreated) {
  std::string image = Path("small.img");
  Ok({"mkfs", image, "--size", "2M", "--inodes-per", "1M"});
  Ok({"mkdir", image, "/z"});
  uint64_t free_inodes = Json({"df", image, "--json"})["free_inodes"];
  ASSERT_GT(free_inodes, 5u);
  for (uint64_t i = 0; i + 5 < free_inodes; ++i) {
    Ok({"put", image, "-", "/f" + std::to_string(i)}, std::string());
  }
  ASSERT_EQ(Json({"df", image, "--json"})["free_inodes"], 5);

  RunResult r = Run({"mkdir", image, "/z/1/2/3/4/5/6/7/8/9", "-p"});
  ExpectError(r, 1, "mkdir",
              {"/z/1/2/3/4/5/6/7/8/9: no space: /z/1/2/3/4/5/6: ",
               "; the directories created before it (/z/1 .. /z/1/2/3/4/5) were removed again"});
  EXPECT_EQ(Json({"ls", image, "/z", "--json"})["entries"].size(), 0u);
  EXPECT_EQ(Json({"df", image, "--json"})["free_inodes"], 5);
  Ok({"fsck", image});

  // A name too long after one new directory: that one is removed too.
  std::string long_name(300, 'n');
  RunResult too_long = Run({"mkdir", image, "/z/a/" + long_name, "-p"});
  ExpectError(too_long, 1, "mkdir", {"(/z/a) were removed again"});
  EXPECT_EQ(Json({"ls", image, "/z", "--json"})["entries"].size(), 0u);

  // What existed before stays; the space is there for a mkdir -p that fits.
  Ok({"mkdir", image, "/z/1/2/3/4/5", "-p"});
  EXPECT_EQ(Json({"df", image, "--json"})["free_inodes"], 0);
  ExpectError(Run({"mkdir", image, "/z/1/2/3/4/5/6/7", "-p"}), 1, "mkdir",
              {"no space", "/z/1/2/3/4/5/6"});
  EXPECT_EQ(Json({"stat", image, "/z/1/2/3/4/5", "--json"})["type"], "directory");
  Ok({"fsck", image});
}

}  // namespace
}  // namespace mdfs::cli::testing
