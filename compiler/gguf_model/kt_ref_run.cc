// kt_ref_run: runs token ids through kt's reference deepseek2 executor on a
// GGUF file and writes the logits of every evaluated position, plus a greedy
// continuation. Test tool for the llama.cpp peer test.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/gguf_model/deepseek_gguf.h"
#include "runtime/kv/mla_kv_cache.h"
#include "runtime/reference/forward.h"

namespace {

using kt::Status;
using kt::StatusOr;

constexpr const char* kHelp =
    "kt_ref_run: evaluate token ids with kt's reference deepseek2 executor\n\n"
    "usage: kt_ref_run MODEL.gguf --tokens ID,ID,... [options]\n\n"
    "  --tokens LIST       prompt token ids, comma separated (required)\n"
    "  --generate N        greedy continuation of N tokens (default 0)\n"
    "  --logits-out FILE   write float32 logits, one row of n_vocab per evaluated\n"
    "                      position: prompt rows, then one per generated token but\n"
    "                      the last (prompt + N - 1 rows)\n"
    "  --mla naive|absorbed  attention form (default absorbed)\n"
    "  --prompt-one-by-one evaluate the prompt a token at a time instead of as one batch\n"
    "  --expert-groups N/M override the expert groups (1/1 = plain top-k, as\n"
    "                      llama.cpp releases without group routing do)\n"
    "  --ctx N             KV cache capacity (default prompt + generate)\n"
    "  --print-config      print the config read from the file to stderr\n\n"
    "Prints one JSON line: {\"n_vocab\":V,\"rows\":R,\"prompt\":[...],\"generated\":[...]}\n\n"
    "examples:\n"
    "  ktc gen --preset tiny-v3 -o tiny.gguf\n"
    "  kt_ref_run tiny.gguf --tokens 1,200,300 --generate 8 --logits-out logits.f32\n"
    "  kt_ref_run tiny.gguf --tokens 1,2,3 --mla naive --expert-groups 1/1\n";

bool ParseUint(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 9) return false;
  uint32_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<uint32_t>(ch - '0');
  }
  *out = v;
  return true;
}

bool ParseTokens(std::string_view s, std::vector<int32_t>* out) {
  while (!s.empty()) {
    const size_t comma = s.find(',');
    uint32_t v = 0;
    if (!ParseUint(s.substr(0, comma), &v)) return false;
    out->push_back(static_cast<int32_t>(v));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return !out->empty();
}

struct Options {
  std::string model;
  std::vector<int32_t> tokens;
  uint32_t generate = 0;
  std::string logits_out;
  kt::reference::MlaForm form = kt::reference::MlaForm::kAbsorbed;
  bool one_by_one = false;
  uint32_t groups = 0, groups_used = 0;  // 0: from the file
  uint32_t ctx = 0;
  bool print_config = false;
};

int Usage(const char* error) {
  std::fprintf(stderr, "kt_ref_run: %s\n(kt_ref_run --help for usage)\n", error);
  return 2;
}

int32_t Argmax(const float* row, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (row[i] > row[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

Status Run(const Options& o) {
  KT_ASSIGN_OR_RETURN(auto file, kt::gguf_model::GgufDeepseekModel::Open(o.model));
  kt::model::DeepseekConfig config = file->config;
  if (o.groups != 0) {
    config.n_group = o.groups;
    config.n_group_used = o.groups_used;
  }
  if (o.print_config) std::fprintf(stderr, "%s\n", config.ToString().c_str());
  KT_ASSIGN_OR_RETURN(auto model, kt::reference::ReferenceModel::Create(config, file->table));
  const uint64_t needed = o.tokens.size() + o.generate;
  const uint32_t ctx = o.ctx != 0 ? o.ctx : static_cast<uint32_t>(needed);
  if (needed > ctx) return KT_ERROR(kInvalidArgument, "--ctx ", ctx, " is smaller than prompt + generate = ", needed);
  KT_ASSIGN_OR_RETURN(auto cache, kt::kv::MlaKvCache::Create(config.n_layer, ctx, config.kv_lora_rank,
                                                              config.qk_rope_dim));
  std::vector<float> all, logits;
  const uint32_t V = config.vocab;
  if (o.one_by_one) {
    for (uint32_t t = 0; t < o.tokens.size(); ++t) {
      KT_RETURN_IF_ERROR(model.Forward(std::span(&o.tokens[t], 1), std::span(&t, 1), cache, o.form, &logits));
      all.insert(all.end(), logits.begin(), logits.end());
    }
  } else {
    std::vector<uint32_t> pos(o.tokens.size());
    for (uint32_t t = 0; t < pos.size(); ++t) pos[t] = t;
    KT_RETURN_IF_ERROR(model.Forward(o.tokens, pos, cache, o.form, &all));
  }
  std::vector<int32_t> generated;
  for (uint32_t i = 0; i < o.generate; ++i) {
    const int32_t next = Argmax(all.data() + all.size() - V, V);
    generated.push_back(next);
    if (i + 1 == o.generate) break;
    const uint32_t pos = static_cast<uint32_t>(o.tokens.size() + i);
    KT_RETURN_IF_ERROR(model.Forward(std::span(&next, 1), std::span(&pos, 1), cache, o.form, &logits));
    all.insert(all.end(), logits.begin(), logits.end());
  }
  if (!o.logits_out.empty()) {
    std::FILE* out = std::fopen(o.logits_out.c_str(), "wb");
    if (out == nullptr) return KT_ERROR(kIoError, "cannot create ", o.logits_out, ": ", std::strerror(errno));
    const size_t written = std::fwrite(all.data(), sizeof(float), all.size(), out);
    if (std::fclose(out) != 0 || written != all.size()) {
      return KT_ERROR(kIoError, "writing ", o.logits_out, " failed: ", std::strerror(errno));
    }
  }
  auto list = [](const std::vector<int32_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) s += ',';
      s += std::to_string(v[i]);
    }
    return s + "]";
  };
  std::printf("{\"n_vocab\":%u,\"rows\":%zu,\"prompt\":%s,\"generated\":%s}\n", V, all.size() / V,
              list(o.tokens).c_str(), list(generated).c_str());
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (arg == "--tokens") {
      const char* v = value();
      if (v == nullptr || !ParseTokens(v, &o.tokens)) return Usage("--tokens needs a list like 1,2,3");
    } else if (arg == "--generate") {
      const char* v = value();
      if (v == nullptr || !ParseUint(v, &o.generate)) return Usage("--generate needs a count");
    } else if (arg == "--logits-out") {
      const char* v = value();
      if (v == nullptr) return Usage("--logits-out needs a path");
      o.logits_out = v;
    } else if (arg == "--mla") {
      const char* v = value();
      const std::string_view form = v ? v : "";
      if (form == "naive") {
        o.form = kt::reference::MlaForm::kNaive;
      } else if (form == "absorbed") {
        o.form = kt::reference::MlaForm::kAbsorbed;
      } else {
        return Usage("--mla takes naive or absorbed");
      }
    } else if (arg == "--prompt-one-by-one") {
      o.one_by_one = true;
    } else if (arg == "--expert-groups") {
      const char* v = value();
      const std::string_view s = v ? v : "";
      const size_t slash = s.find('/');
      if (slash == std::string_view::npos || !ParseUint(s.substr(0, slash), &o.groups) ||
          !ParseUint(s.substr(slash + 1), &o.groups_used) || o.groups == 0 || o.groups_used == 0) {
        return Usage("--expert-groups takes N/M, for example 1/1");
      }
    } else if (arg == "--ctx") {
      const char* v = value();
      if (v == nullptr || !ParseUint(v, &o.ctx)) return Usage("--ctx needs a count");
    } else if (arg == "--print-config") {
      o.print_config = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "kt_ref_run: unknown option %s\n", argv[i]);
      return Usage("see the options above");
    } else if (o.model.empty()) {
      o.model = arg;
    } else {
      return Usage("more than one model path given");
    }
  }
  if (o.model.empty()) return Usage("no model given");
  if (o.tokens.empty()) return Usage("--tokens is required");
  const Status s = Run(o);
  if (!s.ok()) {
    std::fprintf(stderr, "kt_ref_run: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
