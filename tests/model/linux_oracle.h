// The model's own oracle: applies an Op to a real directory through Linux
// system calls, so the randomized Linux-semantics model (ModelFs) can be
// checked against the kernel (tests/linux_model_test.cc). Not used against
// mdfs.
#ifndef MDFS_TESTS_MODEL_LINUX_ORACLE_H_
#define MDFS_TESTS_MODEL_LINUX_ORACLE_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mdfs/status.h"
#include "model/model_fs.h"
#include "model/op.h"

namespace mdfs::test {

// The Code for a Linux errno (kIoError for ones mdfs has no code for).
Code CodeFromErrno(int error);

// Applies `op` below directory `root` (model "/" = root) with system calls.
// REQUIRES: umask(0). kReopen does nothing.
Status ApplyToLinux(const std::string& root, const Op& op, std::vector<std::byte>* read_out);

// True when a path of `op` passes through a symlink in `model`: Linux
// follows it, mdfs's LookupPath (and the model) do not.
bool CrossesSymlink(const ModelFs& model, const Op& op);

// Compares the real tree below `root` with `model`: types, permissions,
// owners, nlink, sizes, symlink targets, file bytes.
testing::AssertionResult CheckLinuxTree(const std::string& root, const ModelFs& model);

}  // namespace mdfs::test

#endif  // MDFS_TESTS_MODEL_LINUX_ORACLE_H_
