// Token sampling: greedy, temperature, top-k, top-p, min-p and repetition
// penalty, deterministic for a given seed. The order of the filters follows
// common practice (llama.cpp's default chain): penalties, top-k, top-p,
// min-p, temperature, then a draw from the remaining distribution.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/base/status.h"

namespace kt {

struct SamplerOptions {
  float temperature = 0.0f;        // 0 = greedy (argmax)
  int32_t top_k = 0;               // 0 = off
  float top_p = 1.0f;              // 1 = off
  float min_p = 0.0f;              // 0 = off
  float repetition_penalty = 1.0f; // 1 = off; applied to the last `penalty_last_n` tokens
  int32_t penalty_last_n = 64;
  uint64_t seed = 0;
};

// Returns a clear error for values outside their valid ranges.
Status ValidateSamplerOptions(const SamplerOptions& options);

class Sampler {
 public:
  explicit Sampler(const SamplerOptions& options);

  // Picks the next token from `logits` (one per vocabulary entry); `history`
  // is what the penalty looks at (prompt and generated tokens).
  int32_t Sample(std::span<const float> logits, std::span<const int32_t> history);

 private:
  double NextUniform();  // [0, 1)

  SamplerOptions options_;
  uint64_t state_;
  std::vector<float> scratch_;
  std::vector<int32_t> order_;
};

// Index of the largest value; the lowest index wins ties.
int32_t ArgMax(std::span<const float> values);

}  // namespace kt
