// Multi-head latent attention of one layer, in both of its exact forms:
//
//   naive:    k_nope_h(j) = W_kb,h · c_j and v_h(j) = W_vb,h · c_j are
//             decompressed per head from the cached latent c_j, then ordinary
//             attention with k_h(j) = [k_nope_h(j) | k_pe_j].
//   absorbed: q_nope_h is pulled through W_kb,h into latent space once
//             (q̃_h = W_kb,hᵀ q_nope_h), scores are q̃_h·c_j + q_pe_h·k_pe_j, and
//             W_vb,h is applied once to the probability-weighted latent.
//
// They are equal in exact arithmetic; the test of one against the other is
// what keeps both honest. Both read the same MLA latent cache.
#pragma once

#include <cstdint>
#include <span>

#include "runtime/kv/mla_kv_cache.h"
#include "runtime/model/deepseek_config.h"
#include "runtime/model/deepseek_weights.h"
#include "runtime/reference/ops.h"

namespace kt::reference {

enum class MlaForm { kNaive, kAbsorbed };

// The per-head up-projections of one layer, hiding whether the file has the
// legacy attn_kv_b {kv_lora, H·(nope+v)} or split attn_k_b {nope, kv_lora, H}
// and attn_v_b {kv_lora, v, H}.
class MlaHeads {
 public:
  MlaHeads(const model::DeepseekConfig& config, const model::LayerWeights& layer);

  // k_nope (qk_nope_dim) of head h from a latent (kv_lora_rank).
  void KNope(uint32_t h, std::span<const float> latent, std::span<float> out) const;
  // q_nope (qk_nope_dim) of head h absorbed into latent space (kv_lora_rank).
  void AbsorbQ(uint32_t h, std::span<const float> q_nope, std::span<float> out) const;
  // Value (v_head_dim) of head h from a latent or a weighted sum of latents.
  void Value(uint32_t h, std::span<const float> latent, std::span<float> out) const;

 private:
  uint32_t nope_, kv_lora_, v_dim_;
  bool legacy_;
  RowMatrix kv_b_, k_b_, v_b_;
};

// Attention of one query token, all heads. `q` holds H·(nope + rope) floats
// with RoPE already applied to each head's last qk_rope_dim; keys are the
// cache entries of `layer` at `key_positions`. Writes H·v_head_dim floats.
void MlaAttend(MlaForm form, const model::DeepseekConfig& config, const MlaHeads& heads,
               const kv::MlaKvCache& cache, uint32_t layer, std::span<const float> q,
               std::span<const uint32_t> key_positions, std::span<float> out);

}  // namespace kt::reference
