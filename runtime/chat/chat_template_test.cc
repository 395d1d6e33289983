#include "runtime/chat/chat_template.h"

#include <gtest/gtest.h>

namespace kt::chat {
namespace {

// Expected strings were worked out by hand from the Jinja sources in
// test/data/templates (R1: R1-Distill-Qwen-32B; V3.1: DeepSeek-V3.1;
// llama.cpp: llama-cpp-deepseek-r1).
const std::string B = "<｜begin▁of▁sentence｜>";
const std::string U = "<｜User｜>";
const std::string A = "<｜Assistant｜>";
const std::string E = "<｜end▁of▁sentence｜>";

std::string Render(ChatStyle style, const std::vector<ChatMessage>& messages, bool gen = true, bool thinking = true) {
  auto r = RenderChat(messages, {.style = style, .add_generation_prompt = gen, .thinking = thinking});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

const std::vector<ChatMessage> kMultiTurn = {
    {"system", "You are helpful."},
    {"user", "What is 2+2?"},
    {"assistant", "<think>\nadd them\n</think>\n\n4"},
    {"user", "And 3+3?"},
};

TEST(ChatTemplate, R1SingleTurn) {
  EXPECT_EQ(Render(ChatStyle::kDeepSeekR1, {{"user", "Hi"}}), B + U + "Hi" + A + "<think>\n");
  EXPECT_EQ(Render(ChatStyle::kDeepSeekR1, {{"user", "Hi"}}, true, false), B + U + "Hi" + A + "<think>\n</think>");
  EXPECT_EQ(Render(ChatStyle::kDeepSeekR1, {{"user", "Hi"}}, false), B + U + "Hi");
}

TEST(ChatTemplate, R1StripsThinkingFromHistory) {
  EXPECT_EQ(Render(ChatStyle::kDeepSeekR1, kMultiTurn),
            B + "You are helpful." + U + "What is 2+2?" + A + "\n\n4" + E + U + "And 3+3?" + A + "<think>\n");
  // split('</think>')[-1]: everything up to the last marker goes.
  EXPECT_EQ(Render(ChatStyle::kDeepSeekR1, {{"user", "q"}, {"assistant", "a</think>b</think>c"}}, false),
            B + U + "q" + A + "c" + E);
}

TEST(ChatTemplate, R1KeepsLastSystemOnly) {
  EXPECT_EQ(Render(ChatStyle::kDeepSeekR1, {{"system", "one"}, {"user", "x"}, {"system", "two"}}, false),
            B + "two" + U + "x");
}

TEST(ChatTemplate, V3) {
  EXPECT_EQ(Render(ChatStyle::kDeepSeekV3, kMultiTurn),
            B + "You are helpful." + U + "What is 2+2?" + A + "<think>\nadd them\n</think>\n\n4" + E + U + "And 3+3?" + A);
  EXPECT_EQ(Render(ChatStyle::kDeepSeekV3, {{"system", "one"}, {"system", "two"}, {"user", "x"}}, false),
            B + "one\n\ntwo" + U + "x");
}

TEST(ChatTemplate, V31) {
  EXPECT_EQ(Render(ChatStyle::kDeepSeekV31, kMultiTurn, true, false),
            B + "You are helpful." + U + "What is 2+2?" + A + "<think></think>" + "\n\n4" + E + U + "And 3+3?" + A +
                "<think></think>");
  EXPECT_EQ(Render(ChatStyle::kDeepSeekV31, {{"user", "Hi"}}, true, true), B + U + "Hi" + A + "<think>");
  // split('</think>', 1)[1]: only up to the first marker goes.
  EXPECT_EQ(Render(ChatStyle::kDeepSeekV31, {{"user", "q"}, {"assistant", "a</think>b</think>c"}}),
            B + U + "q" + A + "<think></think>b</think>c" + E);
  // Systems are joined; a reply after a reply gets no assistant marker and
  // the generation prompt only follows a user turn.
  EXPECT_EQ(Render(ChatStyle::kDeepSeekV31, {{"system", "s1"}, {"system", "s2"}, {"user", "u"}, {"assistant", "a1"},
                                             {"assistant", "a2"}}),
            B + "s1\n\ns2" + U + "u" + A + "<think></think>a1" + E + "a2" + E);
}

TEST(ChatTemplate, LlamaCppR1) {
  EXPECT_EQ(Render(ChatStyle::kLlamaCppDeepSeekR1, kMultiTurn),
            B + "You are helpful." + U + "What is 2+2?" + E + A + "\n\n4" + E + U + "And 3+3?" + E + A + "<think>\n");
}

TEST(ChatTemplate, CustomBosAndErrors) {
  auto r = RenderChat({{"user", "x"}}, {.style = ChatStyle::kDeepSeekV3, .bos_token = ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, U + "x" + A);
  auto bad = RenderChat({{"user", "x"}, {"tool", "{}"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("message 1"), std::string::npos);
  EXPECT_FALSE(ParseChatStyle("chatml").ok());
  for (const char* name : {"deepseek-v3", "deepseek-r1", "deepseek-v3.1", "llama-cpp-deepseek-r1"}) {
    auto style = ParseChatStyle(name);
    ASSERT_TRUE(style.ok());
    EXPECT_STREQ(ChatStyleName(*style), name);
  }
}

}  // namespace
}  // namespace kt::chat
