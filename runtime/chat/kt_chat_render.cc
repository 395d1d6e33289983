// kt_chat_render: renders a conversation with kt's built-in chat templates.
// A test tool for comparing with the published Jinja templates.
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/chat/chat_template.h"

namespace {

constexpr const char* kHelp = R"(usage: kt_chat_render --style STYLE [options] (--system|--user|--assistant TEXT)...

Prints the prompt that kt's chat template STYLE renders for the messages, in
the order given, with no trailing newline.

options:
  --style STYLE          deepseek-v3, deepseek-r1, deepseek-v3.1, llama-cpp-deepseek-r1
  --no-generation-prompt do not append the assistant turn opener
  --no-thinking          R1 / V3.1: open the reply with thinking switched off
  --bos TEXT             BOS token text (default <｜begin▁of▁sentence｜>)
  -h, --help             this text

examples:
  kt_chat_render --style deepseek-r1 --system "Be brief." --user "Hi"
  kt_chat_render --style deepseek-v3.1 --no-thinking --user "2+2?" --assistant "4" --user "3+3?"
)";

int Fail(const std::string& message) {
  std::fprintf(stderr, "kt_chat_render: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  kt::chat::ChatOptions options;
  std::vector<kt::chat::ChatMessage> messages;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (arg == "--style" && has_value) {
      auto style = kt::chat::ParseChatStyle(argv[++i]);
      if (!style.ok()) return Fail(style.status().ToString());
      options.style = *style;
    } else if (arg == "--no-generation-prompt") {
      options.add_generation_prompt = false;
    } else if (arg == "--no-thinking") {
      options.thinking = false;
    } else if (arg == "--bos" && has_value) {
      options.bos_token = argv[++i];
    } else if ((arg == "--system" || arg == "--user" || arg == "--assistant") && has_value) {
      messages.push_back({arg.substr(2), argv[++i]});
    } else {
      return Fail("unknown or incomplete option '" + arg + "' (see --help)");
    }
  }
  auto prompt = kt::chat::RenderChat(messages, options);
  if (!prompt.ok()) return Fail(prompt.status().ToString());
  std::fwrite(prompt->data(), 1, prompt->size(), stdout);
  return 0;
}
