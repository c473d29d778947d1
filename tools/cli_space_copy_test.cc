// put and get and space: put keeps only the blocks a file's data needs (the
// engine's Fsync trims the chunk preallocation past EOF), a sparse host
// file keeps its holes in the image, and get writes a sparse host file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr uint64_t kBlock = 4096;

struct HostPiece {
  uint64_t offset;
  std::string bytes;
};

// A host file of `size` bytes made with truncate + pwrite: `pieces` hold
// data, the rest are holes. False when the host file system keeps no holes.
bool MakeSparseHostFile(const std::string& path, uint64_t size,
                        const std::vector<HostPiece>& pieces) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0) << path;
  EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  for (const HostPiece& piece : pieces) {
    EXPECT_EQ(
        ::pwrite(fd, piece.bytes.data(), piece.bytes.size(), static_cast<off_t>(piece.offset)),
        static_cast<ssize_t>(piece.bytes.size()));
  }
  ::fsync(fd);
  struct stat st {};
  ::fstat(fd, &st);
  ::close(fd);
  return static_cast<uint64_t>(st.st_blocks) * 512 < size / 2;
}

// Compares two host files byte for byte, in 8 MiB reads.
void ExpectSameBytes(const std::string& a, const std::string& b) {
  int fa = ::open(a.c_str(), O_RDONLY);
  int fb = ::open(b.c_str(), O_RDONLY);
  ASSERT_GE(fa, 0) << a;
  ASSERT_GE(fb, 0) << b;
  std::string ba(8 << 20, '\0'), bb(8 << 20, '\0');
  for (uint64_t offset = 0;; offset += ba.size()) {
    ssize_t na = ::pread(fa, ba.data(), ba.size(), static_cast<off_t>(offset));
    ssize_t nb = ::pread(fb, bb.data(), bb.size(), static_cast<off_t>(offset));
    ASSERT_EQ(na, nb) << "sizes differ near offset " << offset;
    ASSERT_TRUE(na >= 0 && std::equal(ba.begin(), ba.begin() + na, bb.begin()))
        << a << " and " << b << " differ in the 8 MiB at offset " << offset;
    if (na == 0) break;
  }
  ::close(fa);
  ::close(fb);
}

struct stat HostStat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

class SpaceCopyTest : public CliTest {
 protected:
  uint64_t FreeBlocks(const std::string& image) {
    return Json({"df", image, "--json"})["free_blocks"].get<uint64_t>();
  }
};

TEST_F(SpaceCopyTest, PutOfA3MBFileKeepsOnlyTheBlocksOfItsData) {
  std::string image = MakeImage("a.img", "64M");
  WriteFile(Path("f"), RandomBytes(3'000'000, 7));
  Ok({"put", image, Path("f"), "/f"});
  nlohmann::json stat = Json({"stat", image, "/f", "--json"});
  EXPECT_EQ(stat["allocated_blocks"].get<uint64_t>(), (3'000'000 + kBlock - 1) / kBlock);  // 733
  for (const nlohmann::json& extent : stat["extents"]) {
    EXPECT_FALSE(extent["unwritten"].get<bool>()) << stat.dump();
  }
  Ok({"get", image, "/f", Path("back")});
  EXPECT_EQ(ReadFile(Path("back")), ReadFile(Path("f")));
  Ok({"fsck", image});
}

TEST_F(SpaceCopyTest, FillingAnImageWithPutUsesAllItsFreeSpace) {
  std::string image = MakeImage("full.img", "64M");
  WriteFile(Path("f"), RandomBytes(3'000'000, 8));
  uint64_t per_file = (3'000'000 + kBlock - 1) / kBlock;
  // One block goes to the root directory's entries.
  uint64_t expected = (FreeBlocks(image) - 1) / per_file;
  int count = 0;
  RunResult last;
  for (; count < 100; ++count) {
    last = Run({"put", image, Path("f"), "/f" + std::to_string(count)});
    if (last.exit_code != 0) break;
  }
  ExpectError(last, 1, "put", {"no space", "nothing was changed"});
  EXPECT_GE(static_cast<uint64_t>(count) + 1, expected) << "within one file of the free space";
  EXPECT_LE(static_cast<uint64_t>(count), expected);
  EXPECT_LT(FreeBlocks(image), per_file);
  Ok({"fsck", image});
}

TEST_F(SpaceCopyTest, PutKeepsTheHolesOfASparseHostFile) {
  std::string image = MakeImage("s.img", "64M");
  const uint64_t size = 48 << 20;  // ends in a hole
  std::vector<HostPiece> pieces = {{0, RandomBytes(kBlock, 1)},
                                   {10 << 20, RandomBytes(100'000, 2)},
                                   {(40 << 20) - 5, RandomBytes(10, 3)}};
  if (!MakeSparseHostFile(Path("sparse"), size, pieces)) GTEST_SKIP() << "no holes on the host";
  Ok({"put", image, Path("sparse"), "/s"});
  nlohmann::json stat = Json({"stat", image, "/s", "--json"});
  EXPECT_EQ(stat["size"].get<uint64_t>(), size);
  // The 4 KiB blocks the data touches: 1 + 25 + 2 (the last piece spans two).
  struct BlockRange {
    uint64_t first, end;
  };
  std::vector<BlockRange> data_blocks;
  for (const HostPiece& piece : pieces) {
    data_blocks.push_back(
        {piece.offset / kBlock, (piece.offset + piece.bytes.size() + kBlock - 1) / kBlock});
  }
  if (HostStat(Path("sparse")).st_blksize == kBlock) {
    EXPECT_EQ(stat["allocated_blocks"].get<uint64_t>(), 28u) << stat.dump();
  } else {
    EXPECT_LT(stat["allocated_blocks"].get<uint64_t>(), 1024u) << stat.dump();
  }
  for (const nlohmann::json& extent : stat["extents"]) {
    uint64_t first = extent["file_offset"].get<uint64_t>() / kBlock;
    uint64_t end = first + extent["length"].get<uint64_t>() / kBlock;
    bool inside_data = false;
    for (const BlockRange& range : data_blocks) {
      inside_data |= first >= range.first && end <= range.end;
    }
    if (HostStat(Path("sparse")).st_blksize == kBlock) {
      EXPECT_TRUE(inside_data) << "extent over a hole: " << extent.dump();
    }
    EXPECT_FALSE(extent["unwritten"].get<bool>()) << extent.dump();
  }
  Ok({"get", image, "/s", Path("back")});
  ExpectSameBytes(Path("sparse"), Path("back"));
  Ok({"fsck", image});
}

TEST_F(SpaceCopyTest, GetOfASparseFileWritesASparseHostFile) {
  std::string image = MakeImage("g.img", "64M");
  // 256 MiB with 3 MB of data (the 2 GiB behaves the same; smaller
  // keeps the byte comparison quick).
  const uint64_t size = uint64_t{256} << 20;
  std::vector<HostPiece> pieces = {{100 << 20, RandomBytes(1'000'000, 4)},
                                   {200 << 20, RandomBytes(2'000'000, 5)}};
  if (!MakeSparseHostFile(Path("big"), size, pieces)) GTEST_SKIP() << "no holes on the host";
  Ok({"put", image, Path("big"), "/big"});
  EXPECT_LT(Json({"stat", image, "/big", "--json"})["allocated_blocks"].get<uint64_t>(), 1000u);
  Ok({"get", image, "/big", Path("copy")});
  struct stat st = HostStat(Path("copy"));
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{16} << 20)
      << "holes were written as zeros";
  ExpectSameBytes(Path("big"), Path("copy"));
}

TEST_F(SpaceCopyTest, GetLeavesUnwrittenExtentsAsHoles) {
  std::string image = MakeImage("u.img", "64M");
  Ok({"put", image, "-", "/u"}, std::string("head"));
  Ok({"fallocate", image, "/u", "1M", "3M"});  // unwritten, inside the size
  Ok({"get", image, "/u", Path("u")});
  struct stat st = HostStat(Path("u"));
  EXPECT_EQ(st.st_size, 4 << 20);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{1} << 20);
  std::string expected(4 << 20, '\0');
  expected.replace(0, 4, "head");
  EXPECT_EQ(ReadFile(Path("u")), expected);
}

TEST_F(SpaceCopyTest, GetToStandardOutputWritesEveryByte) {
  std::string image = MakeImage("o.img", "64M");
  std::vector<HostPiece> pieces = {{1 << 20, "middle"}};
  MakeSparseHostFile(Path("hole"), 3 << 20, pieces);
  Ok({"put", image, Path("hole"), "/h"});
  RunResult r = Ok({"get", image, "/h", "-"});
  std::string expected(3 << 20, '\0');
  expected.replace(1 << 20, 6, "middle");
  EXPECT_TRUE(r.out == expected) << "stdout has " << r.out.size() << " bytes";
}

TEST_F(SpaceCopyTest, GetOverAnExistingLargerHostFileLeavesNoOldBytes) {
  std::string image = MakeImage("e.img", "64M");
  std::vector<HostPiece> pieces = {{1 << 20, "data"}};
  MakeSparseHostFile(Path("hole"), 2 << 20, pieces);
  Ok({"put", image, Path("hole"), "/h"});
  WriteFile(Path("old"), std::string(3 << 20, 'o'));
  Ok({"get", image, "/h", Path("old")});
  std::string expected(2 << 20, '\0');
  expected.replace(1 << 20, 4, "data");
  EXPECT_TRUE(ReadFile(Path("old")) == expected);
}

}  // namespace
}  // namespace mdfs::cli::testing
