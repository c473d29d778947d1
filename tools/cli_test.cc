// End-to-end tests of the mdfs command: each runs the real binary in a
// temporary directory and checks stdout, stderr, exit status and the image.
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

const std::vector<std::string>& AllCommands() {
  static const std::vector<std::string> commands = {
      "mkfs", "fsck", "df",  "ls",       "stat",      "mkdir", "rm",    "mv",
      "ln",   "put",  "get", "truncate", "fallocate", "seal",  "unseal"};
  return commands;
}

TEST_F(CliTest, HelpOnEveryCommandIsAManualPage) {
  for (const std::string& command : AllCommands()) {
    RunResult r = Run({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    for (const char* section :
         {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"}) {
      EXPECT_TRUE(Contains(r.out, section)) << command << " lacks " << section;
    }
    EXPECT_TRUE(Contains(r.out, "mdfs " + command + " ")) << r.Describe();
    EXPECT_TRUE(Contains(r.out, "IMAGE")) << r.Describe();
  }
}

TEST_F(CliTest, TopLevelHelpAndVersion) {
  RunResult help = Ok({"--help"});
  for (const std::string& command : AllCommands()) {
    EXPECT_TRUE(Contains(help.out, "    " + command + " ")) << command << "\n" << help.out;
  }
  EXPECT_TRUE(Contains(help.out, "--access")) << help.out;
  RunResult version = Ok({"--version"});
  EXPECT_TRUE(Contains(version.out, "mdfs 0.")) << version.Describe();
  RunResult none = Run({});
  EXPECT_EQ(none.exit_code, 2) << none.Describe();
  EXPECT_TRUE(Contains(none.err, "a command is required")) << none.Describe();
}

class SessionTest : public CliTest {
 protected:
  std::string Get(const std::string& image, const std::string& path) {
    RunResult r = Ok({"get", image, path, "-"});
    return r.out;
  }
  nlohmann::json Stat(const std::string& image, const std::string& path) {
    return Json({"stat", image, path, "--json"});
  }
};

TEST_F(SessionTest, MkfsDfMkdirPutLsStatGet) {
  std::string image = Path("a.img");
  RunResult mkfs = Ok({"mkfs", image, "--size", "32M"});
  EXPECT_TRUE(Contains(mkfs.out, "UUID")) << mkfs.out;
  EXPECT_EQ(std::filesystem::file_size(image), 32 * kMiB);
  RunResult df = Ok({"df", image});
  EXPECT_TRUE(Contains(df.out, "Persistence")) << df.out;
  EXPECT_TRUE(Contains(df.out, "8192 blocks")) << df.out;
  Ok({"mkdir", image, "/dir"});

  std::string data = RandomBytes(5 * kMiB + 123, 1);
  WriteFile(Path("host.bin"), data);
  Ok({"put", image, Path("host.bin"), "/dir/file.bin"});
  std::string piped = RandomBytes(9 * kMiB + 7, 2);  // more than one 8 MiB chunk
  Ok({"put", image, "-", "/dir/stdin.bin"}, piped);

  RunResult ls = Ok({"ls", image, "/dir"});
  size_t file_at = ls.out.find("file.bin");
  size_t stdin_at = ls.out.find("stdin.bin");
  ASSERT_NE(file_at, std::string::npos) << ls.out;
  ASSERT_NE(stdin_at, std::string::npos) << ls.out;
  EXPECT_LT(file_at, stdin_at) << "not sorted by name:\n" << ls.out;
  EXPECT_TRUE(Contains(ls.out, std::to_string(data.size()))) << ls.out;

  RunResult stat = Ok({"stat", image, "/dir/file.bin"});
  for (const char* field : {"Inode:", "Mode:", "Uid/Gid:", "Links:", "Flags:", "Modify:", "Birth:",
                            "Persistence:", "Extents:", "DEVICE_OFFSET"}) {
    EXPECT_TRUE(Contains(stat.out, field)) << field << "\n" << stat.out;
  }
  EXPECT_TRUE(Contains(stat.out, std::to_string(data.size()) + " bytes")) << stat.out;

  nlohmann::json self = Json({"ls", image, "/dir/file.bin", "--json"});
  ASSERT_EQ(self["entries"].size(), 1u) << self.dump(2);  // a file lists itself
  EXPECT_EQ(self["entries"][0]["name"], "file.bin");
  EXPECT_EQ(self["entries"][0]["size"], data.size());

  EXPECT_TRUE(Get(image, "/dir/file.bin") == data);
  EXPECT_TRUE(Get(image, "/dir/stdin.bin") == piped);
  std::filesystem::create_directory(Path("host_dir"));
  Ok({"get", image, "/dir/stdin.bin", Path("host_dir")});  // into a host directory
  EXPECT_TRUE(ReadFile(Path("host_dir/stdin.bin")) == piped);
  Ok({"get", image, "/dir/file.bin", Path("out.bin")});
  EXPECT_TRUE(ReadFile(Path("out.bin")) == data);
  RunResult fsck = Ok({"fsck", image});
  EXPECT_TRUE(Contains(fsck.out, "clean")) << fsck.out;
}

TEST_F(SessionTest, MvTruncateFallocateEveryModeRmFsck) {
  std::string image = MakeImage("a.img", "32M");
  Ok({"mkdir", image, "/dir"});
  std::string model = RandomBytes(3 * kMiB + 5, 3);
  WriteFile(Path("host.bin"), model);
  Ok({"put", image, Path("host.bin"), "/dir/file.bin"});

  Ok({"mv", image, "/dir/file.bin", "/dir/moved.bin"});
  RunResult ls = Ok({"ls", image, "/dir"});
  EXPECT_FALSE(Contains(ls.out, "file.bin")) << ls.out;
  EXPECT_TRUE(Get(image, "/dir/moved.bin") == model);

  const std::string f = "/dir/moved.bin";
  auto check = [&](const std::string& step) {
    EXPECT_EQ(Stat(image, f)["size"], model.size()) << step;
    EXPECT_TRUE(Get(image, f) == model) << step;
  };
  Ok({"truncate", image, f, "1M"});
  model.resize(1 * kMiB);
  check("truncate 1M");
  Ok({"fallocate", image, f, "2M", "1M"});
  model.resize(3 * kMiB, '\0');
  check("fallocate mode 0 (grows the size)");
  nlohmann::json extents = Stat(image, f)["extents"];
  bool unwritten_at_2m = std::any_of(extents.begin(), extents.end(), [](const auto& e) {
    return e["unwritten"] == true && e["file_offset"] <= 2 * kMiB &&
           e["file_offset"].template get<uint64_t>() + e["length"].template get<uint64_t>() >
               2 * kMiB;
  });
  EXPECT_TRUE(unwritten_at_2m) << extents.dump(2);
  Ok({"fallocate", image, f, "--keep-size", "8M", "1M"});
  check("fallocate --keep-size");
  Ok({"fallocate", image, f, "--punch-hole", "0", "8K"});
  std::fill(model.begin(), model.begin() + 8 * kKiB, '\0');
  check("fallocate --punch-hole");
  Ok({"fallocate", image, f, "--zero-range", "16K", "4K"});
  std::fill(model.begin() + 16 * kKiB, model.begin() + 20 * kKiB, '\0');
  check("fallocate --zero-range");
  Ok({"fallocate", image, f, "--zero-range", "--keep-size", "4M", "4K"});
  check("fallocate --zero-range --keep-size");
  Ok({"fallocate", image, f, "--collapse-range", "0", "4K"});
  model.erase(0, 4 * kKiB);
  check("fallocate --collapse-range");
  Ok({"fallocate", image, f, "--insert-range", "4K", "8K"});
  model.insert(4 * kKiB, 8 * kKiB, '\0');
  check("fallocate --insert-range");

  Ok({"rm", image, f});
  EXPECT_EQ(Run({"stat", image, f}).exit_code, 1);
  Ok({"rm", image, "/dir", "-d"});
  EXPECT_EQ(Json({"ls", image, "/", "--json"})["entries"].size(), 0u);
  RunResult fsck = Ok({"fsck", image});
  EXPECT_TRUE(Contains(fsck.out, "clean")) << fsck.out;
}

TEST_F(SessionTest, PutIntoDirectoryAndReplace) {
  std::string image = MakeImage("a.img", "16M");
  Ok({"mkdir", image, "/d"});
  std::string first = RandomBytes(100 * kKiB, 4);
  WriteFile(Path("name.txt"), first);
  Ok({"put", image, Path("name.txt"), "/d"});
  EXPECT_TRUE(Get(image, "/d/name.txt") == first);
  std::string second = RandomBytes(10 * kKiB, 5);
  WriteFile(Path("name.txt"), second);
  Ok({"put", image, Path("name.txt"), "/d/name.txt"});
  EXPECT_TRUE(Get(image, "/d/name.txt") == second);
  EXPECT_EQ(Stat(image, "/d/name.txt")["size"], second.size());
  EXPECT_EQ(Json({"ls", image, "/d", "--json"})["entries"].size(), 1u);
  Ok({"fsck", image});
}

TEST_F(SessionTest, NamespaceOptions) {
  std::string image = MakeImage("a.img", "16M");
  Ok({"mkdir", image, "/a/b/c", "-p"});
  Ok({"mkdir", image, "/a/b/c", "-p"});  // exists: fine with -p
  EXPECT_EQ(Run({"mkdir", image, "/a/b/c"}).exit_code, 1);
  Ok({"put", image, "-", "/a/one"}, std::string("1"));
  Ok({"put", image, "-", "/a/two"}, std::string("22"));
  RunResult no_replace = Run({"mv", image, "/a/one", "/a/two", "--no-replace"});
  EXPECT_EQ(no_replace.exit_code, 1) << no_replace.Describe();
  EXPECT_TRUE(Contains(no_replace.err, "exists")) << no_replace.Describe();
  Ok({"mv", image, "/a/one", "/a/two", "--exchange"});
  EXPECT_EQ(Get(image, "/a/one"), "22");
  EXPECT_EQ(Get(image, "/a/two"), "1");
  Ok({"mv", image, "/a/one", "/a/b"});  // into the directory
  EXPECT_EQ(Get(image, "/a/b/one"), "22");
  Ok({"ln", image, "/a/two", "/a/link", "-s"});
  nlohmann::json link = Stat(image, "/a/link");
  EXPECT_EQ(link["type"], "symlink");
  EXPECT_EQ(link["target"], "/a/two");
  Ok({"ln", image, "/a/two", "/a/hard"});
  EXPECT_EQ(Stat(image, "/a/two")["nlink"], 2);
  Ok({"rm", image, "/a/link"});
  Ok({"rm", image, "/a/hard"});
  RunResult not_empty = Run({"rm", image, "/a", "-d"});
  EXPECT_EQ(not_empty.exit_code, 1) << not_empty.Describe();
  Ok({"rm", image, "/a", "-r"});
  Ok({"rm", image, "/a", "-f"});
  EXPECT_EQ(Json({"ls", image, "/", "--json"})["entries"].size(), 0u);
  Ok({"fsck", image});
}

TEST_F(CliTest, BigCopiesShowProgressOnATerminalOnly) {
  std::string image = MakeImage("a.img", "128M");
  std::string big = RandomBytes(72 * kMiB, 8);
  WriteFile(Path("big.bin"), big);
  RunResult put = RunMdfsWithTerminalStderr({"put", image, Path("big.bin"), "/big"});
  EXPECT_EQ(put.exit_code, 0) << put.Describe();
  EXPECT_TRUE(Contains(put.err, "put: ")) << put.Describe();
  EXPECT_TRUE(Contains(put.err, " / 72 MiB (100%)")) << put.Describe();
  RunResult get = RunMdfsWithTerminalStderr({"get", image, "/big", Path("copy.bin")});
  EXPECT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_TRUE(Contains(get.err, "get: 72 MiB / 72 MiB (100%)")) << get.Describe();
  EXPECT_TRUE(ReadFile(Path("copy.bin")) == big);
  // Not a terminal: nothing on stderr.
  RunResult quiet = Ok({"put", image, Path("big.bin"), "/big"});
  EXPECT_TRUE(quiet.err.empty()) << quiet.Describe();
  // Small copies stay quiet on a terminal too.
  WriteFile(Path("small.bin"), "small");
  RunResult small = RunMdfsWithTerminalStderr({"put", image, Path("small.bin"), "/small"});
  EXPECT_EQ(small.exit_code, 0) << small.Describe();
  EXPECT_TRUE(small.err.empty()) << small.Describe();
}

TEST_F(CliTest, JsonOutputsParseWithTheDocumentedFields) {
  std::string image = MakeImage("a.img", "32M");
  nlohmann::json df = Json({"df", image, "--json"});
  for (const char* key :
       {"image", "device", "block_size", "total_blocks", "used_blocks", "free_blocks",
        "data_blocks", "total_bytes", "used_bytes", "free_bytes", "total_inodes", "used_inodes",
        "free_inodes", "uuid", "persistence_mode", "read_only", "journal_sequence"}) {
    EXPECT_TRUE(df.contains(key)) << key << "\n" << df.dump(2);
  }
  EXPECT_EQ(df["block_size"], 4096);
  EXPECT_EQ(df["total_blocks"], 8192);
  EXPECT_EQ(df["used_blocks"].get<uint64_t>() + df["free_blocks"].get<uint64_t>(), 8192u);
  EXPECT_EQ(df["uuid"].get<std::string>().size(), 36u);
  EXPECT_EQ(df["used_inodes"], 1);  // the root directory

  std::string data = RandomBytes(1 * kMiB + 1, 6);
  WriteFile(Path("f"), data);
  Ok({"mkdir", image, "/z"});
  Ok({"put", image, Path("f"), "/b"});
  Ok({"put", image, Path("f"), "/a"});
  nlohmann::json after = Json({"df", image, "--json"});
  EXPECT_LE(after["free_blocks"].get<uint64_t>() + 2 * 257, df["free_blocks"].get<uint64_t>());
  EXPECT_EQ(after["used_inodes"], 4);
  EXPECT_EQ(after["uuid"], df["uuid"]);

  nlohmann::json ls = Json({"ls", image, "/", "--json"});
  EXPECT_EQ(ls["path"], "/");
  EXPECT_EQ(ls["type"], "directory");
  ASSERT_EQ(ls["entries"].size(), 3u);
  EXPECT_EQ(ls["entries"][0]["name"], "a");
  EXPECT_EQ(ls["entries"][1]["name"], "b");
  EXPECT_EQ(ls["entries"][2]["name"], "z");
  EXPECT_EQ(ls["entries"][2]["type"], "directory");
  for (const char* key : {"name", "ino", "type", "mode", "size", "nlink", "mtime", "mtime_ns"}) {
    EXPECT_TRUE(ls["entries"][0].contains(key)) << key;
  }

  nlohmann::json stat = Json({"stat", image, "/a", "--json"});
  for (const char* key : {"path",       "ino",         "type",       "mode",
                          "mode_octal", "permissions", "uid",        "gid",
                          "size",       "nlink",       "generation", "allocated_blocks",
                          "flags",      "sealed",      "atime",      "mtime",
                          "ctime",      "btime",       "btime_ns",   "persistence_mode",
                          "extents"}) {
    EXPECT_TRUE(stat.contains(key)) << key << "\n" << stat.dump(2);
  }
  EXPECT_EQ(stat["type"], "file");
  EXPECT_EQ(stat["size"], data.size());
  EXPECT_EQ(stat["mode"].get<uint32_t>() & S_IFMT, static_cast<uint32_t>(S_IFREG));
  EXPECT_EQ(stat["sealed"], false);
  EXPECT_EQ(stat["mtime"].get<std::string>().size(),
            std::string("2024-01-01T00:00:00.000000000Z").size());
  const nlohmann::json& extents = stat["extents"];
  ASSERT_FALSE(extents.empty());
  uint64_t written = 0, previous_end = 0;
  for (const auto& e : extents) {
    for (const char* key :
         {"file_offset", "device_offset", "length", "flags", "unwritten", "last"}) {
      EXPECT_TRUE(e.contains(key)) << key;
    }
    EXPECT_GE(e["file_offset"].get<uint64_t>(), previous_end);
    previous_end = e["file_offset"].get<uint64_t>() + e["length"].get<uint64_t>();
    EXPECT_EQ(e["device_offset"].get<uint64_t>() % 4096, 0u);
    EXPECT_LE(e["device_offset"].get<uint64_t>() + e["length"].get<uint64_t>(), 32 * kMiB);
    if (e["unwritten"] == false) written += e["length"].get<uint64_t>();
  }
  EXPECT_GE(written, data.size());
  EXPECT_EQ(extents.back()["last"], true);

  nlohmann::json fsck = Json({"fsck", image, "--json"});
  EXPECT_EQ(fsck["clean"], true);
  EXPECT_EQ(fsck["problem_count"], 0);
  EXPECT_TRUE(fsck["problems"].is_array());
  EXPECT_EQ(fsck["total_blocks"], 8192);
  EXPECT_EQ(fsck["inodes_in_use"], 4);
  EXPECT_EQ(fsck["directories"], 2);
  EXPECT_EQ(fsck["regular_files"], 2);
  EXPECT_TRUE(fsck["journal_state"].is_string());
}

TEST_F(CliTest, AccessModeSelectsTheDeviceAndItsPersistenceMode) {
  std::string image = MakeImage("a.img", "16M");
  std::string pread_mode = Json({"df", image, "--json"})["persistence_mode"];
  std::string mmap_mode = Json({"--access", "mmap", "df", image, "--json"})["persistence_mode"];
  EXPECT_TRUE((std::set<std::string>{"fdatasync", "volatile"}.count(pread_mode))) << pread_mode;
  EXPECT_TRUE((std::set<std::string>{"msync", "cpu-cache", "volatile"}.count(mmap_mode)))
      << mmap_mode;
  if (pread_mode != "volatile") {
    EXPECT_NE(pread_mode, mmap_mode);
  }
  // The option may follow the command name too; stat shows the same mode.
  std::string data = RandomBytes(300 * kKiB, 7);
  WriteFile(Path("f"), data);
  Ok({"put", "--access", "mmap", image, Path("f"), "/f"});
  nlohmann::json stat = Json({"stat", image, "/f", "--access", "mmap", "--json"});
  EXPECT_EQ(stat["persistence_mode"], mmap_mode);
  RunResult human = Ok({"--access", "mmap", "stat", image, "/f"});
  EXPECT_TRUE(Contains(human.out, "Persistence:  " + mmap_mode)) << human.out;
  EXPECT_TRUE(Ok({"get", image, "/f", "-"}).out == data);  // written via mmap, read via pread
  Ok({"fsck", image});
}

}  // namespace
}  // namespace mdfs::cli::testing
