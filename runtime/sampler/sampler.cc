#include "runtime/sampler/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace kt {

Status ValidateSamplerOptions(const SamplerOptions& o) {
  if (!(o.temperature >= 0.0f) || !std::isfinite(o.temperature))
    return KT_ERROR(kInvalidArgument, "temperature must be a finite value >= 0, got ", o.temperature);
  if (o.top_k < 0) return KT_ERROR(kInvalidArgument, "top_k must be >= 0, got ", o.top_k);
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f))
    return KT_ERROR(kInvalidArgument, "top_p must be in (0, 1], got ", o.top_p);
  if (!(o.min_p >= 0.0f && o.min_p <= 1.0f))
    return KT_ERROR(kInvalidArgument, "min_p must be in [0, 1], got ", o.min_p);
  if (!(o.repetition_penalty > 0.0f) || !std::isfinite(o.repetition_penalty))
    return KT_ERROR(kInvalidArgument, "repetition_penalty must be a finite value > 0, got ",
                    o.repetition_penalty);
  if (o.penalty_last_n < 0)
    return KT_ERROR(kInvalidArgument, "penalty_last_n must be >= 0, got ", o.penalty_last_n);
  return Status::Ok();
}

int32_t ArgMax(std::span<const float> values) {
  int32_t best = 0;
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i] > values[best]) best = static_cast<int32_t>(i);
  return best;
}

Sampler::Sampler(const SamplerOptions& options)
    : options_(options), state_(options.seed ^ 0x9e3779b97f4a7c15ull) {}

double Sampler::NextUniform() {
  // splitmix64: small, fast, and identical on every platform.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

int32_t Sampler::Sample(std::span<const float> logits, std::span<const int32_t> history) {
  const size_t n = logits.size();
  scratch_.assign(logits.begin(), logits.end());

  if (options_.repetition_penalty != 1.0f && options_.penalty_last_n > 0) {
    // Each distinct recent token is penalised once, as in the CTRL paper.
    size_t start = history.size() > static_cast<size_t>(options_.penalty_last_n)
                       ? history.size() - options_.penalty_last_n
                       : 0;
    std::unordered_set<int32_t> seen;
    for (size_t i = start; i < history.size(); ++i) {
      int32_t t = history[i];
      if (t < 0 || static_cast<size_t>(t) >= n || !seen.insert(t).second) continue;
      float& l = scratch_[t];
      l = l > 0 ? l / options_.repetition_penalty : l * options_.repetition_penalty;
    }
  }

  if (options_.temperature == 0.0f) return ArgMax(scratch_);

  // Candidates sorted by logit, descending; ties keep the lower token id first.
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), 0);
  size_t keep = n;
  if (options_.top_k > 0) keep = std::min<size_t>(keep, options_.top_k);
  auto by_logit = [&](int32_t a, int32_t b) {
    return scratch_[a] > scratch_[b] || (scratch_[a] == scratch_[b] && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), by_logit);
  order_.resize(keep);

  // Softmax over the kept candidates at temperature 1 for the p filters.
  const float max_logit = scratch_[order_[0]];
  std::vector<double> probs(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(double(scratch_[order_[i]]) - max_logit);
  for (double& p : probs) p /= sum;

  if (options_.top_p < 1.0f) {
    double cumulative = 0;
    size_t cut = keep;
    for (size_t i = 0; i < keep; ++i) {
      cumulative += probs[i];
      if (cumulative >= options_.top_p) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
  }
  if (options_.min_p > 0.0f) {
    const double threshold = options_.min_p * probs[0];
    size_t cut = 1;
    while (cut < keep && probs[cut] >= threshold) ++cut;
    keep = cut;
  }

  // Temperature-scaled distribution over the survivors, then one draw.
  std::vector<double> weights(keep);
  double total = 0;
  for (size_t i = 0; i < keep; ++i)
    total += weights[i] = std::exp((double(scratch_[order_[i]]) - max_logit) / options_.temperature);
  double r = NextUniform() * total;
  for (size_t i = 0; i < keep; ++i) {
    r -= weights[i];
    if (r < 0) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace kt
