// DeepSeek chat templates rendered natively (no Jinja engine). Each style
// reproduces one published template string for string; chat_template_test.cc
// holds conversations worked out from the Jinja sources in test/data/templates
// and test/peer/test_chat_template_peer.py renders those sources with jinja2.
//
//   ChatOptions opt{.style = ChatStyle::kDeepSeekR1, .add_generation_prompt = true, .thinking = true};
//   KT_ASSIGN_OR_RETURN(std::string prompt, RenderChat(messages, opt));
//   // then Encode(prompt, {.parse_special = true}); the template already holds BOS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"

namespace kt::chat {

enum class ChatStyle {
  // DeepSeek-V3 / V3-0324 (and V2.5): no thinking markers at all.
  kDeepSeekV3,
  // DeepSeek-R1 as published with R1-Distill-Qwen-32B: history drops
  // everything up to the last </think>; the generation prompt opens
  // "<think>\n", and closes it at once when thinking is off.
  kDeepSeekR1,
  // DeepSeek-V3.1 hybrid: "<think></think>" after each user turn's
  // <｜Assistant｜> unless thinking; history drops up to the first </think>.
  kDeepSeekV31,
  // llama.cpp's own DeepSeek-R1 template (models/templates): ends each user
  // turn with <｜end▁of▁sentence｜> and always opens "<think>\n".
  kLlamaCppDeepSeekR1,
};

// "deepseek-v3", "deepseek-r1", "deepseek-v3.1", "llama-cpp-deepseek-r1".
StatusOr<ChatStyle> ParseChatStyle(std::string_view name);
const char* ChatStyleName(ChatStyle style);

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct ChatOptions {
  ChatStyle style = ChatStyle::kDeepSeekR1;
  bool add_generation_prompt = true;
  bool thinking = true;  // R1 / V3.1: let the model think (ignored by V3)
  std::string bos_token = "<｜begin▁of▁sentence｜>";
};

// Renders the prompt. Tool calls and tool results are not supported: a
// message with another role is kUnimplemented naming its index.
StatusOr<std::string> RenderChat(const std::vector<ChatMessage>& messages, const ChatOptions& options);

}  // namespace kt::chat
