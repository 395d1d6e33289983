#include "kernels/cpu/attend.h"

namespace kt::cpu {
namespace {

void MultiDot(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* q, int n_q,
              float* scores) {
  for (int g = 0; g < n_q; ++g)
    for (int64_t p = 0; p < n_pos; ++p) {
      const float* r = rows + p * row_stride;
      const float* qg = q + g * dim;
      float s = 0;
      for (int64_t i = 0; i < dim; ++i) s += qg[i] * r[i];
      scores[g * n_pos + p] = s;
    }
}

void WeightedSum(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* w, int n_q,
                 float* out) {
  for (int g = 0; g < n_q; ++g) {
    float* o = out + g * dim;
    for (int64_t i = 0; i < dim; ++i) o[i] = 0;
    for (int64_t p = 0; p < n_pos; ++p) {
      const float wp = w[g * n_pos + p];
      const float* r = rows + p * row_stride;
      for (int64_t i = 0; i < dim; ++i) o[i] += wp * r[i];
    }
  }
}

}  // namespace

AttendKernels AttendKernelsGeneric() { return {MultiDot, WeightedSum}; }

#if !(defined(__x86_64__) || defined(_M_X64))
AttendKernels AttendKernelsAvx512() { return {nullptr, nullptr}; }
#endif

AttendKernels GetAttendKernels(Isa isa) {
  if (isa >= Isa::kAvx512)
    if (AttendKernels k = AttendKernelsAvx512(); k.multi_dot != nullptr) return k;
  return AttendKernelsGeneric();
}

}  // namespace kt::cpu
