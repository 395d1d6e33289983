// Quantizers for Q8_0, Q4_0 and Q5_0, bit-exact with gguf-py's numpy code
// (which in turn follows ggml's quantize_row_*_ref compiled without FMA):
// every product and sum is rounded to f32 separately. Codes are clamped in the
// float domain before conversion so that inf/NaN input cannot reach an
// undefined float-to-int cast; finite input never needs that clamp.
#include <cmath>

#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/reference_rows.h"

namespace kt::quant::ref {
namespace {

// The element with the largest magnitude, sign kept; the first one on ties.
float SignedAbsMax(const float* x, int n) {
  // Starting from x[0] (not +0) keeps the sign of d for all-zero blocks as
  // gguf-py has it.
  float best = x[0], best_abs = std::fabs(x[0]);
  for (int i = 1; i < n; ++i) {
    if (std::fabs(x[i]) > best_abs) {
      best_abs = std::fabs(x[i]);
      best = x[i];
    }
  }
  return best;
}

float ClampCode(float v, float lo, float hi) {
  if (!(v >= lo)) return lo;  // also maps NaN to lo
  return v > hi ? hi : v;
}

// Shared by Q4_0 (levels 16, bias 8) and Q5_0 (levels 32, bias 16): the code
// of x is trunc(x * id + bias + 0.5), with d = max / -bias so that the extreme
// element lands on code 0.
template <int kBias>
uint16_t SymmetricCodes(const float* x, uint8_t q[kQK]) {
  const float max = SignedAbsMax(x, kQK);
  const float d = max / static_cast<float>(-kBias);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) {
    const float shifted = x[j] * id + (static_cast<float>(kBias) + 0.5f);
    q[j] = static_cast<uint8_t>(ClampCode(std::trunc(shifted), 0.0f, 2 * kBias - 1));
  }
  return FloatToFp16(d);
}

}  // namespace

void QuantizeQ8_0(const float* src, void* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 block;
    block.d = FloatToFp16(d);
    for (int j = 0; j < kQK; ++j) {
      // std::round rounds halves away from zero, like C's roundf.
      block.qs[j] = static_cast<int8_t>(ClampCode(std::round(x[j] * id), -127.0f, 127.0f));
    }
    StoreBlock(dst, b, block);
  }
}

void QuantizeQ4_0(const float* src, void* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    uint8_t q[kQK];
    BlockQ4_0 block;
    block.d = SymmetricCodes<8>(src + b * kQK, q);
    for (int j = 0; j < kQK / 2; ++j)
      block.qs[j] = static_cast<uint8_t>(q[j] | (q[j + kQK / 2] << 4));
    StoreBlock(dst, b, block);
  }
}

void QuantizeQ5_0(const float* src, void* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    uint8_t q[kQK];
    BlockQ5_0 block;
    block.d = SymmetricCodes<16>(src + b * kQK, q);
    for (int j = 0; j < kQK / 2; ++j)
      block.qs[j] = static_cast<uint8_t>((q[j] & 0xf) | ((q[j + kQK / 2] & 0xf) << 4));
    for (int i = 0; i < 4; ++i) block.qh[i] = 0;
    for (int j = 0; j < kQK; ++j) block.qh[j / 8] |= static_cast<uint8_t>(((q[j] >> 4) & 1) << (j % 8));
    StoreBlock(dst, b, block);
  }
}

}  // namespace kt::quant::ref
