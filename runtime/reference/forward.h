// The reference executor for `deepseek2` models: plain float32 code that the
// optimized CPU and GPU paths are tested against, and that is itself tested
// against llama.cpp (test/peer/test_reference_logits.py).
//
//   KT_ASSIGN_OR_RETURN(auto model, ReferenceModel::Create(config, table));
//   KT_ASSIGN_OR_RETURN(auto cache, kv::MlaKvCache::Create(config.n_layer, 4096,
//                                       config.kv_lora_rank, config.qk_rope_dim));
//   std::vector<float> logits;  // tokens.size() rows of config.vocab
//   KT_RETURN_IF_ERROR(model.Forward(tokens, positions, cache, MlaForm::kAbsorbed, &logits));
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/kv/mla_kv_cache.h"
#include "runtime/model/deepseek_config.h"
#include "runtime/model/deepseek_weights.h"
#include "runtime/model/weight_table.h"
#include "runtime/reference/mla.h"
#include "runtime/reference/rope.h"

namespace kt::reference {

class ReferenceModel {
 public:
  // Binds and checks every weight; the table's memory must outlive the model.
  static StatusOr<ReferenceModel> Create(const model::DeepseekConfig& config, const model::WeightTable& table);

  // Runs `tokens` of one sequence at `positions` (distinct; each token sees
  // the cached positions <= its own and the batch's earlier-or-equal ones, so
  // every position below the largest must be cached or in the batch). Writes
  // their latent KV into `cache` and tokens.size() rows of logits.
  Status Forward(std::span<const int32_t> tokens, std::span<const uint32_t> positions, kv::MlaKvCache& cache,
                 MlaForm form, std::vector<float>* logits) const;

  const model::DeepseekConfig& config() const { return config_; }

 private:
  ReferenceModel() = default;
  void Attention(uint32_t il, std::span<const float> x_norm, uint32_t pos, std::span<float> q_out,
                 std::span<float> latent, std::span<float> k_pe) const;
  void Ffn(uint32_t il, std::span<const float> x_norm, std::span<float> out) const;
  void DenseFfn(const model::WeightView& gate, const model::WeightView& up, const model::WeightView& down,
                std::span<const float> x, std::span<float> out) const;

  model::DeepseekConfig config_;
  model::DeepseekWeights weights_;
  RopeParams rope_;
};

}  // namespace kt::reference
