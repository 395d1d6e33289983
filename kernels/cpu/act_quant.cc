// Activation quantisation: one scale per block, 8-bit values.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/vec_dot.h"
#include "kernels/quant/fp16.h"

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

// The activation quantisation of ggml's CPU backend, operation for operation,
// so that kt's integer dot products see the same 8-bit activations as
// llama.cpp's and the two agree to float rounding.

// Q8_0 blocks (AVX2 path of ggml): scale amax/127 stored as f16, values
// rounded half to even.
float QuantizeBlock32(const float* x, int8_t* qs) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  for (int i = 0; i < 32; ++i) qs[i] = static_cast<int8_t>(std::nearbyint(x[i] * id));
  return quant::Fp16ToFloat(quant::FloatToFp16(d));
}

// Q8_K blocks: the signed extreme maps to -127, scale 1/iscale in f32.
float QuantizeBlock256(const float* x, int8_t* qs) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < 256; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax == 0.0f) {
    std::memset(qs, 0, 256);
    return 0.0f;
  }
  const float iscale = -127.0f / max;
  for (int i = 0; i < 256; ++i)
    qs[i] = static_cast<int8_t>(std::min(127, static_cast<int>(std::nearbyint(iscale * x[i]))));
  return 1.0f / iscale;
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
        blk.d = QuantizeBlock32(x + b * 32, blk.qs);
        blk.sum = 0;
        for (int i = 0; i < 32; ++i) blk.sum += blk.qs[i];
      }
      return;
    }
    case ActFormat::kQ8_256: {
      auto* blocks = static_cast<quant::BlockQ8_K*>(out);
      for (int64_t b = 0; b < n / 256; ++b) {
        quant::BlockQ8_K& blk = blocks[b];
        blk.d = QuantizeBlock256(x + b * 256, blk.qs);
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
