// mdfs get -r on damaged images (issue 7, Salvage): everything that does
// not depend on the damage is copied byte for byte, exactly the damaged
// objects are listed (the engine's error naming the block), exit 1. Also
// images fsck would reject in other ways: a directory named twice (a hard
// link, a cycle) is copied once, and nesting past the limit is reported.
#include <filesystem>
#include <map>
#include <set>

#include "cli_tree_test_util.h"
#include "fsck/fsck_test_tree.h"
#include "fsck/fsck_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr uint64_t kMiB = 1024 * 1024;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The error lines of `err`, without the warnings about the damage.
std::vector<std::string> ErrorLines(const std::string& err) {
  std::vector<std::string> errors;
  for (const std::string& line : Lines(err)) {
    if (!Contains(line, ": warning: ")) errors.push_back(line);
  }
  return errors;
}

// Every path below `dir`, relative, '/'-separated.
std::set<std::string> HostTree(const std::string& dir) {
  std::set<std::string> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    paths.insert(entry.path().lexically_relative(dir).generic_string());
  }
  return paths;
}

std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

// An image with, among intact files, one damaged directory block (/d),
// one damaged extent chain (/frag) and one damaged inode-table block
// (inodes 16-30: /ok/sub, /ok/y17 and /ok/y<0xff>).
class GetDamagedTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("d.img", "32M");
    BuildTree();
    Damage();
  }

  uint64_t Ino(const std::string& path) {
    return Json({"stat", image_, path, "--json"})["ino"].get<uint64_t>();
  }
  void PutIntact(const std::string& path, const std::string& data) {
    Ok({"put", image_, "-", path}, data);
    intact_[path.substr(1)] = data;
  }
  void BuildTree();
  void Damage();

  std::string image_;
  std::map<std::string, std::string> intact_;  // relative path -> contents
  uint64_t inode_table_start_ = 0;
  uint64_t directory_block_ = 0;
  uint64_t chain_block_ = 0;
  uint64_t frag_ino_ = 0;
};

void GetDamagedTest::BuildTree() {
  Ok({"mkdir", image_, "/d"});
  Ok({"put", image_, "-", "/d/f1"}, std::string("behind the damaged block"));
  Ok({"mkdir", image_, "/ok"});
  PutIntact("/ok/x", RandomBytes(50'000, 1));
  Ok({"ln", image_, "-s", "x", "/ok/l"});
  PutIntact("/top", RandomBytes(9 * kMiB, 2));
  // Eight pieces with holes between them: more extents than an inode holds.
  int fd = ::open(Path("frag").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(::pwrite(fd, "piece", 5, i * 64 * kBlock), 5);
  ::close(fd);
  Ok({"put", image_, Path("frag"), "/frag"});
  ASSERT_GT(Json({"stat", image_, "/frag", "--json"})["extents"].size(), 6u);
  Ok({"mkdir", image_, "/fill"});
  bool filled = false;  // up to inode 15, the last of the first inode-table block
  for (int k = 0; k < 15 && !filled; ++k) {
    std::string path = "/fill/n" + std::to_string(k);
    PutIntact(path, RandomBytes(1000 + k, 10 + k));
    filled = Ino(path) == 15;
  }
  ASSERT_TRUE(filled);
  Ok({"put", image_, "-", "/ok/y\xff"}, std::string("in the second block"));
  Ok({"put", image_, "-", "/ok/y17"}, std::string("in the second block"));
  Ok({"mkdir", image_, "/ok/sub"});
  Ok({"put", image_, "-", "/ok/sub/z"}, std::string("below a damaged directory inode"));
  for (const char* path : {"/ok/y\xff", "/ok/y17", "/ok/sub", "/ok/sub/z"}) {
    ASSERT_GE(Ino(path), 16u) << path;
    ASSERT_LE(Ino(path), 30u) << path;
  }
  // The journal's last transaction is replayed at open: let it hold only
  // blocks that are not damaged below (the root directory, inode block 0).
  Ok({"mv", image_, "/top", "/top.tmp"});
  Ok({"mv", image_, "/top.tmp", "/top"});
  ASSERT_EQ(Ino("/d"), 2u);
  frag_ino_ = Ino("/frag");
  ASSERT_LE(frag_ino_, 15u);
}

void GetDamagedTest::Damage() {
  inode_table_start_ = ReadLe64(image_, 80);  // superblock field inode_table_start
  directory_block_ =
      Json({"stat", image_, "/d", "--json"})["extents"][0]["device_offset"].get<uint64_t>() /
      kBlock;
  const uint64_t frag = frag_ino_;
  const uint64_t record =
      (inode_table_start_ + (frag - 1) / 15) * kBlock + 256 * (1 + (frag - 1) % 15);
  chain_block_ = ReadLe64(image_, record + 80);  // the inode's extent_block
  ASSERT_NE(chain_block_, 0u);
  FlipByte(image_, (inode_table_start_ + 1) * kBlock + 100);  // inodes 16-30
  FlipByte(image_, directory_block_ * kBlock + 300);
  FlipByte(image_, chain_block_ * kBlock + 300);
}

TEST_F(GetDamagedTest, CopiesEverythingIntactAndListsExactlyTheDamagedObjects) {
  RunResult r = Run({"get", "-r", image_, "/", Path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Contains(r.err, "damaged object(s)")) << r.Describe();
  const std::string table = "corruption: block " + std::to_string(inode_table_start_ + 1) +
                            " (inode table, inodes 16-30)";
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"mdfs get: /d: ",
       "corruption: block " + std::to_string(directory_block_) + " (directory inode 2)"},
      {"mdfs get: /frag: ", "corruption: block " + std::to_string(chain_block_) +
                                " (extent chain of inode " + std::to_string(frag_ino_) + ")"},
      {"mdfs get: /ok/sub: ", table},
      {"mdfs get: /ok/y17: ", table},
      {"mdfs get: '/ok/y'$'\\377': ", table},
  };
  std::vector<std::string> errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), expected.size()) << r.Describe();
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(errors[i].rfind(expected[i].first, 0), 0u) << errors[i];
    EXPECT_TRUE(Contains(errors[i], expected[i].second)) << errors[i];
  }
  // Exactly the intact objects are on the host, files byte for byte.
  std::set<std::string> paths = {"fill", "ok", "ok/l"};
  TreeTotals totals{0, 3, 1, 0};
  for (const auto& [path, data] : intact_) {
    paths.insert(path);
    EXPECT_TRUE(ReadFile(Path("out/" + path)) == data) << path;
    ++totals.files;
    totals.bytes += data.size();
  }
  EXPECT_EQ(HostTree(Path("out")), paths);
  EXPECT_EQ(std::filesystem::read_symlink(Path("out/ok/l")), "x");
  EXPECT_EQ(r.out, SummaryLine(totals, expected.size())) << r.Describe();
}

TEST_F(GetDamagedTest, JsonListsTheFailuresWithExactNames) {
  RunResult r = Run({"get", "-r", image_, "/ok", Path("out"), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(ErrorLines(r.err).size(), 3u) << r.Describe();
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["failure_count"].get<uint64_t>(), 3u);
  std::vector<std::string> failed;
  for (const nlohmann::json& failure : json["failures"]) {
    failed.push_back(failure.contains("path_hex") ? FromHex(failure["path_hex"])
                                                  : failure["path"].get<std::string>());
    EXPECT_TRUE(Contains(failure["error"], "(inode table, inodes 16-30)")) << failure.dump();
  }
  EXPECT_EQ(failed, (std::vector<std::string>{"/ok/sub", "/ok/y17", "/ok/y\xff"}));
  EXPECT_EQ(json["files"].get<uint64_t>(), 1u);
  EXPECT_EQ(json["symlinks"].get<uint64_t>(), 1u);
}

// A directory that two entries name (fsck: directory-hard-link) and an
// entry naming the root (a cycle): each directory is copied once.
TEST_F(CliTest, ADirectoryNamedTwiceIsCopiedOnce) {
  using namespace mdfs::fsck::testing;
  Image crafted;
  BuildTree(crafted);
  crafted.MakeDirectory(2, 1, {Entry("f", 3, kFileType), Entry("up", 1, kDirType)});
  crafted.MakeDirectory(1, 1,
                        {Entry("d", 2, kDirType), Entry("big", 5, kFileType),
                         Entry("prealloc", 6, kFileType), Entry("again", 2, kDirType)});
  std::string bytes(crafted.device()->size_bytes(), '\0');
  ASSERT_TRUE(crafted.device()->Read(0, std::as_writable_bytes(std::span(bytes))).ok());
  const std::string image = Path("crafted.img");
  WriteFile(image, bytes);

  RunResult r = Run({"get", "-r", image, "/", Path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  std::vector<std::string> errors = ErrorLines(r.err);
  ASSERT_EQ(errors.size(), 2u) << r.Describe();
  EXPECT_EQ(errors[0].rfind("mdfs get: /again/up: corruption: directory inode 1 appears twice", 0),
            0u)
      << errors[0];
  EXPECT_EQ(errors[1].rfind("mdfs get: /d: corruption: directory inode 2 appears twice", 0), 0u)
      << errors[1];
  EXPECT_EQ(HostTree(Path("out")), (std::set<std::string>{"again", "again/f", "big", "prealloc"}));
  EXPECT_TRUE(ReadFile(Path("out/big")) == Ok({"get", image, "/big", "-"}).out);
  EXPECT_TRUE(ReadFile(Path("out/again/f")) == Ok({"get", image, "/d/f", "-"}).out);
}

// 1001 nested directories: the 1001st (and what is in it) is reported.
TEST_F(CliTest, NestingPastTheLimitIsReportedNotCopied) {
  auto device = CreateMemoryDevice(64 * kMiB);
  ASSERT_TRUE(device.ok());
  ASSERT_TRUE(FileSystem::Format(device->get()).ok());
  {
    auto fs = FileSystem::Open(device->get());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    InodeNumber parent = kRootInode;
    for (int depth = 1; depth <= 1001; ++depth) {
      auto made = (*fs)->Mkdir(parent, "d", S_IFDIR | 0755);
      ASSERT_TRUE(made.ok()) << depth << ": " << made.status().ToString();
      parent = made->ino;
      if (depth >= 1000) {
        ASSERT_TRUE((*fs)->Create(parent, "leaf", S_IFREG | 0644).ok());
      }
    }
  }
  std::string bytes((*device)->size_bytes(), '\0');
  ASSERT_TRUE((*device)->Read(0, std::as_writable_bytes(std::span(bytes))).ok());
  const std::string image = Path("deep.img");
  WriteFile(image, bytes);

  RunResult r = Run({"get", "-r", image, "/", Path("out")});
  std::string deepest;
  for (int depth = 1; depth <= 1000; ++depth) deepest += "/d";
  ExpectError(r, 1, "get", {"mdfs get: " + deepest + "/d: not supported: nested more than 1000"});
  EXPECT_EQ(r.out,
            "get: copied 1 file, 1001 directories, 0 symlinks (0 bytes); 1 object "
            "could not be read or written\n");
  EXPECT_TRUE(std::filesystem::exists(Path("out") + deepest + "/leaf"));
  EXPECT_FALSE(std::filesystem::exists(Path("out") + deepest + "/d"));
}

}  // namespace
}  // namespace mdfs::cli::testing
