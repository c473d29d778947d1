// Knobs of the randomized suites, read from the environment so CI runs the
// small default and a developer can run thousands (doc/testing.md).
#ifndef MDFS_TESTS_MODEL_TEST_ENV_H_
#define MDFS_TESTS_MODEL_TEST_ENV_H_

#include <cstdint>
#include <vector>

namespace mdfs::test {

// The value of environment variable `name` as an unsigned integer, or
// `default_value` when it is unset or empty.
uint64_t EnvUint(const char* name, uint64_t default_value);

// The seeds to run: MDFS_SEED=<s> runs only seed s (to reproduce a
// failure); otherwise `count` seeds starting at MDFS_FIRST_SEED (default 1).
std::vector<uint64_t> SeedsToRun(uint64_t count);

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_TEST_ENV_H_
