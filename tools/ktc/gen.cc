// ktc gen: writes a synthetic deepseek2 model (GGUF + HF config.json).
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "compiler/gen/gen.h"
#include "compiler/gen/tokenizer.h"
#include "tools/ktc/commands.h"

namespace kt::ktc {
namespace {

void PrintHelp(std::FILE* out) {
  std::fprintf(out,
      "usage: ktc gen --preset NAME [options] -o OUT.gguf\n"
      "\n"
      "Writes a deepseek2 model with random weights (deterministic per --seed), a small\n"
      "byte-level BPE tokenizer learned from a bundled corpus, llama.cpp metadata, and an\n"
      "HF-style config.json next to it. Data is generated and quantized in chunks straight\n"
      "into the file, so even the full-size presets need little memory.\n"
      "\n"
      "options:\n"
      "  --preset NAME      tiny-v3, tiny-v2-lite, v2-lite, v3-slice (see --list-presets)\n"
      "  --type T           f32 (default), f16, q8_0, q4_k_m (llama.cpp's Q4_K_M per-tensor mix)\n"
      "  --seed N           random seed (default 0); same seed, same bytes on any machine\n"
      "  --layers N         override the layer count (leading dense layers are kept while\n"
      "                     at least one MoE layer remains). Note: llama.cpp 2025 releases\n"
      "                     only accept a model without q_lora (the *-lite presets) at 27 layers\n"
      "  --vocab N          pad the token list to N tokens with unused placeholders\n"
      "  --legacy-kv-b      write the legacy layout (attn_kv_b, head_count_kv = heads)\n"
      "                     instead of attn_k_b/attn_v_b with one latent KV head\n"
      "  -o, --output PATH  the .gguf to write\n"
      "  --config-out PATH  where config.json goes (default: OUT without .gguf + .config.json;\n"
      "                     '-' writes none)\n"
      "  --threads N        worker threads (default: all cores)\n"
      "  --quiet            no progress output\n"
      "  --list-presets     print the presets with their shapes and sizes per type\n"
      "\n"
      "examples:\n"
      "  ktc gen --preset tiny-v3 -o tiny-v3.gguf\n"
      "  ktc gen --preset tiny-v2-lite --type q4_k_m --seed 7 -o lite.gguf\n"
      "  ktc gen --preset tiny-v3 --legacy-kv-b --type q8_0 -o legacy.gguf --config-out legacy.json\n"
      "  ktc gen --preset v2-lite --type q4_k_m -o v2-lite-q4km.gguf      # ~10 GB\n"
      "  ktc gen --preset v3-slice --layers 5 --type q4_k_m -o v3-slice.gguf\n");
}

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

int ListPresets() {
  const gen::WeightType types[] = {gen::WeightType::kF32, gen::WeightType::kF16, gen::WeightType::kQ8_0,
                                   gen::WeightType::kQ4_K_M};
  for (const std::string& name : gen::PresetNames()) {
    const gen::ModelSpec s = *gen::FindPreset(name);
    StatusOr<gen::Vocab> vocab = gen::BuildVocab(s.bpe_merges, s.vocab_size);
    if (!vocab.ok()) {
      std::fprintf(stderr, "ktc gen: %s\n", vocab.status().ToString().c_str());
      return 1;
    }
    std::printf("%s (%s)\n", name.c_str(), s.v3 ? "DeepSeek-V3 family" : "DeepSeek-V2 family");
    std::printf("  layers %u (%u dense), hidden %u, heads %u, q_lora %u, kv_lora %u, qk nope/rope %u/%u, v %u\n",
                s.n_layer, s.n_dense_lead, s.n_embd, s.n_head, s.q_lora_rank, s.kv_lora_rank, s.qk_nope_head_dim,
                s.qk_rope_head_dim, s.v_head_dim);
    std::printf("  experts %u (%u used, %u shared) of FF %u, dense FF %u, vocab %zu, %s routing, groups %u/%u, "
                "scale %.1f%s\n",
                s.n_expert, s.n_expert_used, s.n_expert_shared, s.expert_ff, s.dense_ff, vocab->tokens.size(),
                s.gating == gen::Gating::kSigmoid ? "sigmoid+bias" : "softmax", s.n_group, s.n_group_used,
                s.routed_scale, s.norm_topk ? ", normalized" : "");
    std::printf("  size:");
    uint64_t params = 0;
    for (gen::WeightType t : types) {
      StatusOr<std::vector<gen::TensorPlan>> plan =
          gen::PlanTensors(s, static_cast<uint32_t>(vocab->tokens.size()), t);
      if (!plan.ok()) {
        std::fprintf(stderr, "ktc gen: %s\n", plan.status().ToString().c_str());
        return 1;
      }
      uint64_t bytes = 0;
      params = 0;
      for (const gen::TensorPlan& p : *plan) {
        bytes += p.n_bytes();
        params += p.ne[0] * p.rows();
      }
      std::printf(" %s %s", gen::WeightTypeName(t), HumanBytes(static_cast<double>(bytes)).c_str());
    }
    std::printf("  (%.3g parameters)\n\n", static_cast<double>(params));
  }
  return 0;
}

bool ParseUint(const char* s, uint64_t max, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

int RunGen(int argc, char** argv) {
  gen::GenOptions opt;
  bool quiet = false;
  bool preset_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ktc gen: %s needs a value\n", what);
        return nullptr;
      }
      return argv[++i];
    };
    auto number = [&](const char* what, uint64_t max, uint64_t* out) -> bool {
      const char* v = value(what);
      if (!v) return false;
      if (!ParseUint(v, max, out)) {
        std::fprintf(stderr, "ktc gen: %s wants a number up to %llu, got '%s'\n", what,
                     static_cast<unsigned long long>(max), v);
        return false;
      }
      return true;
    };
    uint64_t n = 0;
    if (a == "-h" || a == "--help") {
      PrintHelp(stdout);
      return 0;
    } else if (a == "--list-presets") {
      return ListPresets();
    } else if (a == "--preset") {
      const char* v = value("--preset");
      if (!v) return 2;
      opt.preset = v;
      preset_given = true;
    } else if (a == "--type") {
      const char* v = value("--type");
      if (!v) return 2;
      std::optional<gen::WeightType> t = gen::ParseWeightType(v);
      if (!t) {
        std::fprintf(stderr, "ktc gen: unknown --type '%s' (f32, f16, q8_0, q4_k_m)\n", v);
        return 2;
      }
      opt.type = *t;
    } else if (a == "--seed") {
      if (!number("--seed", UINT64_MAX, &n)) return 2;
      opt.seed = n;
    } else if (a == "--layers") {
      if (!number("--layers", 1024, &n)) return 2;
      opt.layers = static_cast<uint32_t>(n);
    } else if (a == "--vocab") {
      if (!number("--vocab", 1u << 22, &n)) return 2;
      opt.vocab = static_cast<uint32_t>(n);
    } else if (a == "--legacy-kv-b") {
      opt.legacy_kv_b = true;
    } else if (a == "-o" || a == "--output") {
      const char* v = value("--output");
      if (!v) return 2;
      opt.output = v;
    } else if (a == "--config-out") {
      const char* v = value("--config-out");
      if (!v) return 2;
      opt.config_out = v;
    } else if (a == "--threads") {
      if (!number("--threads", 1024, &n)) return 2;
      opt.threads = static_cast<unsigned>(n);
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else {
      std::fprintf(stderr, "ktc gen: unknown option '%s' (see ktc gen --help)\n", argv[i]);
      return 2;
    }
  }
  if (!preset_given || opt.output.empty()) {
    std::fprintf(stderr, "ktc gen: --preset and -o are required\n\n");
    PrintHelp(stderr);
    return 2;
  }

  // Progress about twice a second and at each tensor boundary of big models;
  // tiny models finish before the first line would be useful.
  double last = -1;
  size_t last_tensor = SIZE_MAX;
  if (!quiet) {
    opt.progress = [&](const gen::GenProgress& p) {
      const bool new_tensor = p.tensor_index != last_tensor;
      if (p.seconds - last < 0.5 && !(new_tensor && p.seconds > 1.0)) return;
      if (p.seconds < 0.5 && p.bytes_done < p.bytes_total) return;
      last = p.seconds;
      last_tensor = p.tensor_index;
      const double mb = static_cast<double>(p.bytes_done) / (1 << 20);
      std::fprintf(stderr, "\r[gen] tensor %zu/%zu %-32.*s %s / %s  %.1f MB/s   ", p.tensor_index + 1,
                   p.n_tensors, static_cast<int>(p.tensor_name.size()), p.tensor_name.data(),
                   HumanBytes(static_cast<double>(p.bytes_done)).c_str(),
                   HumanBytes(static_cast<double>(p.bytes_total)).c_str(), p.seconds > 0 ? mb / p.seconds : 0.0);
      std::fflush(stderr);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  Status st = gen::GenerateModel(opt);
  if (!st.ok()) {
    if (!quiet && last >= 0) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "ktc gen: %s\n", st.ToString().c_str());
    return 1;
  }
  if (!quiet) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (last >= 0) std::fprintf(stderr, "\n");
    const std::string cfg = opt.config_out.empty() ? gen::DefaultConfigPath(opt.output) : opt.config_out;
    std::fprintf(stderr, "[gen] wrote %s (%s, %s) in %.2f s%s%s\n", opt.output.c_str(), opt.preset.c_str(),
                 gen::WeightTypeName(opt.type), s, cfg == "-" ? "" : "; config: ", cfg == "-" ? "" : cfg.c_str());
  }
  return 0;
}

}  // namespace kt::ktc
