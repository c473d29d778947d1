// mdfs on damaged images, end to end (issue 7): warnings on stderr when a
// superblock copy is damaged or a read-only open serves around damage,
// `fsck --repair` with its exit codes, and the image lock keeping it off an
// image in use.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr size_t kKiB = 1024;

void DamageByte(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char byte = 0;
  ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(offset)), 1);
  byte = static_cast<char>(byte ^ 0x5a);
  ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

class RepairTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("r.img", "16M");
    Ok({"mkdir", image_, "/d"});
    content_ = RandomBytes(20 * kKiB + 5, 3);
    WriteFile(Path("host.bin"), content_);
    Ok({"put", image_, Path("host.bin"), "/d/f"});
    Ok({"put", image_, Path("host.bin"), "/top"});
  }
  // The device offset of /d's only directory block.
  uint64_t DirectoryBlockOffset() {
    nlohmann::json stat = Json({"stat", image_, "/d", "--json"});
    return stat["extents"][0]["device_offset"].get<uint64_t>();
  }

  std::string image_;
  std::string content_;
};

TEST_F(RepairTest, ADamagedBackupSuperblockIsNamedAndRestoredByAWritableOpen) {
  DamageByte(image_, 4096 + 100);
  RunResult read_only = Ok({"ls", image_, "/"});
  EXPECT_TRUE(Contains(read_only.err, "warning: backup superblock (block 1) damaged"))
      << read_only.Describe();
  EXPECT_TRUE(Contains(read_only.err, "not restored (read-only)")) << read_only.Describe();
  RunResult writable = Ok({"mkdir", image_, "/e"});
  EXPECT_TRUE(Contains(writable.err, "restored from the primary")) << writable.Describe();
  EXPECT_EQ(Run({"fsck", image_}).exit_code, 0) << "the backup was rewritten";
  EXPECT_EQ(Ok({"ls", image_, "/"}).err, "");
}

TEST_F(RepairTest, AZeroedPrimarySuperblockIsNotUsedSilently) {
  int fd = ::open(image_.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, std::string(4096, '\0').data(), 4096, 0), 4096);
  ::close(fd);
  RunResult df = Ok({"df", image_});
  EXPECT_TRUE(Contains(df.err, "warning: primary superblock (block 0) damaged")) << df.Describe();
  EXPECT_TRUE(Contains(df.err, "opened from the backup")) << df.Describe();
  RunResult put = Ok({"put", image_, Path("host.bin"), "/again"});
  EXPECT_TRUE(Contains(put.err, "restored from the backup")) << put.Describe();
  EXPECT_EQ(Run({"fsck", image_}).exit_code, 0);
}

TEST_F(RepairTest, RepairReconnectsWhatADamagedDirectoryBlockHeld) {
  const uint64_t offset = DirectoryBlockOffset();
  DamageByte(image_, offset + 300);
  // Read-only commands still serve what does not depend on the block.
  RunResult ls = Run({"ls", image_, "/"});
  EXPECT_EQ(ls.exit_code, 1) << ls.Describe();
  EXPECT_TRUE(Contains(ls.err, "1 damaged object(s)")) << ls.Describe();
  EXPECT_TRUE(Contains(ls.err, "mdfs ls: /d: corruption: block")) << ls.Describe();
  EXPECT_TRUE(Contains(ls.out, "top")) << ls.Describe();
  EXPECT_TRUE(Contains(ls.out, "??????????")) << ls.Describe();
  EXPECT_TRUE(Ok({"get", image_, "/top", "-"}).out == content_);
  RunResult get = Run({"get", image_, "/d/f", "-"});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_TRUE(Contains(get.err, "corruption")) << get.Describe();
  EXPECT_TRUE(Contains(get.err, "directory inode")) << get.Describe();
  RunResult mkdir = Run({"mkdir", image_, "/x"});
  EXPECT_EQ(mkdir.exit_code, 1);
  EXPECT_TRUE(Contains(mkdir.err, "read-only to copy out")) << mkdir.Describe();
  EXPECT_EQ(Run({"fsck", image_}).exit_code, 4);

  RunResult repair = Run({"fsck", image_, "--repair"});
  EXPECT_EQ(repair.exit_code, 1) << repair.Describe();
  EXPECT_TRUE(Contains(repair.out, "fixed: directory")) << repair.Describe();
  EXPECT_TRUE(Contains(repair.out, "linked as /lost+found/#")) << repair.Describe();
  EXPECT_TRUE(Contains(repair.out, ": clean")) << repair.Describe();
  EXPECT_EQ(Run({"fsck", image_}).exit_code, 0);
  RunResult again = Run({"fsck", image_, "--repair", "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  nlohmann::json report = nlohmann::json::parse(again.out);
  EXPECT_EQ(report["changes"].size(), 0u);
  EXPECT_EQ(report["clean"], true);

  // The file is back, under lost+found, byte for byte.
  nlohmann::json lost = Json({"ls", image_, "/lost+found", "--json"});
  ASSERT_EQ(lost["entries"].size(), 1u) << lost.dump();
  const std::string name = lost["entries"][0]["name"];
  EXPECT_TRUE(Ok({"get", image_, "/lost+found/" + name, "-"}).out == content_);
  EXPECT_EQ(Ok({"ls", image_, "/"}).err, "") << "no warning on a repaired image";
}

TEST_F(RepairTest, RepairRefusesAnImageInUse) {
  int fd = ::open(image_.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_SH), 0);  // as a reader of the image holds it
  const std::string before = ReadFile(image_);
  RunResult repair = Run({"fsck", image_, "--repair"});
  EXPECT_EQ(repair.exit_code, 8) << repair.Describe();
  EXPECT_TRUE(Contains(repair.err, "in use")) << repair.Describe();
  EXPECT_TRUE(ReadFile(image_) == before);
  ::close(fd);
  EXPECT_EQ(Run({"fsck", image_, "--repair"}).exit_code, 0) << "a clean image: nothing to fix";
}

}  // namespace
}  // namespace mdfs::cli::testing
