// Hyperparameters of a `deepseek2`-architecture model (DeepSeek-V2, V2-Lite,
// V3, R1). The runtime fills this from its artifact; tests fill it from GGUF
// metadata (compiler/gguf_model). Field names follow the HF config where one
// exists; comments give the GGUF key suffix after "deepseek2.".
#pragma once

#include <cstdint>
#include <string>

#include "runtime/base/status.h"

namespace kt::model {

enum class GatingFunc : uint8_t { kSoftmax = 1, kSigmoid = 2 };  // expert_gating_func ids

// How a group of experts is scored before the top groups are kept.
enum class GroupScore : uint8_t {
  kMax,      // DeepSeek-V2 "group_limited_greedy": best expert of the group
  kTop2Sum,  // DeepSeek-V3 "noaux_tc": sum of the two best (bias included)
};

struct DeepseekConfig {
  uint32_t hidden = 0;             // embedding_length
  uint32_t n_layer = 0;            // block_count
  uint32_t n_head = 0;             // attention.head_count
  uint32_t q_lora_rank = 0;        // attention.q_lora_rank; 0: attn_q, no q compression
  uint32_t kv_lora_rank = 0;       // attention.kv_lora_rank
  uint32_t qk_nope_dim = 0;        // per-head q/k part without RoPE
  uint32_t qk_rope_dim = 0;        // rope.dimension_count: per-head RoPE part, shared k_pe
  uint32_t v_head_dim = 0;         // per-head value size
  uint32_t vocab = 0;              // rows of token_embd / output
  uint32_t n_dense_lead = 0;       // leading_dense_block_count
  uint32_t dense_ff = 0;           // feed_forward_length
  uint32_t n_expert = 0;           // expert_count
  uint32_t n_expert_used = 0;      // expert_used_count
  uint32_t n_expert_shared = 0;    // expert_shared_count
  uint32_t expert_ff = 0;          // expert_feed_forward_length
  GatingFunc gating = GatingFunc::kSoftmax;
  bool has_score_bias = false;     // exp_probs_b tensors present
  uint32_t n_group = 1;            // expert_group_count
  uint32_t n_group_used = 1;       // expert_group_used_count
  GroupScore group_score = GroupScore::kMax;
  bool norm_topk = false;          // expert_weights_norm
  float routed_scale = 1.0f;       // expert_weights_scale
  float rms_eps = 1e-6f;           // attention.layer_norm_rms_epsilon
  float rope_theta = 10000.0f;     // rope.freq_base
  // YaRN (rope.scaling.*). factor <= 1 means no scaling.
  float yarn_factor = 1.0f;        // rope.scaling.factor
  uint32_t yarn_orig_ctx = 0;      // rope.scaling.original_context_length
  // GGUF stores yarn_log_multiplier = 0.1 * mscale_all_dim; we keep the file's
  // value so that the attention scale is computed with the same float ops.
  float yarn_log_mul = 0.0f;
  float yarn_beta_fast = 32.0f;    // llama.cpp defaults; not stored in GGUF
  float yarn_beta_slow = 1.0f;
  uint32_t context_length = 0;     // context_length

  uint32_t head_k_dim() const { return qk_nope_dim + qk_rope_dim; }
  bool is_moe_layer(uint32_t layer) const { return layer >= n_dense_lead; }
  bool yarn_enabled() const { return yarn_factor > 1.0f; }
  float mscale_all_dim() const { return yarn_log_mul / 0.1f; }

  // Softmax scale of attention scores: mscale^2 / sqrt(qk_nope + qk_rope) with
  // mscale = 1 + yarn_log_mul * ln(factor) (llama.cpp's deepseek2 graph).
  float KqScale() const;

  // Checks every dimension for consistency (non-zero, divisible, in range).
  Status Validate() const;
  std::string ToString() const;
};

}  // namespace kt::model
