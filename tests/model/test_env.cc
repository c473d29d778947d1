#include "model/test_env.h"

#include <cstdlib>
#include <string>

namespace mdfs::test {

uint64_t EnvUint(const char* name, uint64_t default_value) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return default_value;
  return std::stoull(value, nullptr, 0);
}

std::vector<uint64_t> SeedsToRun(uint64_t count) {
  if (std::getenv("MDFS_SEED") != nullptr) return {EnvUint("MDFS_SEED", 1)};
  const uint64_t first = EnvUint("MDFS_FIRST_SEED", 1);
  std::vector<uint64_t> seeds;
  for (uint64_t i = 0; i < count; ++i) seeds.push_back(first + i);
  return seeds;
}

}  // namespace mdfs::test
