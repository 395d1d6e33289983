// Dequantizers for the 256-element K-quant super-blocks. Order of float
// operations, as in gguf-py: the sub-block scale d * sc and the offset
// dmin * m are each rounded to f32 first, then x = scale * q - offset with a
// separate multiply and subtract (no FMA: the target uses -ffp-contract=off).
#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"
#include "kernels/quant/reference_rows.h"

namespace kt::quant::ref {
namespace {

// Sub-block s (0..7) of a Q4_K/Q5_K block: its element l (0..31) has its four
// low bits in nibble (s & 1) of qs[32 * (s / 2) + l].
inline int LowNibbleK4(const uint8_t* qs, int s, int l) {
  return (qs[32 * (s / 2) + l] >> (4 * (s & 1))) & 0xf;
}

}  // namespace

void DequantizeQ4_K(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const auto block = LoadBlock<BlockQ4_K>(src, b);
    const float d = Fp16ToFloat(block.d);
    const float dmin = Fp16ToFloat(block.dmin);
    float* out = dst + b * kQK_K;
    for (int s = 0; s < 8; ++s) {
      const ScaleMin sm = GetScaleMinK4(s, block.scales);
      const float scale = d * static_cast<float>(sm.scale);
      const float offset = dmin * static_cast<float>(sm.min);
      for (int l = 0; l < 32; ++l) {
        const float scaled = scale * static_cast<float>(LowNibbleK4(block.qs, s, l));
        out[32 * s + l] = scaled - offset;
      }
    }
  }
}

void DequantizeQ5_K(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const auto block = LoadBlock<BlockQ5_K>(src, b);
    const float d = Fp16ToFloat(block.d);
    const float dmin = Fp16ToFloat(block.dmin);
    float* out = dst + b * kQK_K;
    for (int s = 0; s < 8; ++s) {
      const ScaleMin sm = GetScaleMinK4(s, block.scales);
      const float scale = d * static_cast<float>(sm.scale);
      const float offset = dmin * static_cast<float>(sm.min);
      for (int l = 0; l < 32; ++l) {
        const int q = LowNibbleK4(block.qs, s, l) | (((block.qh[l] >> s) & 1) << 4);
        const float scaled = scale * static_cast<float>(q);
        out[32 * s + l] = scaled - offset;
      }
    }
  }
}

void DequantizeQ6_K(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const auto block = LoadBlock<BlockQ6_K>(src, b);
    const float d = Fp16ToFloat(block.d);
    float* out = dst + b * kQK_K;
    for (int e = 0; e < kQK_K; ++e) {
      const int half = e / 128, c = (e % 128) / 32, l = e % 32;
      const int low = (block.ql[64 * half + 32 * (c & 1) + l] >> (4 * (c >> 1))) & 0xf;
      const int high = (block.qh[32 * half + l] >> (2 * c)) & 3;
      const float scale = d * static_cast<float>(block.scales[e / 16]);
      out[e] = scale * static_cast<float>((low | (high << 4)) - 32);
    }
  }
}

}  // namespace kt::quant::ref
