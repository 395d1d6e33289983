// Per-type reference row kernels behind DequantizeRow / QuantizeRow (quant.h).
// Callers have already checked that `n` is a positive multiple of the type's
// block size; `src`/`dst` block memory may have any alignment.
#pragma once

#include <cstdint>

namespace kt::quant::ref {

// float_formats.cc
void DequantizeF32(const void* src, float* dst, int64_t n);
void DequantizeF16(const void* src, float* dst, int64_t n);
void DequantizeBF16(const void* src, float* dst, int64_t n);
void QuantizeF32(const float* src, void* dst, int64_t n);
void QuantizeF16(const float* src, void* dst, int64_t n);
void QuantizeBF16(const float* src, void* dst, int64_t n);

// dequantize_legacy.cc
void DequantizeQ4_0(const void* src, float* dst, int64_t n);
void DequantizeQ4_1(const void* src, float* dst, int64_t n);
void DequantizeQ5_0(const void* src, float* dst, int64_t n);
void DequantizeQ5_1(const void* src, float* dst, int64_t n);
void DequantizeQ8_0(const void* src, float* dst, int64_t n);

// dequantize_k.cc
void DequantizeQ4_K(const void* src, float* dst, int64_t n);
void DequantizeQ5_K(const void* src, float* dst, int64_t n);
void DequantizeQ6_K(const void* src, float* dst, int64_t n);

// quantize_legacy.cc
void QuantizeQ4_0(const float* src, void* dst, int64_t n);
void QuantizeQ5_0(const float* src, void* dst, int64_t n);
void QuantizeQ8_0(const float* src, void* dst, int64_t n);

// quantize_k.cc
void QuantizeQ4_K(const float* src, void* dst, int64_t n);
void QuantizeQ6_K(const float* src, void* dst, int64_t n);

}  // namespace kt::quant::ref
