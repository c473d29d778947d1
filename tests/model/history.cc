#include "model/history.h"

namespace mdfs::test {

void History::Add(uint64_t step, const Op& op) {
  lines_.push_back("  step " + std::to_string(step) + ": " + op.ToString() + "\n");
  if (lines_.size() > keep_) lines_.pop_front();
}

std::string History::Dump() const {
  std::string out;
  for (const std::string& line : lines_) out += line;
  return out;
}

std::string DescribeProblems(const FsckReport& report, size_t limit) {
  std::string out = "journal: " + report.journal_state + "; " +
                    std::to_string(report.problems.size()) + " problem(s)\n";
  for (size_t i = 0; i < report.problems.size() && i < limit; ++i) {
    const FsckProblem& problem = report.problems[i];
    out += "  " + problem.check + " at " + problem.where + ": " + problem.message + "\n";
  }
  return out;
}

}  // namespace mdfs::test
