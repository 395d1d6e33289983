// Synthetic DeepSeek-V2/V3 (`deepseek2`) models: random weights with real
// shapes, a small learned byte-level BPE tokenizer, llama.cpp-compatible
// metadata and an HF-style config.json. Used to test kt end to end without
// downloading hundreds of gigabytes.
//
//   kt::gen::GenOptions opt;
//   opt.preset = "tiny-v3";
//   opt.type = kt::gen::WeightType::kQ4_K_M;
//   opt.output = "tiny.gguf";
//   KT_RETURN_IF_ERROR(kt::gen::GenerateModel(opt));
//
// Weights are a pure function of (seed, tensor name, row), so the same
// options give the same bytes on every machine. Data is generated and
// quantised in row chunks straight into the GGUF writer: memory stays small
// whatever the model size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/quant/ggml_type.h"
#include "runtime/base/status.h"

namespace kt::gen {

enum class Gating : uint32_t { kSoftmax = 1, kSigmoid = 2 };  // GGUF expert_gating_func ids

// Every hyperparameter of a deepseek2-family model, in HF config terms.
struct ModelSpec {
  std::string name;            // preset name
  bool v3 = true;              // DeepseekV3ForCausalLM vs DeepseekV2ForCausalLM
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;         // hidden_size
  uint32_t n_head = 0;
  uint32_t q_lora_rank = 0;    // 0: no q compression ("lite"), attn_q instead of q_a/q_b
  uint32_t kv_lora_rank = 0;
  uint32_t qk_nope_head_dim = 0;
  uint32_t qk_rope_head_dim = 0;
  uint32_t v_head_dim = 0;
  uint32_t n_expert = 0;       // routed experts
  uint32_t n_expert_used = 0;
  uint32_t n_expert_shared = 0;
  uint32_t expert_ff = 0;      // moe_intermediate_size
  uint32_t dense_ff = 0;       // intermediate_size
  uint32_t n_dense_lead = 0;   // first_k_dense_replace
  Gating gating = Gating::kSoftmax;
  bool exp_probs_b = false;    // score-correction bias (V3's noaux_tc)
  uint32_t n_group = 1;
  uint32_t n_group_used = 1;
  float routed_scale = 1.0f;
  bool norm_topk = false;
  float rope_theta = 10000.0f;
  float yarn_factor = 40.0f;
  uint32_t yarn_orig_ctx = 4096;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  float yarn_mscale = 1.0f;
  float yarn_mscale_all_dim = 1.0f;
  float rms_eps = 1e-6f;
  uint32_t max_position = 163840;
  // Vocabulary rows of token_embd/output: 0 = exactly the learned tokenizer,
  // otherwise the learned tokens padded with unused placeholders up to this.
  uint32_t vocab_size = 0;
  uint32_t bpe_merges = 1280;  // merges learned from the bundled corpus
  std::string pre_tokenizer = "deepseek-v3";
  // Legacy llama.cpp layout: attn_kv_b and head_count_kv = n_head instead of
  // attn_k_b/attn_v_b with one shared latent KV head.
  bool legacy_kv_b = false;

  uint32_t head_k_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  bool is_moe_layer(uint32_t il) const { return il >= n_dense_lead; }
};

// Returns the preset, nullopt when `name` is unknown.
std::optional<ModelSpec> FindPreset(std::string_view name);
std::vector<std::string> PresetNames();
// Sets the layer count, keeping the preset's leading dense layers where the
// count allows (at least one MoE layer remains when n_layer >= 2).
void OverrideLayers(ModelSpec& spec, uint32_t n_layer);
// Checks dimensions for consistency and for what the writer can encode.
Status ValidateSpec(const ModelSpec& spec);

enum class WeightType { kF32, kF16, kQ8_0, kQ4_K_M };
std::optional<WeightType> ParseWeightType(std::string_view s);
const char* WeightTypeName(WeightType t);
uint32_t LlamaFileType(WeightType t);  // general.file_type (llama_ftype)

// How a tensor's values are drawn. The scales make the random models behave
// like trained ones where it matters for testing: each layer adds a small
// update to the residual stream and the output head has clear winners.
// With unit-scale residual updates a perturbation as small as 8-bit
// activation rounding grows layer by layer, and two correct implementations
// disagree by tens of percent.
enum class Init {
  kMatrix,       // N(0, 1/sqrt(ne[0])): unit-scale outputs for unit-scale inputs
  kResidualOut,  // N(0, 0.25/sqrt(ne[0])): projections back into the residual stream
  kOutput,       // N(0, 4/sqrt(ne[0])): output logits with a clear argmax
  kEmbed,        // N(0, 1)
  kNorm,         // 1 + 0.05 N(0, 1)
  kBias,         // 0.01 N(0, 1): exp_probs_b, small enough not to dominate routing
};

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order, ne[0] contiguous
  quant::GgmlType type = quant::GgmlType::kF32;
  Init init = Init::kMatrix;
  uint64_t rows() const;     // product of ne[1..]
  uint64_t n_bytes() const;  // stored size
};

// The tensors of `spec` in file order, with their types under `type`.
StatusOr<std::vector<TensorPlan>> PlanTensors(const ModelSpec& spec, uint32_t n_vocab, WeightType type);

struct GenProgress {
  size_t tensor_index = 0;  // 0-based index of the tensor being written
  size_t n_tensors = 0;
  std::string_view tensor_name;
  uint64_t bytes_done = 0;  // tensor data bytes written so far
  uint64_t bytes_total = 0;
  double seconds = 0;
};

struct GenOptions {
  std::string preset = "tiny-v3";
  std::optional<ModelSpec> spec;     // used instead of `preset` when set
  WeightType type = WeightType::kF32;
  uint64_t seed = 0;
  std::optional<uint32_t> layers;    // override the preset's layer count
  std::optional<uint32_t> vocab;     // pad the vocabulary to this many tokens
  bool legacy_kv_b = false;
  std::string output;                // .gguf path
  std::string config_out;            // default: <output without .gguf>.config.json; "-" = none
  unsigned threads = 0;              // 0: hardware concurrency
  std::function<void(const GenProgress&)> progress;  // called per chunk written
};

// Resolves the options into the final spec (preset + overrides).
StatusOr<ModelSpec> ResolveSpec(const GenOptions& options);
Status GenerateModel(const GenOptions& options);

// The default config path for a GGUF path: "a/b.gguf" -> "a/b.config.json".
std::string DefaultConfigPath(const std::string& gguf_path);

}  // namespace kt::gen
