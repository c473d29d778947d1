// Names are bytes (doc/cli.md): names, symlink targets and host paths that
// are not UTF-8 or hold control characters survive --json losslessly
// (name + name_hex), human output quotes them as GNU ls's shell-escape
// style does, error lines stay one line, and the exit codes stay the
// documented ones. Each test runs the built binary.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "cli_test_util.h"

namespace mdfs::cli::testing {
namespace {

const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD in UTF-8

std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

// The exact bytes of `key` in `object`: from key_hex when present.
std::string ExactText(const nlohmann::json& object, const std::string& key) {
  if (object.contains(key + "_hex")) return FromHex(object[key + "_hex"].get<std::string>());
  return object[key].get<std::string>();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The NAME column of `mdfs ls` output (everything after the MTIME column).
std::vector<std::string> NameColumn(const std::string& listing) {
  std::vector<std::string> lines = Lines(listing);
  size_t column = lines.at(0).find("NAME");
  std::vector<std::string> names;
  for (size_t i = 1; i < lines.size(); ++i) names.push_back(lines[i].substr(column));
  return names;
}

class NamesTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    image_ = MakeImage("a.img", "16M");
  }
  void PutEmpty(const std::string& name) { Ok({"put", image_, "-", "/" + name}, std::string()); }

  std::string image_;
};

// Names that are valid UTF-8 (control characters included) stay plain
// JSON strings; every other byte string comes with name_hex, and its
// name shows U+FFFD per invalid byte. The whole listing still parses.
TEST_F(NamesTest, JsonKeepsEveryNameAndTargetExact) {
  const std::map<std::string, std::string> expected_name = {
      {"plain", "plain"},
      {"a\nb", "a\nb"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},
      {"\xff\xfe", kReplacement + kReplacement},
      {"caf\xc3\xa9\xff", "caf\xc3\xa9" + kReplacement},
      {"\xc0\xaf", kReplacement + kReplacement},                     // overlong '/'
      {"\xed\xa0\x80", kReplacement + kReplacement + kReplacement},  // a surrogate
      {"x\xe2\x82", "x" + kReplacement + kReplacement},              // cut short
  };
  for (const auto& [name, shown] : expected_name) PutEmpty(name);
  Ok({"ln", image_, "\xff/t\xc3\xa9", "/link", "-s"});

  nlohmann::json ls = Json({"ls", image_, "/", "--json"});
  ASSERT_EQ(ls["entries"].size(), expected_name.size() + 1) << ls.dump(2);
  for (const nlohmann::json& entry : ls["entries"]) {
    std::string name = ExactText(entry, "name");
    if (name == "link") {
      EXPECT_EQ(entry["target"], kReplacement + "/t\xc3\xa9");
      EXPECT_EQ(entry["target_hex"], "ff2f74c3a9");
      EXPECT_EQ(ExactText(entry, "target"), "\xff/t\xc3\xa9");
      continue;
    }
    ASSERT_TRUE(expected_name.count(name)) << entry.dump();
    EXPECT_EQ(entry["name"], expected_name.at(name)) << entry.dump();
    EXPECT_EQ(entry.contains("name_hex"), name != expected_name.at(name)) << entry.dump();
  }

  nlohmann::json stat = Json({"stat", image_, "/\xff\xfe", "--json"});
  EXPECT_EQ(stat["path"], "/" + kReplacement + kReplacement);
  EXPECT_EQ(stat["path_hex"], "2ffffe");
  EXPECT_EQ(stat["name_hex"], "fffe");
  nlohmann::json link = Json({"stat", image_, "/link", "--json"});
  EXPECT_EQ(link["target_hex"], "ff2f74c3a9");
  EXPECT_FALSE(link.contains("path_hex"));
  nlohmann::json file = Json({"ls", image_, "/caf\xc3\xa9\xff", "--json"});
  EXPECT_EQ(file["path_hex"], "2f636166c3a9ff");
  EXPECT_EQ(ExactText(file["entries"][0], "name"), "caf\xc3\xa9\xff");
}

// The image's host path is bytes too: fsck --json and df --json keep it
// (image_hex), with fsck's exit codes 0, 4 and 8 — never 1.
TEST_F(NamesTest, HostPathThatIsNotUtf8KeepsTheDocumentedExitCodes) {
  std::string odd = Path("\xff\x01.img");
  std::filesystem::copy_file(image_, odd);
  nlohmann::json clean = Json({"fsck", odd, "--json"});
  EXPECT_EQ(clean["clean"], true);
  EXPECT_EQ(ExactText(clean, "image"), odd);
  nlohmann::json df = Json({"df", odd, "--json"});
  EXPECT_EQ(ExactText(df, "image"), odd);
  EXPECT_TRUE(df.contains("device_hex")) << df.dump(2);
  RunResult human = Ok({"fsck", odd});
  EXPECT_TRUE(Contains(human.out, "$'\\377\\001''.img': clean")) << human.out;

  int fd = ::open(odd.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "garbage!", 8, 64), 8);  // the primary superblock
  ::close(fd);
  RunResult problems = Run({"fsck", odd, "--json"});
  EXPECT_EQ(problems.exit_code, 4) << problems.Describe();
  nlohmann::json report = nlohmann::json::parse(problems.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << problems.Describe();
  EXPECT_EQ(ExactText(report, "image"), odd);

  std::string missing = Path("\xfe missing.img");
  RunResult cannot = Run({"fsck", missing, "--json"});
  EXPECT_EQ(cannot.exit_code, 8) << cannot.Describe();
  nlohmann::json error = nlohmann::json::parse(cannot.out, nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << cannot.Describe();
  EXPECT_EQ(ExactText(error, "image"), missing);
  EXPECT_TRUE(error.contains("error_hex")) << error.dump();
  EXPECT_EQ(LineCount(cannot.err), 1u) << cannot.Describe();
}

// ls prints each name as GNU `ls --quoting-style=shell-escape` does, so a
// newline in a name cannot start a new line of the listing.
TEST_F(NamesTest, HumanOutputQuotesNamesAsGnuLsShellEscape) {
  // In the order ls sorts them (bytewise).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\x01", "''$'\\001'"},     {"a\tb", "'a'$'\\t''b'"},       {"a\nb", "'a'$'\\n''b'"},
      {"a b", "'a b'"},           {"caf\xc3\xa9", "caf\xc3\xa9"}, {"it's", "\"it's\""},
      {"plain.txt", "plain.txt"}, {"x\xffy", "'x'$'\\377''y'"},   {"\xff\xfe", "''$'\\377\\376'"},
  };
  for (const auto& [name, printed] : cases) PutEmpty(name);
  std::vector<std::string> names = NameColumn(Ok({"ls", image_, "/"}).out);
  ASSERT_EQ(names.size(), cases.size()) << "a name broke a line of the listing";
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(names[i], cases[i].second) << "name " << i;
  }

  Ok({"mkdir", image_, "/d\n"});
  Ok({"ln", image_, "\xff", "/link", "-s"});
  std::vector<std::string> more = NameColumn(Ok({"ls", image_, "/"}).out);
  EXPECT_NE(std::find(more.begin(), more.end(), "'d'$'\\n'/"), more.end());
  EXPECT_NE(std::find(more.begin(), more.end(), "link -> ''$'\\377'"), more.end());
  RunResult stat = Ok({"stat", image_, "/link"});
  EXPECT_TRUE(Contains(stat.out, "Target:       ''$'\\377'\n")) << stat.out;
  RunResult plain = Ok({"stat", image_, "/a\tb"});
  EXPECT_TRUE(Contains(plain.out, "Path:         '/a'$'\\t''b'\n")) << plain.out;
}

// The printed form is a shell word: bash turns it back into the bytes.
TEST_F(NamesTest, PrintedNamesReadBackThroughBash) {
  if (!std::filesystem::exists("/bin/bash")) GTEST_SKIP() << "no /bin/bash";
  const std::vector<std::string> names = {"\x01",    "a\nb", "\xff\xfe", "it's", "a'b\n", "'",
                                          "\t'\x7f", "#x",   "~",        "{",    "a$b",   "\\"};
  for (const std::string& name : names) PutEmpty(name);
  std::vector<std::string> printed = NameColumn(Ok({"ls", image_, "/"}).out);
  ASSERT_EQ(printed.size(), names.size());
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < printed.size(); ++i) {
    WriteFile(Path("word.sh"), "printf %s " + printed[i]);
    std::string command = "/bin/bash " + Path("word.sh") + " > " + Path("word.out");
    ASSERT_EQ(std::system(command.c_str()), 0) << printed[i];
    EXPECT_EQ(ReadFile(Path("word.out")), sorted[i]) << printed[i];
  }
}

// An error that names a path with a newline is still one line: the path
// shell-escaped, the engine's reason with C escapes.
TEST_F(NamesTest, ErrorLinesStayOneLine) {
  RunResult missing = Run({"ls", image_, "/no\nsuch"});
  ExpectError(missing, 1, "ls", {"'/no'$'\\n''such': not found", "\"no\\nsuch\""});
  PutEmpty("f\n");
  RunResult busy = Run({"mkdir", image_, "/f\n"});
  ExpectError(busy, 1, "mkdir", {"'/f'$'\\n'", "exists"});
  RunResult moved = Run({"mv", image_, "/f\n", "/x\xff/y"});
  ExpectError(moved, 1, "mv", {"'/x'$'\\377'"});
  RunResult plain = Run({"ls", image_, "/no such"});
  ExpectError(plain, 1, "ls", {"mdfs ls: /no such: not found"});
}

}  // namespace
}  // namespace mdfs::cli::testing
