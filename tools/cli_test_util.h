// Test helpers for mdfs_cli_test: run the built `mdfs` binary as a user
// would (fork/exec, stdin from a pipe, stdout/stderr/exit status captured)
// in a temporary directory, and small host-file helpers.
#ifndef MDFS_TOOLS_CLI_TEST_UTIL_H_
#define MDFS_TOOLS_CLI_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef MDFS_BINARY
#error "MDFS_BINARY must name the mdfs executable under test"
#endif

namespace mdfs::cli::testing {

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
  std::string command;
  // For assertion messages.
  std::string Describe() const {
    return "$ " + command + "\nexit " + std::to_string(exit_code) + "\nstdout:\n" + out +
           "stderr:\n" + err;
  }
};

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Expects `r` to have failed with `exit_code` and one stderr line that
// starts with "mdfs <command>: " and contains each of `parts`.
inline void ExpectError(const RunResult& r, int exit_code, const std::string& command,
                        const std::vector<std::string>& parts) {
  EXPECT_EQ(r.exit_code, exit_code) << r.Describe();
  EXPECT_EQ(r.err.rfind("mdfs " + command + ": ", 0), 0u) << r.Describe();
  EXPECT_EQ(LineCount(r.err), 1u) << r.Describe();
  for (const std::string& part : parts) {
    EXPECT_TRUE(Contains(r.err, part)) << part << "\n" << r.Describe();
  }
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(generator() & 0xff);
  return data;
}

// Writes `data` to `fd` and closes it; stops quietly when the reader quits.
inline void FeedPipe(int fd, std::string data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EPIPE: mdfs exited before reading everything
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Runs `mdfs args...` with stdout and stderr captured in files under
// `scratch_dir`, stdin from `stdin_data` through a pipe (or /dev/null).
inline RunResult RunMdfs(const std::vector<std::string>& args, const std::string& scratch_dir,
                         const std::optional<std::string>& stdin_data = std::nullopt) {
  ::signal(SIGPIPE, SIG_IGN);
  RunResult result;
  result.command = "mdfs";
  for (const std::string& arg : args) result.command += " " + arg;
  std::string out_path = scratch_dir + "/.stdout";
  std::string err_path = scratch_dir + "/.stderr";
  int pipe_fds[2] = {-1, -1};
  if (stdin_data && ::pipe(pipe_fds) != 0) return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = stdin_data ? pipe_fds[0] : ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (stdin_data) ::close(pipe_fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(MDFS_BINARY));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(MDFS_BINARY, argv.data());
    ::_exit(127);
  }
  std::thread feeder;
  if (stdin_data) {
    ::close(pipe_fds[0]);
    feeder = std::thread(FeedPipe, pipe_fds[1], *stdin_data);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (feeder.joinable()) feeder.join();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

// Runs `mdfs args...` with stderr on a pseudo-terminal (so mdfs shows
// progress) and stdout discarded; returns what the terminal received.
inline RunResult RunMdfsWithTerminalStderr(const std::vector<std::string>& args) {
  RunResult result;
  result.command = "mdfs";
  for (const std::string& arg : args) result.command += " " + arg;
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return result;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(master);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(slave, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(MDFS_BINARY));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(MDFS_BINARY, argv.data());
    ::_exit(127);
  }
  ::close(slave);
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(master, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EIO once the child closed the terminal
    result.err.append(buffer, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A fresh temporary directory per test, removed afterwards.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/mdfs_cli_test_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  RunResult Run(const std::vector<std::string>& args,
                const std::optional<std::string>& stdin_data = std::nullopt) {
    return RunMdfs(args, dir_, stdin_data);
  }

  // Runs and expects exit 0.
  RunResult Ok(const std::vector<std::string>& args,
               const std::optional<std::string>& stdin_data = std::nullopt) {
    RunResult r = Run(args, stdin_data);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r;
  }

  // Runs, expects exit 0 and stdout that parses as JSON.
  nlohmann::json Json(const std::vector<std::string>& args) {
    RunResult r = Ok(args);
    nlohmann::json value = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(value.is_discarded()) << r.Describe();
    return value;
  }

  // A new image of `size` (e.g. "32M").
  std::string MakeImage(const std::string& name, const std::string& size) {
    std::string image = Path(name);
    Ok({"mkfs", image, "--size", size});
    return image;
  }

  std::string dir_;
};

}  // namespace mdfs::cli::testing

#endif  // MDFS_TOOLS_CLI_TEST_UTIL_H_
