// F32, F16 and BF16 "blocks" of one element. Conversions round to nearest even
// (numpy's astype(float16) and ggml's fp32->bf16 do the same).
#include <cstring>

#include "kernels/quant/fp16.h"
#include "kernels/quant/reference_rows.h"

namespace kt::quant::ref {
namespace {

uint16_t LoadU16(const void* src, int64_t i) {
  uint16_t v;
  std::memcpy(&v, static_cast<const uint8_t*>(src) + 2 * i, sizeof v);
  return v;
}

void StoreU16(void* dst, int64_t i, uint16_t v) {
  std::memcpy(static_cast<uint8_t*>(dst) + 2 * i, &v, sizeof v);
}

}  // namespace

void DequantizeF32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void DequantizeF16(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFloat(LoadU16(src, i));
}

void DequantizeBF16(const void* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(LoadU16(src, i));
}

void QuantizeF32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void QuantizeF16(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) StoreU16(dst, i, FloatToFp16(src[i]));
}

void QuantizeBF16(const float* src, void* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) StoreU16(dst, i, FloatToBf16(src[i]));
}

}  // namespace kt::quant::ref
