#include "runtime/tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

namespace kt::tokenizer {
namespace {

std::vector<std::string> Split(const char* name, std::string_view text) {
  auto pre = PreTokenizer::Create(name);
  EXPECT_TRUE(pre.ok()) << pre.status().ToString();
  std::vector<std::string_view> pieces;
  Status s = (*pre)->Split(text, &pieces);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::vector<std::string>(pieces.begin(), pieces.end());
}

using V = std::vector<std::string>;

// Expected pieces worked out by hand from the regex lists.
TEST(PreTokenizer, DeepSeekV3DigitsCjkWords) {
  EXPECT_EQ(Split("deepseek-v3", "Hello, world! 12345 你好"),
            (V{"Hello", ",", " world", "!", " ", "123", "45", " ", "你好"}));
}

TEST(PreTokenizer, DeepSeekV3ApostropheAndKana) {
  EXPECT_EQ(Split("deepseek-v3", "don't こんにちは"), (V{"don", "'t", " ", "こんにちは"}));
}

TEST(PreTokenizer, DeepSeekV3Whitespace) {
  EXPECT_EQ(Split("deepseek-v3", "\n\n  x"), (V{"\n\n", " ", " x"}));
  EXPECT_EQ(Split("deepseek-v3", "a   "), (V{"a", "   "}));
}

TEST(PreTokenizer, DeepSeekLlm) {
  // Each CR and LF is its own piece; letters take one leading space;
  // trailing white space of a piece is split off; digits are one run.
  EXPECT_EQ(Split("deepseek-llm", "Hi there\n\n12345, ok  "), (V{"Hi", " there", "\n", "\n", "12345", ",", " ok", "  "}));
  EXPECT_EQ(Split("deepseek-llm", "你好 world"), (V{"你好", " world"}));
}

TEST(PreTokenizer, PiecesCoverText) {
  const std::string text = "mixed 文字 and 数字 123456789\t\r\n🦙 ~~ ++x";
  for (const char* name : {"deepseek-llm", "deepseek-v3"}) {
    std::string joined;
    for (const auto& p : Split(name, text)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text) << name;
  }
}

TEST(PreTokenizer, UnknownNameListsSupported) {
  auto pre = PreTokenizer::Create("llama3");
  ASSERT_FALSE(pre.ok());
  EXPECT_NE(pre.status().message().find("llama3"), std::string::npos);
  EXPECT_NE(pre.status().message().find("deepseek-llm"), std::string::npos);
  EXPECT_NE(pre.status().message().find("deepseek-v3"), std::string::npos);
}

}  // namespace
}  // namespace kt::tokenizer
