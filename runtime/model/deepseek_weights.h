// The weights of a deepseek2 model, resolved by name from a WeightTable and
// checked against the config (shape, type, byte size) before anything runs,
// so a wrong or truncated file is an error naming the tensor, not a crash.
#pragma once

#include <optional>
#include <vector>

#include "runtime/model/deepseek_config.h"
#include "runtime/model/weight_table.h"

namespace kt::model {

struct LayerWeights {
  WeightView attn_norm;                                  // {E}
  std::optional<WeightView> q_a, q_a_norm, q_b;          // q_lora_rank > 0
  std::optional<WeightView> q;                           // q_lora_rank == 0: attn_q {E, H*(nope+rope)}
  WeightView kv_a_mqa;                                   // {E, kv_lora + rope}
  WeightView kv_a_norm;                                  // {kv_lora}
  std::optional<WeightView> kv_b;                        // legacy {kv_lora, H*(nope+v)}
  std::optional<WeightView> k_b, v_b;                    // split {nope, kv_lora, H}, {kv_lora, v, H}
  WeightView wo;                                         // {H*v, E}
  WeightView ffn_norm;                                   // {E}
  // Dense layers.
  std::optional<WeightView> ffn_gate, ffn_up, ffn_down;
  // MoE layers.
  std::optional<WeightView> gate_inp;                    // {E, X}
  std::optional<WeightView> exp_probs_b;                 // {X}
  std::optional<WeightView> gate_exps, up_exps, down_exps;  // {E, F, X}, {E, F, X}, {F, E, X}
  std::optional<WeightView> gate_shexp, up_shexp, down_shexp;  // {E, F*S}, {E, F*S}, {F*S, E}
};

struct DeepseekWeights {
  WeightView token_embd;   // {E, V}
  WeightView output_norm;  // {E}
  WeightView output;       // {E, V}; token_embd when the file ties them
  std::vector<LayerWeights> layers;
};

// Resolves and checks every tensor `config` needs. The legacy attn_kv_b and the
// split attn_k_b/attn_v_b layouts are both accepted (split wins if both exist).
// `config.has_score_bias` must agree with the presence of exp_probs_b.
StatusOr<DeepseekWeights> BindDeepseekWeights(const DeepseekConfig& config, const WeightTable& table);

// Bytes of matrix weights one decode step reads: every dense matrix, one row
// of the embedding, and n_expert_used / n_expert of each routed-expert tensor
// (norm vectors are left out). The numerator of decode bandwidth figures.
uint64_t DecodeWeightBytes(const DeepseekConfig& config, const DeepseekWeights& weights);

}  // namespace kt::model
