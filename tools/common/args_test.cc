#include "tools/common/args.h"

#include <gtest/gtest.h>

namespace kt::tools {
namespace {

TEST(ArgParserTest, ParsesOptionsFlagsAndPositionals) {
  std::string path, prompt;
  int64_t n = 5;
  double t = 0;
  bool json = false;
  ArgParser p("tool run");
  p.AddString("--prompt", &prompt, "TEXT", "");
  p.AddInt("--max-tokens", &n, "N", "");
  p.AddFloat("--temperature", &t, "T", "");
  p.AddFlag("--json", &json, "");
  p.AddPositional("FILE", &path);
  const char* argv[] = {"run", "m.kta", "--prompt", "hi there", "--max-tokens=7", "--temperature", "-0.5", "--json"};
  ASSERT_TRUE(p.Parse(8, const_cast<char**>(argv)).ok());
  EXPECT_EQ(path, "m.kta");
  EXPECT_EQ(prompt, "hi there");
  EXPECT_EQ(n, 7);
  EXPECT_DOUBLE_EQ(t, -0.5);
  EXPECT_TRUE(json);
  EXPECT_TRUE(p.was_set("--prompt"));
}

TEST(ArgParserTest, ErrorsNameTheArgument) {
  std::string path;
  int64_t n = 0;
  ArgParser p("tool");
  p.AddInt("--n", &n, "N", "");
  p.AddPositional("FILE", &path);
  const char* bad_int[] = {"tool", "f", "--n", "x1"};
  Status s = p.Parse(4, const_cast<char**>(bad_int));
  EXPECT_NE(s.message().find("--n expects an integer"), std::string::npos) << s.message();
  const char* unknown[] = {"tool", "f", "--bogus"};
  EXPECT_NE(p.Parse(3, const_cast<char**>(unknown)).message().find("'--bogus'"), std::string::npos);
  ArgParser q("tool");
  q.AddPositional("FILE", &path);
  const char* none[] = {"tool"};
  EXPECT_NE(q.Parse(1, const_cast<char**>(none)).message().find("missing FILE"), std::string::npos);
}

TEST(ParseByteSizeTest, UnitsAndErrors) {
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("14GiB"), 14ull << 30);
  EXPECT_EQ(*ParseByteSize("0.5GiB"), 1ull << 29);
  EXPECT_EQ(*ParseByteSize("512MiB"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("2GB"), 2000000000ull);
  EXPECT_FALSE(ParseByteSize("-1GiB").ok());
  EXPECT_FALSE(ParseByteSize("12 parsecs").ok());
  EXPECT_FALSE(ParseByteSize("").ok());
}

}  // namespace
}  // namespace kt::tools
