#include "direct_kernel_lease.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "direct_host.h"

namespace mdfs::bench::direct {

namespace {

// The child's whole life; async-signal-safe calls only.
[[noreturn]] void HolderMain(const char* path, int command_fd, int ack_fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(3);  // the parent died before prctl
  sigset_t sigio;
  sigemptyset(&sigio);
  sigaddset(&sigio, SIGIO);
  if (sigprocmask(SIG_BLOCK, &sigio, nullptr) != 0) _exit(4);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) _exit(5);
  if (fcntl(fd, F_SETSIG, SIGIO) != 0) _exit(6);
  if (fcntl(fd, F_SETOWN, getpid()) != 0) _exit(7);
  for (;;) {
    char command = 0;
    ssize_t n = read(command_fd, &command, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || command != 'l') _exit(0);  // EOF: the parent is done
    unsigned char answer = 0;
    if (fcntl(fd, F_SETLEASE, F_RDLCK) != 0)
      answer = static_cast<unsigned char>(errno ? errno : 255);
    if (write(ack_fd, &answer, 1) != 1) _exit(8);
    if (answer != 0) continue;
    siginfo_t info;
    while (sigwaitinfo(&sigio, &info) < 0) {
      if (errno != EINTR) _exit(9);
    }
    if (fcntl(fd, F_SETLEASE, F_UNLCK) != 0) _exit(10);
  }
}

}  // namespace

KernelLeaseHolders::KernelLeaseHolders(const std::string& path, int count) : path_(path) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = getpid();
  for (int i = 0; i < count; ++i) {
    int command[2], ack[2];
    CheckErrno(pipe2(command, O_CLOEXEC) == 0 && pipe2(ack, O_CLOEXEC) == 0, "pipe2");
    pid_t pid = fork();
    CheckErrno(pid >= 0, "fork");
    if (pid == 0) {
      close(command[1]);
      close(ack[0]);
      // The pipes of earlier children: closed, so that each child sees EOF
      // when the parent closes its command pipe.
      for (const Child& other : children_) {
        close(other.command_fd);
        close(other.ack_fd);
      }
      HolderMain(path.c_str(), command[0], ack[1], parent);
    }
    close(command[0]);
    close(ack[1]);
    children_.push_back({pid, command[1], ack[0]});
  }
}

KernelLeaseHolders::~KernelLeaseHolders() {
  for (Child& child : children_) {
    close(child.command_fd);
    close(child.ack_fd);
    kill(child.pid, SIGKILL);
  }
  for (Child& child : children_) {
    int status = 0;
    while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void KernelLeaseHolders::Acquire() {
  const char take = 'l';
  for (Child& child : children_) {
    CheckErrno(write(child.command_fd, &take, 1) == 1, "lease holder: command pipe");
  }
  for (Child& child : children_) {
    unsigned char answer = 0;
    ssize_t n;
    do {
      n = read(child.ack_fd, &answer, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
      int status = 0;
      waitpid(child.pid, &status, WNOHANG);
      Fail("kernel lease holder", "died (exit status " +
                                      std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                      ")");
    }
    if (answer != 0) {
      Fail("kernel lease holder: fcntl F_SETLEASE F_RDLCK on " + path_, std::strerror(answer));
    }
  }
}

double KernelLeaseHolders::Break() {
  const int64_t start = NowNs();
  int fd = open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  const int64_t stop = NowNs();
  CheckErrno(fd >= 0, "open(O_WRONLY) " + path_ + " (lease break)");
  close(fd);
  return static_cast<double>(stop - start);
}

int CountLeasesInProcLocks(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  char id[64];
  std::snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  std::ifstream in("/proc/locks");
  std::string line;
  int leases = 0;
  while (std::getline(in, line)) {
    if (line.find("LEASE") == std::string::npos || line.find("->") != std::string::npos) continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (word == id) {
        ++leases;
        break;
      }
    }
  }
  return leases;
}

}  // namespace mdfs::bench::direct
