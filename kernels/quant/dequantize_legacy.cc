// Dequantizers for the 32-element legacy blocks. The float expressions follow
// gguf-py's numpy code operation for operation (one f32 multiply, then one f32
// add for the _1 types); the target is built with -ffp-contract=off so the
// compiler cannot fuse them into an FMA, which would round differently.
#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/reference_rows.h"

namespace kt::quant::ref {
namespace {

// 4-bit code of element j of a 32-element block.
inline int Nibble(const uint8_t* qs, int j) {
  return j < kQK / 2 ? (qs[j] & 0xf) : (qs[j - kQK / 2] >> 4);
}

inline int FifthBit(const uint8_t qh[4], int j) { return (qh[j / 8] >> (j % 8)) & 1; }

}  // namespace

void DequantizeQ4_0(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const auto block = LoadBlock<BlockQ4_0>(src, b);
    const float d = Fp16ToFloat(block.d);
    for (int j = 0; j < kQK; ++j)
      dst[b * kQK + j] = d * static_cast<float>(Nibble(block.qs, j) - 8);
  }
}

void DequantizeQ4_1(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const auto block = LoadBlock<BlockQ4_1>(src, b);
    const float d = Fp16ToFloat(block.d);
    const float m = Fp16ToFloat(block.m);
    for (int j = 0; j < kQK; ++j) {
      const float scaled = d * static_cast<float>(Nibble(block.qs, j));
      dst[b * kQK + j] = scaled + m;
    }
  }
}

void DequantizeQ5_0(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const auto block = LoadBlock<BlockQ5_0>(src, b);
    const float d = Fp16ToFloat(block.d);
    for (int j = 0; j < kQK; ++j) {
      const int q = Nibble(block.qs, j) | (FifthBit(block.qh, j) << 4);
      dst[b * kQK + j] = d * static_cast<float>(q - 16);
    }
  }
}

void DequantizeQ5_1(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const auto block = LoadBlock<BlockQ5_1>(src, b);
    const float d = Fp16ToFloat(block.d);
    const float m = Fp16ToFloat(block.m);
    for (int j = 0; j < kQK; ++j) {
      const int q = Nibble(block.qs, j) | (FifthBit(block.qh, j) << 4);
      const float scaled = d * static_cast<float>(q);
      dst[b * kQK + j] = scaled + m;
    }
  }
}

void DequantizeQ8_0(const void* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    const auto block = LoadBlock<BlockQ8_0>(src, b);
    const float d = Fp16ToFloat(block.d);
    for (int j = 0; j < kQK; ++j) dst[b * kQK + j] = d * static_cast<float>(block.qs[j]);
  }
}

}  // namespace kt::quant::ref
