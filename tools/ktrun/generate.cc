// ktrun generate: one prompt in, tokens out.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/ktrun/common.h"
#include "tools/ktrun/json.h"

namespace kt::ktrun {
namespace {

constexpr const char* kExamples =
    "\nexamples:\n"
    "  ktrun generate tiny.kta --prompt \"The capital of France is\" --max-tokens 16\n"
    "  ktrun generate tiny.kta --tokens 0,15,27 --max-tokens 32 --json\n"
    "  ktrun generate tiny.kta --prompt hi --temperature 0.7 --top-p 0.9 --seed 3\n"
    "  ktrun generate tiny.kta --tokens 1,2 --max-tokens 4 --logits-out logits.f32\n"
    "  ktrun generate tiny.kta --tokens 1,2,3 --max-tokens 1 --logits-out all.f32 --prompt-logits\n";

StatusOr<std::vector<int32_t>> ParseTokenList(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX)
      return KT_ERROR(kInvalidArgument, "--tokens: '", item, "' is not a token id");
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return KT_ERROR(kInvalidArgument, "--tokens: no token ids given");
  return ids;
}

}  // namespace

int RunGenerate(int argc, char** argv) {
  CommonOptions common;
  std::string prompt, tokens, logits_out;
  int64_t max_tokens = 64;
  bool json = false, no_bos = false, ignore_eos = false;
  tools::ArgParser args("ktrun generate");
  AddCommonOptions(args, &common, /*sampling=*/true);
  args.AddString("--prompt", &prompt, "TEXT", "prompt text (BOS is added when the model wants it)");
  args.AddString("--tokens", &tokens, "IDS", "prompt as comma-separated token ids instead of text");
  args.AddInt("--max-tokens", &max_tokens, "N", "tokens to generate (default 64)");
  args.AddFlag("--no-bos", &no_bos, "do not add BOS to a --prompt");
  args.AddFlag("--ignore-eos", &ignore_eos, "keep generating after the end-of-sequence token");
  args.AddFlag("--json", &json, "print {prompt_tokens, tokens, text, timings} as JSON");
  args.AddString("--logits-out", &logits_out, "FILE", "write each step's full logits (float32 rows)");
  bool prompt_logits = false;
  args.AddFlag("--prompt-logits", &prompt_logits,
               "with --logits-out: first write one row per prompt token (row i predicts token i+1)");
  if (Status s = args.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  if (args.help_requested()) {
    std::printf("ktrun generate: generate tokens from a prompt\n\n%s%s", args.Usage().c_str(), kExamples);
    return 0;
  }
  if (prompt.empty() == tokens.empty()) {
    std::fprintf(stderr, "ktrun generate: give exactly one of --prompt or --tokens\n");
    return 2;
  }
  if (max_tokens < 0 || max_tokens > (1 << 24)) {
    std::fprintf(stderr, "ktrun generate: --max-tokens must be in [0, 16777216]\n");
    return 2;
  }

  auto engine = LoadEngine(common);
  if (!engine.ok()) return Fail("generate", engine.status());
  engine::Engine& e = **engine;

  std::vector<int32_t> ids;
  if (!tokens.empty()) {
    auto parsed = ParseTokenList(tokens);
    if (!parsed.ok()) return Fail("generate", parsed.status());
    ids = *parsed;
  } else {
    auto encoded = e.tokenizer().Encode(prompt, {.add_bos = !no_bos && e.tokenizer().add_bos(),
                                                 .parse_special = true});
    if (!encoded.ok()) return Fail("generate", encoded.status());
    ids = *encoded;
  }

  engine::GenerateOptions options;
  options.max_tokens = static_cast<int32_t>(max_tokens);
  options.sampler = SamplerFrom(common);
  options.stop_at_eos = !ignore_eos;
  options.all_logits = !logits_out.empty();
  options.prompt_logits = prompt_logits && !logits_out.empty();

  tokenizer::StreamDecoder stream(e.tokenizer());
  auto result = e.Generate(ids, options, [&](int32_t token) {
    if (!json) {
      auto piece = stream.Push(token);
      if (piece.ok()) {
        std::fwrite(piece->data(), 1, piece->size(), stdout);
        std::fflush(stdout);
      }
    }
    return true;
  });
  if (!result.ok()) return Fail("generate", result.status());

  if (!logits_out.empty()) {
    std::ofstream out(logits_out, std::ios::binary);
    out.write(reinterpret_cast<const char*>(result->logits.data()),
              static_cast<std::streamsize>(result->logits.size() * sizeof(float)));
    if (!out) return Fail("generate", KT_ERROR(kIoError, "cannot write logits to '", logits_out, "'"));
  }
  const size_t n = result->tokens.size();
  const double decode_tps = n > 1 && result->decode_seconds > 0 ? (n - 1) / result->decode_seconds : 0.0;
  if (json) {
    auto text = e.tokenizer().Decode(result->tokens);
    JsonWriter j;
    j.BeginObject();
    j.Key("prompt_tokens").IntArray(ids);
    j.Key("tokens").IntArray(result->tokens);
    j.Key("text").String(text.ok() ? *text : "");
    j.Key("stopped_at_eos").Bool(result->stopped_at_eos);
    j.Key("executor").String(e.executor().name());
    j.Key("prefill_seconds").Number(result->prefill_seconds);
    j.Key("decode_tokens_per_second").Number(decode_tps);
    j.EndObject();
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr, "[ktrun] %zu prompt tokens in %.3f s, %zu generated, decode %.2f tok/s (%s executor)\n",
                 ids.size(), result->prefill_seconds, n, decode_tps, e.executor().name());
  }
  return 0;
}

}  // namespace kt::ktrun
