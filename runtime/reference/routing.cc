#include "runtime/reference/routing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "runtime/reference/ops.h"

namespace kt::reference {
namespace {

// Indices of the k largest values, best first, ties to the lower index.
std::vector<uint32_t> TopK(std::span<const float> values, uint32_t k) {
  std::vector<uint32_t> idx(values.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return values[a] > values[b]; });
  idx.resize(std::min<size_t>(k, idx.size()));
  return idx;
}

}  // namespace

Route RouteToken(const model::DeepseekConfig& c, std::span<const float> logits, std::span<const float> bias) {
  const uint32_t n = c.n_expert;
  std::vector<float> probs(logits.begin(), logits.begin() + n);
  if (c.gating == model::GatingFunc::kSigmoid) {
    for (float& p : probs) p = 1.0f / (1.0f + std::exp(-p));
  } else {
    Softmax(probs);
  }

  std::vector<float> select = probs;
  if (!bias.empty()) {
    for (uint32_t e = 0; e < n; ++e) select[e] += bias[e];
  }

  if (c.n_group > 1) {
    const uint32_t per_group = n / c.n_group;
    std::vector<float> group_score(c.n_group);
    for (uint32_t g = 0; g < c.n_group; ++g) {
      std::span<const float> members(select.data() + g * per_group, per_group);
      const std::vector<uint32_t> best = TopK(members, c.group_score == model::GroupScore::kTop2Sum ? 2 : 1);
      float score = 0.0f;
      for (uint32_t i : best) score += members[i];
      group_score[g] = score;
    }
    std::vector<bool> keep(c.n_group, false);
    for (uint32_t g : TopK(group_score, c.n_group_used)) keep[g] = true;
    for (uint32_t e = 0; e < n; ++e) {
      if (!keep[e / per_group]) select[e] = -std::numeric_limits<float>::infinity();
    }
  }

  Route route;
  route.experts = TopK(select, c.n_expert_used);
  double sum = 0.0;
  for (uint32_t e : route.experts) {
    route.weights.push_back(probs[e]);
    sum += probs[e];
  }
  for (float& w : route.weights) {
    if (c.norm_topk) w = static_cast<float>(w / sum);
    w *= c.routed_scale;
  }
  return route;
}

}  // namespace kt::reference
