// History: the last operations of a run, printed when a check fails.
#ifndef MDFS_TESTS_MODEL_HISTORY_H_
#define MDFS_TESTS_MODEL_HISTORY_H_

#include <cstdint>
#include <deque>
#include <string>

#include "mdfs/fsck.h"
#include "model/op.h"

namespace mdfs::test {

class History {
 public:
  explicit History(size_t keep = 20) : keep_(keep) {}
  void Add(uint64_t step, const Op& op);
  // "  step 12: write /a off=0 len=10 seed=3\n" for each kept operation.
  std::string Dump() const;

 private:
  size_t keep_;
  std::deque<std::string> lines_;
};

// The problems of an fsck report, one per line (at most `limit`).
std::string DescribeProblems(const FsckReport& report, size_t limit = 10);

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_HISTORY_H_
