// Activation quantisation: symmetric, round to nearest, one scale per block.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/vec_dot.h"

namespace kt::cpu {

ActFormat ActFormatFor(quant::GgmlType t) {
  using quant::GgmlType;
  switch (t) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0: return ActFormat::kQ8_32;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: return ActFormat::kQ8_256;
    default: return ActFormat::kF32;
  }
}

size_t ActBytes(ActFormat format, int64_t n) {
  switch (format) {
    case ActFormat::kF32: return static_cast<size_t>(n) * sizeof(float);
    case ActFormat::kQ8_32: return static_cast<size_t>(n / 32) * sizeof(ActQ8_32);
    case ActFormat::kQ8_256: return static_cast<size_t>(n / 256) * sizeof(quant::BlockQ8_K);
  }
  return 0;
}

namespace {

// Quantises `len` values with one scale into qs; returns the scale.
float QuantizeBlock(const float* x, int len, int8_t* qs) {
  float amax = 0.0f;
  for (int i = 0; i < len; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (amax == 0.0f) {
    std::memset(qs, 0, len);
    return 0.0f;
  }
  const float d = amax / 127.0f;
  const float inv = 1.0f / d;
  for (int i = 0; i < len; ++i) {
    int q = static_cast<int>(std::nearbyint(x[i] * inv));
    qs[i] = static_cast<int8_t>(std::clamp(q, -127, 127));
  }
  return d;
}

}  // namespace

void QuantizeActivation(ActFormat format, const float* x, int64_t n, void* out) {
  switch (format) {
    case ActFormat::kF32:
      std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case ActFormat::kQ8_32: {
      auto* blocks = static_cast<ActQ8_32*>(out);
      for (int64_t b = 0; b < n / 32; ++b) {
        ActQ8_32& blk = blocks[b];
        blk.d = QuantizeBlock(x + b * 32, 32, blk.qs);
        blk.sum = 0;
        for (int i = 0; i < 32; ++i) blk.sum += blk.qs[i];
      }
      return;
    }
    case ActFormat::kQ8_256: {
      auto* blocks = static_cast<quant::BlockQ8_K*>(out);
      for (int64_t b = 0; b < n / 256; ++b) {
        quant::BlockQ8_K& blk = blocks[b];
        blk.d = QuantizeBlock(x + b * 256, 256, blk.qs);
        for (int g = 0; g < 16; ++g) {
          int sum = 0;
          for (int i = 0; i < 16; ++i) sum += blk.qs[16 * g + i];
          blk.bsums[g] = static_cast<int16_t>(sum);
        }
      }
      return;
    }
  }
}

}  // namespace kt::cpu
