// mdfs mkfs refuses to overwrite a device holding a known signature (or any
// data in its first 8 KiB) without --force, and names what it found.
#include <fstream>
#include <string>

#include "cli_test_util.h"
#include "gtest/gtest.h"

namespace mdfs::cli::testing {
namespace {

// A zero-filled file of `bytes` with `magic` written at `offset`.
void WriteImageWithMagic(const std::string& path, uint64_t bytes, uint64_t offset,
                         const std::string& magic) {
  std::string content(bytes, '\0');
  content.replace(offset, magic.size(), magic);
  std::ofstream(path, std::ios::binary) << content;
}

struct Case {
  const char* name;
  uint64_t offset;
  std::string magic;
};

TEST_F(CliTest, MkfsNamesTheSignatureItRefusesToOverwrite) {
  const Case cases[] = {
      {"an ext2/ext3/ext4 file system: signature at byte 1080", 1080, std::string("\x53\xef", 2)},
      {"an xfs file system: signature at byte 0", 0, "XFSB"},
      {"a btrfs file system: signature at byte 65600", 65600, "_BHRfS_M"},
      {"a swap area: signature at byte 4086", 4086, "SWAPSPACE2"},
  };
  for (const Case& c : cases) {
    const std::string image = Path("signed.img");
    WriteImageWithMagic(image, 4u << 20, c.offset, c.magic);
    const std::string before = ReadFile(image);
    ExpectError(Run({"mkfs", image}), 1, "mkfs",
                {image, "already holds data; use --force to overwrite", c.name});
    EXPECT_TRUE(ReadFile(image) == before) << c.name;
    Ok({"mkfs", image, "--force"});
    EXPECT_TRUE(ReadFile(image) != before) << c.name;
  }
}

TEST_F(CliTest, MkfsNamesAnExistingMdfsFileSystem) {
  const std::string image = MakeImage("a.img", "8M");
  ExpectError(Run({"mkfs", image}), 1, "mkfs",
              {"it holds an mdfs file system: signature at byte 0"});
}

}  // namespace
}  // namespace mdfs::cli::testing
