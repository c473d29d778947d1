// The oracle's own tests: the Linux rules ModelFs encodes, one per case,
// so a disagreement with mdfs can be told apart from a model bug.
#include "model/model_fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace mdfs::test {
namespace {

class ModelFsTest : public testing::Test {
 protected:
  Code Run(Op op) { return model_.Apply(op, 1).code; }
  Code Create(const std::string& path) {
    return Run({.kind = OpKind::kCreate, .path = path, .mode = 0644});
  }
  Code Mkdir(const std::string& path) {
    return Run({.kind = OpKind::kMkdir, .path = path, .mode = 0755});
  }
  Code Rename(const std::string& from, const std::string& to, uint32_t flags = 0) {
    return Run({.kind = OpKind::kRename, .path = from, .path2 = to, .flags = flags});
  }
  Code Write(const std::string& path, uint64_t offset, uint64_t length) {
    return Run(
        {.kind = OpKind::kWrite, .path = path, .offset = offset, .length = length, .data_seed = 5});
  }
  Code Fallocate(const std::string& path, uint32_t mode, uint64_t offset, uint64_t length) {
    return Run({.kind = OpKind::kFallocate,
                .path = path,
                .offset = offset,
                .length = length,
                .flags = mode});
  }
  uint64_t Size(const std::string& path) { return model_.node(*model_.Resolve(path)).data.size(); }
  uint32_t Nlink(const std::string& path) { return model_.node(*model_.Resolve(path)).nlink; }

  ModelFs model_;
};

TEST_F(ModelFsTest, NamespaceErrors) {
  EXPECT_EQ(Mkdir("/d"), Code::kOk);
  EXPECT_EQ(Create("/d/f"), Code::kOk);
  EXPECT_EQ(Create("/d/f"), Code::kExists);
  EXPECT_EQ(Create("/missing/f"), Code::kNotFound);
  EXPECT_EQ(Create("/d/f/x"), Code::kNotDirectory);
  EXPECT_EQ(Create("/d/" + std::string(256, 'n')), Code::kNameTooLong);
  EXPECT_EQ(Run({.kind = OpKind::kUnlink, .path = "/d"}), Code::kIsDirectory);
  EXPECT_EQ(Run({.kind = OpKind::kRmdir, .path = "/d"}), Code::kNotEmpty);
  EXPECT_EQ(Run({.kind = OpKind::kRmdir, .path = "/d/f"}), Code::kNotDirectory);
  EXPECT_EQ(Run({.kind = OpKind::kLink, .path = "/d", .path2 = "/e"}), Code::kPermissionDenied);
  EXPECT_EQ(Run({.kind = OpKind::kLink, .path = "/d/f", .path2 = "/g"}), Code::kOk);
  EXPECT_EQ(Nlink("/g"), 2u);
  EXPECT_EQ(Nlink("/"), 3u);
}

TEST_F(ModelFsTest, RenameRules) {
  ASSERT_EQ(Mkdir("/a"), Code::kOk);
  ASSERT_EQ(Mkdir("/a/b"), Code::kOk);
  ASSERT_EQ(Create("/a/b/f"), Code::kOk);
  ASSERT_EQ(Mkdir("/e"), Code::kOk);
  EXPECT_EQ(Rename("/a", "/a/b/x"), Code::kInvalidArgument);  // into its own subtree
  EXPECT_EQ(Rename("/a/b", "/a"), Code::kNotEmpty);           // over its own ancestor
  EXPECT_EQ(Rename("/a/b/f", "/e"), Code::kIsDirectory);
  EXPECT_EQ(Rename("/e", "/a/b/f"), Code::kNotDirectory);
  EXPECT_EQ(Rename("/e", "/a"), Code::kNotEmpty);
  EXPECT_EQ(Rename("/a/b/f", "/a/b/f", kRenameNoReplace), Code::kExists);
  EXPECT_EQ(Rename("/a/b/f", "/a/b/f"), Code::kOk);
  EXPECT_EQ(Rename("/a/b/f", "/nope", kRenameExchange), Code::kNotFound);
  EXPECT_EQ(Rename("/a/b/f", "/x", kRenameExchange | kRenameNoReplace), Code::kInvalidArgument);
  EXPECT_EQ(Rename("/a/b", "/e", kRenameExchange), Code::kOk);  // a dir and a dir
  EXPECT_EQ(model_.node(*model_.Resolve("/e/f")).type, static_cast<uint32_t>(S_IFREG));
  EXPECT_EQ(Rename("/e", "/a/b"), Code::kOk);  // over an empty directory
  EXPECT_EQ(Nlink("/"), 3u);
  EXPECT_EQ(Nlink("/a"), 3u);
}

TEST_F(ModelFsTest, HardLinksToOneInodeRenameAsANoOp) {
  ASSERT_EQ(Create("/f"), Code::kOk);
  ASSERT_EQ(Run({.kind = OpKind::kLink, .path = "/f", .path2 = "/g"}), Code::kOk);
  EXPECT_EQ(Rename("/f", "/g"), Code::kOk);
  EXPECT_TRUE(model_.Resolve("/f").ok());
  EXPECT_TRUE(model_.Resolve("/g").ok());
}

TEST_F(ModelFsTest, FallocateArgumentChecks) {
  ASSERT_EQ(Create("/f"), Code::kOk);
  ASSERT_EQ(Write("/f", 0, 3 * 4096), Code::kOk);
  EXPECT_EQ(Fallocate("/f", 0, 0, 0), Code::kInvalidArgument);
  EXPECT_EQ(Fallocate("/f", kFallocatePunchHole, 0, 10), Code::kNotSupported);
  EXPECT_EQ(Fallocate("/f", kFallocateCollapseRange, 1, 4096), Code::kInvalidArgument);
  EXPECT_EQ(Fallocate("/f", kFallocateCollapseRange, 0, 3 * 4096), Code::kInvalidArgument);
  EXPECT_EQ(Fallocate("/f", kFallocateInsertRange, 3 * 4096, 4096), Code::kInvalidArgument);
  EXPECT_EQ(Fallocate("/f", kFallocateCollapseRange | kFallocateKeepSize, 0, 4096),
            Code::kInvalidArgument);
  EXPECT_EQ(Fallocate("/", 0, 0, 10), Code::kIsDirectory);
  EXPECT_EQ(Fallocate("/f", kFallocateCollapseRange, 0, 2 * 4096), Code::kOk);
  EXPECT_EQ(Size("/f"), 4096u);
  EXPECT_EQ(Fallocate("/f", kFallocateInsertRange, 0, 4096), Code::kOk);
  EXPECT_EQ(Size("/f"), 2 * 4096u);
  EXPECT_EQ(Fallocate("/f", kFallocateZeroRange, 10000, 10), Code::kOk);
  EXPECT_EQ(Size("/f"), 10010u);
  EXPECT_EQ(Fallocate("/f", kFallocateKeepSize, 0, 100000), Code::kOk);
  EXPECT_EQ(Fallocate("/f", 0, 20000, 1), Code::kOk);
  EXPECT_EQ(Size("/f"), 20001u);
}

}  // namespace
}  // namespace mdfs::test
