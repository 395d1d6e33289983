// Reference (scalar, readable) quantize and dequantize for ggml block formats.
// These are the yardstick the optimized kernels are tested against, and they
// are bit-exact with the `gguf` Python package's dequantizers.
#pragma once

#include <cstdint>

#include "kernels/quant/ggml_type.h"

namespace kt::quant {

// Dequantizes `n` elements stored as `type` blocks at `src` into `dst`.
// Returns false when kt has no dequantizer for `type` or `n` is not a
// multiple of the type's block size (nothing is written then).
bool DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);

// Quantizes `n` floats into RowBytes(type, n) bytes at `dst`, choosing scales
// the way llama.cpp's reference quantizers do. Returns false when kt has no
// quantizer for `type` or `n` is not a multiple of the block size.
bool QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace kt::quant
