// MoE routing of one token (DeepSeek-V2 and V3 rules):
//   probs  = softmax(logits) or sigmoid(logits)
//   select = probs + score bias (V3's exp_probs_b; selection only)
//   groups (n_group > 1): score each group (max, or sum of its top two),
//          keep the best n_group_used groups, mask the rest
//   top-k of `select`; weights are the unbiased probs of the chosen experts,
//   divided by their sum when norm_topk, then times routed_scale.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/model/deepseek_config.h"

namespace kt::reference {

struct Route {
  std::vector<uint32_t> experts;  // n_expert_used ids, best first
  std::vector<float> weights;     // matching weights
};

// `bias` is empty or n_expert long. Ties go to the lower expert id.
Route RouteToken(const model::DeepseekConfig& config, std::span<const float> logits, std::span<const float> bias);

}  // namespace kt::reference
