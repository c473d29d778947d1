// A libFuzzer-compatible driver that needs no libFuzzer (builds with g++):
// runs LLVMFuzzerTestOneInput on every file of the given files/directories,
// then on N pseudo-random mutations of them with a fixed seed, so a plain
// `ctest` run exercises the fuzz target reproducibly.
//
//   mdfs_fuzz_replay [--mutations=N] [--seed=S] PATH...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

std::vector<Input> LoadInputs(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> files;
  for (const std::string& path : paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.emplace_back(path);
    }
  }
  std::sort(files.begin(), files.end());  // a fixed order, so a seed replays exactly
  std::vector<Input> inputs;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return inputs;
}

// Values that sit on the edges the decoders check (counts, capacities).
constexpr uint64_t kInteresting[] = {
    0,   1,   2,    6,    7,    15,   16,    168,        169,        255,        256,
    507, 508, 4055, 4056, 4057, 4096, 32512, 1ull << 32, 1ull << 44, UINT32_MAX, UINT64_MAX};

void Mutate(Input& input, std::mt19937_64& rng) {
  if (input.empty()) input.push_back(0);
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    const size_t at = rng() % input.size();
    switch (rng() % 6) {
      case 0:
        input[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        input[at] = static_cast<uint8_t>(rng());
        break;
      case 2: {  // an interesting little-endian value over 1, 2, 4 or 8 bytes
        const uint64_t value = kInteresting[rng() % std::size(kInteresting)];
        const size_t width = size_t{1} << (rng() % 4);
        for (size_t i = 0; i < width && at + i < input.size(); ++i) {
          input[at + i] = static_cast<uint8_t>(value >> (8 * i));
        }
        break;
      }
      case 3:
        input[0] = static_cast<uint8_t>(rng());
        break;  // another decoder / mode
      case 4:
        input.resize(rng() % (input.size() + 1));
        break;
      case 5:
        input.resize(input.size() + rng() % 64, static_cast<uint8_t>(rng()));
        break;
    }
    if (input.empty()) input.push_back(0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = 0;
  uint64_t seed = 1;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::strtoull(arg.c_str() + 12, nullptr, 10);
    } else if (arg.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
    } else {
      paths.push_back(arg);
    }
  }
  std::vector<Input> inputs = LoadInputs(paths);
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations=N] [--seed=S] PATH...  (no inputs found)\n",
                 argv[0]);
    return 2;
  }
  for (const Input& input : inputs) LLVMFuzzerTestOneInput(input.data(), input.size());
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < mutations; ++i) {
    Input input = inputs[rng() % inputs.size()];
    Mutate(input, rng);
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("ran %zu inputs and %llu mutations (seed %llu)\n", inputs.size(),
              static_cast<unsigned long long>(mutations), static_cast<unsigned long long>(seed));
  return 0;
}
