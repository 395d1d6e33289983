#include "runtime/chat/chat_template.h"

namespace kt::chat {
namespace {

constexpr std::string_view kUser = "<｜User｜>";
constexpr std::string_view kAssistant = "<｜Assistant｜>";
constexpr std::string_view kEnd = "<｜end▁of▁sentence｜>";
constexpr std::string_view kThinkEnd = "</think>";

struct StyleName {
  ChatStyle style;
  const char* name;
};
constexpr StyleName kStyles[] = {
    {ChatStyle::kDeepSeekV3, "deepseek-v3"},
    {ChatStyle::kDeepSeekR1, "deepseek-r1"},
    {ChatStyle::kDeepSeekV31, "deepseek-v3.1"},
    {ChatStyle::kLlamaCppDeepSeekR1, "llama-cpp-deepseek-r1"},
};

// Jinja's content.split('</think>')[-1]: the text after the last marker.
std::string_view AfterLastThinkEnd(std::string_view content) {
  const size_t pos = content.rfind(kThinkEnd);
  return pos == std::string_view::npos ? content : content.substr(pos + kThinkEnd.size());
}

// Jinja's content.split('</think>', 1)[1]: the text after the first marker.
std::string_view AfterFirstThinkEnd(std::string_view content) {
  const size_t pos = content.find(kThinkEnd);
  return pos == std::string_view::npos ? content : content.substr(pos + kThinkEnd.size());
}

// The R1-family templates keep only the last system message; V3 and V3.1
// join them all with a blank line.
std::string SystemPrompt(const std::vector<ChatMessage>& messages, bool join) {
  std::string prompt;
  bool first = true;
  for (const auto& m : messages) {
    if (m.role != "system") continue;
    if (!join) {
      prompt = m.content;
    } else {
      if (!first) prompt += "\n\n";
      prompt += m.content;
    }
    first = false;
  }
  return prompt;
}

std::string RenderV3OrR1(const std::vector<ChatMessage>& messages, const ChatOptions& o) {
  const bool r1 = o.style == ChatStyle::kDeepSeekR1;
  std::string out = o.bos_token + SystemPrompt(messages, /*join=*/!r1);
  for (const auto& m : messages) {
    if (m.role == "user") {
      out.append(kUser).append(m.content);
    } else if (m.role == "assistant") {
      out.append(kAssistant).append(r1 ? AfterLastThinkEnd(m.content) : std::string_view(m.content)).append(kEnd);
    }
  }
  if (o.add_generation_prompt) {
    out.append(kAssistant);
    if (r1) out.append(o.thinking ? "<think>\n" : "<think>\n</think>");
  }
  return out;
}

std::string RenderV31(const std::vector<ChatMessage>& messages, const ChatOptions& o) {
  std::string out = o.bos_token + SystemPrompt(messages, /*join=*/true);
  bool last_was_user = false;
  for (const auto& m : messages) {
    if (m.role == "user") {
      out.append(kUser).append(m.content);
      last_was_user = true;
    } else if (m.role == "assistant") {
      // Only a reply that follows a user turn gets the assistant marker; a
      // finished reply in history never shows its thinking.
      if (last_was_user) out.append(kAssistant).append("<think></think>");
      last_was_user = false;
      out.append(AfterFirstThinkEnd(m.content)).append(kEnd);
    }
  }
  if (o.add_generation_prompt && last_was_user) {
    out.append(kAssistant).append(o.thinking ? "<think>" : "<think></think>");
  }
  return out;
}

std::string RenderLlamaCppR1(const std::vector<ChatMessage>& messages, const ChatOptions& o) {
  std::string out = o.bos_token + SystemPrompt(messages, /*join=*/false);
  for (const auto& m : messages) {
    if (m.role == "user") {
      out.append(kUser).append(m.content).append(kEnd);
    } else if (m.role == "assistant") {
      // That template renders an empty reply as an empty tool-call block.
      if (m.content.empty()) {
        out.append(kAssistant).append("<｜tool▁calls▁begin｜><｜tool▁calls▁end｜>").append(kEnd);
      } else {
        out.append(kAssistant).append(AfterLastThinkEnd(m.content)).append(kEnd);
      }
    }
  }
  if (o.add_generation_prompt) out.append(kAssistant).append("<think>\n");
  return out;
}

}  // namespace

StatusOr<ChatStyle> ParseChatStyle(std::string_view name) {
  std::string list;
  for (const auto& s : kStyles) {
    if (name == s.name) return s.style;
    list += (list.empty() ? "" : ", ") + std::string(s.name);
  }
  return KT_ERROR(kInvalidArgument, "unknown chat template '", name, "'; supported: ", list);
}

const char* ChatStyleName(ChatStyle style) {
  for (const auto& s : kStyles) {
    if (s.style == style) return s.name;
  }
  return "?";
}

StatusOr<std::string> RenderChat(const std::vector<ChatMessage>& messages, const ChatOptions& options) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      return KT_ERROR(kUnimplemented, "chat message ", i, " has role '", role,
                      "'; only system, user and assistant are supported");
    }
  }
  switch (options.style) {
    case ChatStyle::kDeepSeekV3:
    case ChatStyle::kDeepSeekR1:
      return RenderV3OrR1(messages, options);
    case ChatStyle::kDeepSeekV31:
      return RenderV31(messages, options);
    case ChatStyle::kLlamaCppDeepSeekR1:
      return RenderLlamaCppR1(messages, options);
  }
  return KT_ERROR(kInternal, "chat style ", static_cast<int>(options.style), " has no renderer");
}

}  // namespace kt::chat
