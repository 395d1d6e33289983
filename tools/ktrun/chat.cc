// ktrun chat: an interactive conversation on the terminal, streaming tokens
// as they come, with the DeepSeek chat template.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "runtime/chat/chat_template.h"
#include "tools/ktrun/common.h"

namespace kt::ktrun {

int RunChat(int argc, char** argv) {
  CommonOptions common;
  std::string style_name = "deepseek-v3", system;
  int64_t max_tokens = 512;
  bool no_think = false;
  tools::ArgParser args("ktrun chat");
  AddCommonOptions(args, &common, /*sampling=*/true);
  args.AddString("--template", &style_name, "NAME",
                 "deepseek-v3 (default), deepseek-r1, deepseek-v3.1 or llama-cpp-deepseek-r1");
  args.AddString("--system", &system, "TEXT", "system prompt");
  args.AddInt("--max-tokens", &max_tokens, "N", "most tokens per reply (default 512)");
  args.AddFlag("--no-think", &no_think, "R1/V3.1 templates: answer without a thinking section");
  if (Status s = args.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  if (args.help_requested()) {
    std::printf(
        "ktrun chat: talk to the model; an empty line or EOF ends the chat\n\n%s"
        "\nexamples:\n  ktrun chat tiny.kta\n  ktrun chat r1.kta --template deepseek-r1 --temperature 0.6\n",
        args.Usage().c_str());
    return 0;
  }
  auto style = chat::ParseChatStyle(style_name);
  if (!style.ok()) return Fail("chat", style.status());
  auto loaded = LoadEngine(common);
  if (!loaded.ok()) return Fail("chat", loaded.status());
  engine::Engine& e = **loaded;

  std::vector<chat::ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  engine::GenerateOptions options;
  options.sampler = SamplerFrom(common);
  std::string line;
  for (;;) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line) || line.empty()) break;
    messages.push_back({"user", line});
    chat::ChatOptions chat_options;
    chat_options.style = *style;
    chat_options.thinking = !no_think;
    if (e.tokenizer().bos() >= 0) chat_options.bos_token = e.tokenizer().text(e.tokenizer().bos());
    auto prompt = chat::RenderChat(messages, chat_options);
    if (!prompt.ok()) return Fail("chat", prompt.status());
    auto ids = e.tokenizer().Encode(*prompt, {.add_bos = false, .parse_special = true});
    if (!ids.ok()) return Fail("chat", ids.status());
    const int64_t room = static_cast<int64_t>(e.context()) - static_cast<int64_t>(ids->size());
    if (room < 1) {
      std::fprintf(stderr, "ktrun chat: the conversation (%zu tokens) fills the context of %u tokens\n",
                   ids->size(), e.context());
      return 1;
    }
    options.max_tokens = static_cast<int32_t>(std::min<int64_t>(max_tokens, room));
    tokenizer::StreamDecoder stream(e.tokenizer());
    std::string reply;
    auto result = e.Generate(*ids, options, [&](int32_t token) {
      if (token == e.tokenizer().eos()) return true;
      auto piece = stream.Push(token);
      if (piece.ok()) {
        reply += *piece;
        std::fwrite(piece->data(), 1, piece->size(), stdout);
        std::fflush(stdout);
      }
      return true;
    });
    if (!result.ok()) return Fail("chat", result.status());
    reply += stream.Flush();
    std::printf("\n");
    messages.push_back({"assistant", reply});
  }
  return 0;
}

}  // namespace kt::ktrun
