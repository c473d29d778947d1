// End-to-end tests of the command line itself: `mdfs help CMD`, unknown
// commands and extra words (exit 2, named), and fallocate ranges whose
// end does not fit (named as such, not as a zero length).
#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

const std::vector<std::string>& EveryCommand() {
  static const std::vector<std::string> commands = {
      "mkfs", "fsck", "df",       "ls",        "stat", "mkdir",  "rm",   "mv",  "ln",
      "put",  "get",  "truncate", "fallocate", "seal", "unseal", "demo", "help"};
  return commands;
}

TEST_F(CliTest, HelpCommandPrintsTheCommandsManualPage) {
  for (const std::string& command : EveryCommand()) {
    RunResult help = Ok({"help", command});
    RunResult flag = Ok({command, "--help"});
    EXPECT_EQ(help.out, flag.out) << command;
    EXPECT_TRUE(Contains(help.out, "NAME\n    mdfs " + command + " - ")) << help.Describe();
    EXPECT_TRUE(help.err.empty()) << help.Describe();
  }
  EXPECT_EQ(Ok({"help"}).out, Ok({"--help"}).out);
  EXPECT_EQ(Ok({"--access", "mmap", "help", "put"}).out, Ok({"put", "--help"}).out);

  RunResult unknown = Run({"help", "mount"});
  ExpectError(unknown, 2, "help",
              {"unknown command 'mount'", "commands: mkfs, fsck", "mdfs --help"});
  EXPECT_TRUE(unknown.out.empty()) << unknown.Describe();
  ExpectError(Run({"help", "put", "ls"}), 2, "help", {"not expected: ls"});
}

TEST_F(CliTest, UnknownCommandsAreNamedWithTheListOfCommands) {
  std::string image = MakeImage("a.img", "8M");
  WriteFile(Path("host"), "data");
  std::string before = ReadFile(image);
  const std::vector<std::vector<std::string>> cases = {
      {"mount", "x"},
      {"lsof", "x"},
      {"foo", "put", "x"},
      {"foo", "put", image, Path("host"), "/copy"},
      {"--access", "mmap", "mount", image},
      {"--access=mmap", "Ls", image},
  };
  for (const std::vector<std::string>& args : cases) {
    RunResult r = Run(args);
    std::string word = args[0].starts_with("--access=") ? args[1]
                       : args[0] == "--access"          ? args[2]
                                                        : args[0];
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_EQ(r.err, "mdfs: unknown command '" + word +
                         "' (commands: mkfs, fsck, df, stat, ls, mkdir, rm, mv, ln, put, get, "
                         "truncate, fallocate, seal, unseal, demo, help; see 'mdfs --help')\n")
        << r.Describe();
    EXPECT_TRUE(r.out.empty()) << r.Describe();
  }
  EXPECT_TRUE(ReadFile(image) == before) << "a refused command changed the image";
  ExpectError(Run({"ls", Path("b.img")}), 1, "ls", {"not found"});  // a real command still runs
  RunResult option = Run({"--bogus", "mount", "x"});
  EXPECT_EQ(option.exit_code, 2) << option.Describe();
  EXPECT_EQ(option.err,
            "mdfs: '--bogus' is neither a command nor a global option (see 'mdfs --help')\n");
  RunResult none = Run({});
  EXPECT_EQ(none.exit_code, 2) << none.Describe();
  EXPECT_EQ(none.err, "mdfs: a command is required (see 'mdfs --help')\n");
}

TEST_F(CliTest, ExtraWordsAreUsageErrors) {
  std::string image = MakeImage("a.img", "8M");
  WriteFile(Path("host"), "data");
  std::string before = ReadFile(image);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"ls", {"ls", image, "/", "extra"}},
      {"put", {"put", image, Path("host"), "/copy", "extra"}},
      {"mkdir", {"mkdir", image, "/a", "/b"}},
      {"rm", {"rm", image, "/a", "/b"}},
      {"fsck", {"fsck", image, "again"}},
      {"truncate", {"truncate", image, "/f", "0", "1"}},
  };
  for (const auto& [command, args] : cases) {
    RunResult r = Run(args);
    ExpectError(r, 2, command, {"not expected: " + args.back(), "mdfs " + command + " --help"});
    EXPECT_TRUE(r.out.empty()) << r.Describe();
  }
  EXPECT_TRUE(ReadFile(image) == before) << "a refused command changed the image";
}

// issue 7: `fallocate IMG F 18446744073709547520 4096` said "length must be
// > 0"; OFFSET + LENGTH wraps past 2^64.
TEST_F(CliTest, FallocateRangeEndPastTheLargestOffsetIsNamed) {
  std::string image = MakeImage("a.img", "8M");
  Ok({"put", image, "-", "/f"}, std::string("data"));
  std::string before = ReadFile(image);
  RunResult wraps = Run({"fallocate", image, "/f", "18446744073709547520", "4096"});
  EXPECT_EQ(wraps.err,
            "mdfs fallocate: invalid range: OFFSET 18446744073709547520 + LENGTH 4096 is past "
            "2^64; the maximum file size is 16 TiB (17592186044416 bytes)\n");
  EXPECT_EQ(wraps.exit_code, 2) << wraps.Describe();
  RunResult too_large = Run({"fallocate", image, "/f", "-k", "16T", "4K"});
  ExpectError(too_large, 1, "fallocate",
              {"/f: file too large: the range ends at byte 17592186048512, past the maximum file "
               "size 16 TiB"});
  ExpectError(Run({"fallocate", image, "/f", "-p", "1", "18446744073709551615"}), 2, "fallocate",
              {"past 2^64"});
  EXPECT_TRUE(ReadFile(image) == before) << "a refused fallocate changed the image";
  Ok({"fallocate", image, "/f", "-k", "0", "4K"});  // an ordinary range still works
}

}  // namespace
}  // namespace mdfs::cli::testing
