// Helpers for the MAP_DIRECT tests: running a memory access in a forked
// child to see which signal it dies of.
#ifndef MDFS_SRC_DIRECT_DIRECT_TEST_UTIL_H_
#define MDFS_SRC_DIRECT_DIRECT_TEST_UTIL_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <functional>

#include "gtest/gtest.h"

namespace mdfs::direct_test {

// Runs `touch` in a forked child and returns the signal that killed it, or
// 0 if it exited normally. The child restores the default SIGSEGV and
// SIGBUS actions, so a sanitizer's handler cannot turn the fault into an
// exit code.
inline int SignalThatKillsChild(const std::function<void()>& touch) {
  const pid_t child = fork();
  if (child == 0) {
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    touch();
    _exit(0);
  }
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

inline void LoadByte(const std::byte* address) {
  (void)*reinterpret_cast<const volatile std::byte*>(address);
}

inline void StoreByte(std::byte* address) {
  *reinterpret_cast<volatile std::byte*>(address) = std::byte{0x42};
}

// The signal a load (or store) at `address` dies of in a child; 0 if none.
inline int SignalOnLoad(const std::byte* address) {
  return SignalThatKillsChild([address] { LoadByte(address); });
}
inline int SignalOnStore(std::byte* address) {
  return SignalThatKillsChild([address] { StoreByte(address); });
}

}  // namespace mdfs::direct_test

#endif  // MDFS_SRC_DIRECT_DIRECT_TEST_UTIL_H_
