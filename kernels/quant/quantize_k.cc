// Reference quantizers for Q4_K and Q6_K following the scale search of
// llama.cpp's quantize_row_q4_K_ref / quantize_row_q6_K_ref (no importance
// matrix): every sub-block gets a least-squares scale (and, for Q4_K, min)
// found by trying a small fan of candidate step sizes; the sub-block scales
// are then themselves quantised against one f16 super-block scale, and the
// element codes are recomputed against the scales as they will be decoded.
// The float expressions keep llama.cpp's order of operations so the blocks
// agree bit for bit with its reference in the common case.
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"
#include "kernels/quant/reference_rows.h"

namespace kt::quant::ref {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// Round half to even, as llama.cpp's nearest_int does for the values it
// sees. The clamp only matters for inf/NaN or absurd magnitudes, where the
// cast would be undefined.
int NearestInt(float v) {
  const float r = std::nearbyint(v);
  if (!(r > -1e9f)) return -1000000000;
  if (r > 1e9f) return 1000000000;
  return static_cast<int>(r);
}

int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Fits x[i] ~ scale * L[i] + min with L in [0, nmax] and min <= 0, minimising
// the weighted squared error. Starts from the plain min/max grid, then tries
// nstep + 1 step sizes (nmax + rmin + rdelta * k) / (max - min) and keeps the
// least-squares (scale, min) of whichever code assignment fits best.
// Returns the scale and stores -min (a non-negative offset) in *neg_min.
float FitAffineCodes(int n, int nmax, const float* x, const float* w, uint8_t* L,
                     float* neg_min, float rmin, float rdelta, int nstep) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax));
    float diff = scale * static_cast<float>(L[i]) + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t trial[kQK_K];
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * static_cast<float>(step) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      const float fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      float diff = this_scale * static_cast<float>(trial[i]) + this_min - x[i];
      error += w[i] * (diff * diff);
    }
    if (error < best_error) {
      for (int i = 0; i < n; ++i) L[i] = trial[i];
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  *neg_min = -min;
  return scale;
}

// Fits x[i] ~ scale * (L[i] - nmax) with L in [0, 2 nmax), weighting each
// element by x^2 so the large values (which dominate the output) fit best.
// Tries 19 step sizes around nmax / max|x| and returns the best scale.
float FitSymmetricCodes(int n, int nmax, const float* x, uint8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  auto code = [nmax](float iscale, float v) {
    return Clamp(NearestInt(iscale * v), -nmax, nmax - 1);
  };
  float iscale = static_cast<float>(-nmax) / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = code(iscale, x[i]);
    L[i] = static_cast<uint8_t>(l + nmax);
    const float w = x[i] * x[i];
    const float fl = static_cast<float>(l);
    sum_lx += w * x[i] * fl;
    sum_l2 += w * fl * fl;
  }
  float scale = sum_l2 != 0 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    sum_lx = sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      const float fl = static_cast<float>(code(iscale, x[i]));
      sum_lx += w * x[i] * fl;
      sum_l2 += w * fl * fl;
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(code(iscale, x[i]) + nmax);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

BlockQ4_K QuantizeBlockQ4_K(const float* x) {
  uint8_t L[kQK_K];
  float scales[8], mins[8];
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    // Weights favour large elements but never ignore small ones.
    const float av_x = std::sqrt(sum_x2 / 32);
    float weights[32];
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[s] = FitAffineCodes(32, 15, xs, weights, L + 32 * s, &mins[s], -1.0f, 0.1f, 20);
    if (scales[s] > max_scale) max_scale = scales[s];
    if (mins[s] > max_min) max_min = mins[s];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  uint8_t scale_codes[8], min_codes[8];
  for (int s = 0; s < 8; ++s) {
    scale_codes[s] = static_cast<uint8_t>(Clamp(NearestInt(inv_scale * scales[s]), 0, 63));
    min_codes[s] = static_cast<uint8_t>(Clamp(NearestInt(inv_min * mins[s]), 0, 63));
  }
  BlockQ4_K block;
  PackScalesMinsK4(scale_codes, min_codes, block.scales);
  block.d = FloatToFp16(max_scale / 63.0f);
  block.dmin = FloatToFp16(max_min / 63.0f);
  // Re-derive the codes against the rounded scales the decoder will use.
  const float d = Fp16ToFloat(block.d), dmin = Fp16ToFloat(block.dmin);
  for (int s = 0; s < 8; ++s) {
    const ScaleMin sm = GetScaleMinK4(s, block.scales);
    const float ds = d * static_cast<float>(sm.scale);
    if (ds == 0) continue;
    const float dm = dmin * static_cast<float>(sm.min);
    for (int l = 0; l < 32; ++l)
      L[32 * s + l] = static_cast<uint8_t>(Clamp(NearestInt((x[32 * s + l] + dm) / ds), 0, 15));
  }
  for (int k = 0; k < 4; ++k)
    for (int l = 0; l < 32; ++l)
      block.qs[32 * k + l] = static_cast<uint8_t>(L[64 * k + l] | (L[64 * k + 32 + l] << 4));
  return block;
}

BlockQ6_K QuantizeBlockQ6_K(const float* x) {
  uint8_t L[kQK_K];
  float scales[16];
  float max_scale = 0, max_abs_scale = 0;
  for (int s = 0; s < 16; ++s) {
    scales[s] = FitSymmetricCodes(16, 32, x + 16 * s, L + 16 * s);
    if (std::fabs(scales[s]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[s]);
      max_scale = scales[s];
    }
  }
  BlockQ6_K block{};
  if (max_abs_scale < kGroupMaxEps) return block;  // all codes 0, d = +0
  // The sub-block scale with the largest magnitude maps to -128, so the
  // other scales use the full int8 range on the side it sits on.
  const float iscale = -128.0f / max_scale;
  block.d = FloatToFp16(1 / iscale);
  for (int s = 0; s < 16; ++s)
    block.scales[s] = static_cast<int8_t>(Clamp(NearestInt(iscale * scales[s]), -128, 127));
  const float d = Fp16ToFloat(block.d);
  for (int s = 0; s < 16; ++s) {
    const float ds = d * static_cast<float>(block.scales[s]);
    if (ds == 0) continue;
    for (int l = 0; l < 16; ++l)
      L[16 * s + l] = static_cast<uint8_t>(Clamp(NearestInt(x[16 * s + l] / ds), -32, 31) + 32);
  }
  for (int h = 0; h < 2; ++h) {
    const uint8_t* Lh = L + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int q0 = Lh[l], q1 = Lh[l + 32], q2 = Lh[l + 64], q3 = Lh[l + 96];
      block.ql[64 * h + l] = static_cast<uint8_t>((q0 & 0xf) | ((q2 & 0xf) << 4));
      block.ql[64 * h + l + 32] = static_cast<uint8_t>((q1 & 0xf) | ((q3 & 0xf) << 4));
      block.qh[32 * h + l] =
          static_cast<uint8_t>((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
    }
  }
  return block;
}

}  // namespace

void QuantizeQ4_K(const float* src, void* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) StoreBlock(dst, b, QuantizeBlockQ4_K(src + b * kQK_K));
}

void QuantizeQ6_K(const float* src, void* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) StoreBlock(dst, b, QuantizeBlockQ6_K(src + b * kQK_K));
}

}  // namespace kt::quant::ref
