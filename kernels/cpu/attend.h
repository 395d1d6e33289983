// Float kernels for MLA decode attention over the latent cache, several
// heads at once. MLA shares one cache row [latent | k_pe] between all
// heads; scoring head by head re-reads the whole cache once per head (16x
// per layer for V2-Lite), so these take a group of heads per pass over it.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace kt::cpu {

// scores[g * n_pos + p] = sum_i q[g * dim + i] * rows[p * row_stride + i]
// for g < n_q, p < n_pos.
using MultiDotFn = void (*)(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* q,
                            int n_q, float* scores);

// out[g * dim + i] = sum_p w[g * n_pos + p] * rows[p * row_stride + i]
// for g < n_q, i < dim.
using WeightedSumFn = void (*)(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* w,
                               int n_q, float* out);

struct AttendKernels {
  MultiDotFn multi_dot;
  WeightedSumFn weighted_sum;
};

// The kernels for `isa` or the best lower family that has them.
AttendKernels GetAttendKernels(Isa isa);

AttendKernels AttendKernelsGeneric();
// {nullptr, nullptr} where the family has none (and off x86).
AttendKernels AttendKernelsAvx512();

}  // namespace kt::cpu
