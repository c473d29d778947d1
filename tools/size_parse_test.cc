// Unit tests of the argument helpers: ParseSize and the image path helpers.
#include "size_parse.h"

#include <gtest/gtest.h>

#include "image.h"

namespace mdfs::cli {
namespace {

uint64_t Parsed(const char* text) {
  auto value = ParseSize(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status().ToString();
  return value.ok() ? *value : 0;
}

std::string Error(const char* text) {
  auto value = ParseSize(text);
  EXPECT_FALSE(value.ok()) << text << " parsed as " << (value.ok() ? *value : 0);
  return value.ok() ? "" : value.status().message();
}

TEST(ParseSizeTest, PlainBytes) {
  EXPECT_EQ(Parsed("0"), 0u);
  EXPECT_EQ(Parsed("4096"), 4096u);
  EXPECT_EQ(Parsed("512B"), 512u);
  EXPECT_EQ(Parsed("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSizeTest, BinarySuffixes) {
  EXPECT_EQ(Parsed("1K"), 1024u);
  EXPECT_EQ(Parsed("256M"), 256u << 20);
  EXPECT_EQ(Parsed("4G"), uint64_t{4} << 30);
  EXPECT_EQ(Parsed("2T"), uint64_t{2} << 40);
  EXPECT_EQ(Parsed("3KiB"), 3u << 10);
  EXPECT_EQ(Parsed("5MiB"), 5u << 20);
  EXPECT_EQ(Parsed("6GiB"), uint64_t{6} << 30);
  EXPECT_EQ(Parsed("7TiB"), uint64_t{7} << 40);
  EXPECT_EQ(Parsed("8m"), 8u << 20);
  EXPECT_EQ(Parsed("9gib"), uint64_t{9} << 30);
}

TEST(ParseSizeTest, RejectsGarbage) {
  EXPECT_EQ(Error("12Q").rfind("invalid size '12Q': unknown suffix 'Q'", 0), 0u);
  EXPECT_NE(Error("").find("empty"), std::string::npos);
  EXPECT_NE(Error("abc").find("not a number"), std::string::npos);
  EXPECT_NE(Error("M").find("not a number"), std::string::npos);
  EXPECT_NE(Error("1.5G").find("fraction"), std::string::npos);
  EXPECT_NE(Error("4 K").find("unknown suffix"), std::string::npos);
  EXPECT_NE(Error("4KB").find("unknown suffix"), std::string::npos);
  EXPECT_NE(Error("0x10").find("unknown suffix"), std::string::npos);
}

TEST(ParseSizeTest, RejectsSigns) {
  EXPECT_NE(Error("-5").find("negative"), std::string::npos);
  EXPECT_NE(Error("-1G").find("negative"), std::string::npos);
  EXPECT_NE(Error("+5").find("sign"), std::string::npos);
}

TEST(ParseSizeTest, RejectsOverflow) {
  EXPECT_NE(Error("18446744073709551616").find("too large"), std::string::npos);
  EXPECT_NE(Error("99999999999999999999999").find("too large"), std::string::npos);
  EXPECT_NE(Error("16777216T").find("too large"), std::string::npos);  // 2^64
  EXPECT_EQ(Parsed("16777215T"), uint64_t{16777215} << 40);
}

TEST(ParseMillisecondsTest, UnitsAndErrors) {
  auto ms = [](const char* text) {
    auto value = ParseMilliseconds(text);
    EXPECT_TRUE(value.ok()) << text << ": " << value.status().ToString();
    return value.ok() ? *value : 0;
  };
  auto error = [](const char* text) {
    auto value = ParseMilliseconds(text);
    EXPECT_FALSE(value.ok()) << text;
    return value.ok() ? std::string() : value.status().message();
  };
  EXPECT_EQ(ms("0"), 0u);
  EXPECT_EQ(ms("45000"), 45000u);
  EXPECT_EQ(ms("250ms"), 250u);
  EXPECT_EQ(ms("250MS"), 250u);
  EXPECT_EQ(ms("45s"), 45000u);
  EXPECT_EQ(ms("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(error("1.5s"), "invalid time '1.5s': fractions are not allowed; use milliseconds");
  EXPECT_NE(error("5m").find("unknown unit 'm'"), std::string::npos);
  EXPECT_NE(error("-1").find("negative"), std::string::npos);
  EXPECT_NE(error("+1").find("sign"), std::string::npos);
  EXPECT_NE(error("").find("empty"), std::string::npos);
  EXPECT_NE(error("soon").find("not a number"), std::string::npos);
  EXPECT_NE(error("18446744073709551616").find("too large"), std::string::npos);
  EXPECT_NE(error("18446744073709552s").find("too large"), std::string::npos);
}

TEST(PathTest, Normalize) {
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("a/b"), "/a/b");
  EXPECT_EQ(NormalizePath("//a///b/"), "/a/b");
  EXPECT_EQ(NormalizePath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(NormalizePath("/../.."), "/");
}

TEST(PathTest, SplitAndJoin) {
  EXPECT_EQ(SplitPath("/").parent, "/");
  EXPECT_EQ(SplitPath("/").name, "");
  EXPECT_EQ(SplitPath("/a").parent, "/");
  EXPECT_EQ(SplitPath("/a").name, "a");
  EXPECT_EQ(SplitPath("/a/b/c").parent, "/a/b");
  EXPECT_EQ(SplitPath("/a/b/c").name, "c");
  EXPECT_EQ(JoinPath("/", "x"), "/x");
  EXPECT_EQ(JoinPath("/a", "x"), "/a/x");
  EXPECT_EQ(HostBaseName("dir/file.txt"), "file.txt");
  EXPECT_EQ(HostBaseName("file.txt"), "file.txt");
  EXPECT_EQ(HostBaseName("dir/sub/"), "sub");
}

}  // namespace
}  // namespace mdfs::cli
