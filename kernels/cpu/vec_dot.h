// Dot products between one row of quantised weights and an activation vector,
// the inner loop of every CPU matrix-vector product (expert FFNs above all).
//
// Integer formats follow the usual recipe: the activation is quantised once
// per token to 8-bit blocks (ActQ8_32 for 32-element weight blocks, Q8_K for
// 256-element K-quant blocks), and each weight block is multiplied in integer
// arithmetic and scaled once. Float weight types take float activations.
//
// Every kernel has a plain `generic` version (the test reference) and, where
// it pays, AVX2 and AVX-512 (VNNI) versions in x86/. GetVecDot picks one per
// weight type once; the hot loops never branch on the ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_features.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/ggml_type.h"

namespace kt::cpu {

// Activation block for Q4_0/Q5_0/Q8_0 weights: x[i] ~= d * qs[i]; `sum` is
// the sum of qs, which folds the weights' zero points out of the inner loop.
struct ActQ8_32 {
  float d;
  int32_t sum;
  int8_t qs[32];
};
static_assert(sizeof(ActQ8_32) == 40);

enum class ActFormat { kF32, kQ8_32, kQ8_256 };

// The activation format the kernels for `weight_type` consume.
ActFormat ActFormatFor(quant::GgmlType weight_type);
// Bytes needed to hold `n` activations in `format` (n a multiple of its block).
size_t ActBytes(ActFormat format, int64_t n);
// Converts `n` floats to `format` at `out` (ActBytes(format, n) bytes).
void QuantizeActivation(ActFormat format, const float* x, int64_t n, void* out);

// Returns sum_i w[i] * x[i] over `n` elements of one weight row.
using VecDotFn = float (*)(int64_t n, const void* weight_row, const void* act);

// The kernel for `weight_type` of family `isa`, or of the best lower family
// that has one. nullptr when kt has no CPU kernel for the type at all.
VecDotFn GetVecDot(quant::GgmlType weight_type, Isa isa);

// Per-family tables, defined in vec_dot_generic.cc and x86/*.cc; an entry is
// nullptr when that family has no specialised kernel for the type.
VecDotFn GetVecDotGeneric(quant::GgmlType weight_type);
VecDotFn GetVecDotAvx2(quant::GgmlType weight_type);
VecDotFn GetVecDotAvx512(quant::GgmlType weight_type);

}  // namespace kt::cpu
