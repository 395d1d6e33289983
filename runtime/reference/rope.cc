#include "runtime/reference/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace kt::reference {

RopeParams DeepseekRopeParams(const model::DeepseekConfig& c) {
  RopeParams p;
  p.n_dims = c.qk_rope_dim;
  p.freq_base = c.rope_theta;
  p.n_ctx_orig = c.yarn_enabled() ? c.yarn_orig_ctx : c.context_length;
  p.beta_fast = c.yarn_beta_fast;
  p.beta_slow = c.yarn_beta_slow;
  if (c.yarn_enabled()) {
    p.freq_scale = 1.0f / c.yarn_factor;
    p.ext_factor = 1.0f;
    p.attn_factor = 1.0f / (1.0f + 0.1f * std::log(1.0f / p.freq_scale));
  }
  return p;
}

namespace {

// The dimension pair index whose wavelength completes `n_rot` turns over the
// original context (YaRN paper, eq. 17), as ggml computes it in float.
float CorrDim(const RopeParams& p, float n_rot) {
  return static_cast<float>(p.n_dims) *
         std::log(static_cast<float>(p.n_ctx_orig) / (n_rot * 2.0f * std::numbers::pi_v<float>)) /
         (2.0f * std::log(p.freq_base));
}

}  // namespace

void YarnCorrDims(const RopeParams& p, float dims[2]) {
  const float start = std::floor(CorrDim(p, p.beta_fast));
  const float end = std::ceil(CorrDim(p, p.beta_slow));
  dims[0] = std::max(0.0f, start);
  dims[1] = std::min(static_cast<float>(p.n_dims) - 1.0f, end);
}

void RopeCosSin(const RopeParams& p, int64_t pos, std::span<float> cos, std::span<float> sin) {
  float corr[2];
  YarnCorrDims(p, corr);
  // ggml advances the angle by repeated multiplication in float; doing the
  // same keeps us within an ulp of it at every pair.
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_dims));
  float theta_extrap = static_cast<float>(pos);
  for (uint32_t i = 0; i < p.n_dims / 2; ++i) {
    const float theta_interp = p.freq_scale * theta_extrap;
    float theta = theta_interp;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      // Ramp is 1 for fast-rotating pairs (pure extrapolation) and 0 for slow ones.
      const float y = (static_cast<float>(i) - corr[0]) / std::max(0.001f, corr[1] - corr[0]);
      const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, y))) * p.ext_factor;
      theta = theta_interp * (1.0f - ramp) + theta_extrap * ramp;
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    cos[i] = std::cos(theta) * mscale;
    sin[i] = std::sin(theta) * mscale;
    theta_extrap *= theta_scale;
  }
}

void ApplyRope(const RopeParams& p, int64_t pos, std::span<float> x) {
  std::vector<float> cos(p.n_dims / 2), sin(p.n_dims / 2);
  RopeCosSin(p, pos, cos, sin);
  for (uint32_t i = 0; i < p.n_dims / 2; ++i) {
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * cos[i] - x1 * sin[i];
    x[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
  }
}

}  // namespace kt::reference
