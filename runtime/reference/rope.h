// YaRN rotary position embedding as llama.cpp applies it to deepseek2:
// ggml rope mode NORM (rotates consecutive pairs x[2i], x[2i+1]), YaRN
// blending between interpolated and extrapolated angles with ggml's linear
// ramp over the correction dims from beta_fast/beta_slow, and a magnitude
// factor. For deepseek2 llama.cpp passes attn_factor = 1/(1 + 0.1 ln(1/s)),
// which cancels the YaRN magnitude ggml multiplies in, so the rotation keeps
// |x|; the YaRN temperature goes into the attention scale instead
// (DeepseekConfig::KqScale).
#pragma once

#include <cstdint>
#include <span>

#include "runtime/model/deepseek_config.h"

namespace kt::reference {

struct RopeParams {
  uint32_t n_dims = 0;        // rotated dimensions (qk_rope_dim)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;    // 1 / YaRN factor
  float ext_factor = 0.0f;    // 1 with YaRN, 0 without
  float attn_factor = 1.0f;   // magnitude passed to ggml_rope_ext
  uint32_t n_ctx_orig = 0;
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
};

RopeParams DeepseekRopeParams(const model::DeepseekConfig& config);

// ggml's YaRN correction range [low, high] in pair indices (clamped to
// [0, n_dims - 1]).
void YarnCorrDims(const RopeParams& p, float dims[2]);

// cos/sin (already times the magnitude) of each of the n_dims/2 pairs at `pos`.
void RopeCosSin(const RopeParams& p, int64_t pos, std::span<float> cos, std::span<float> sin);

// Rotates x (n_dims floats) in place for position `pos`.
void ApplyRope(const RopeParams& p, int64_t pos, std::span<float> x);

}  // namespace kt::reference
