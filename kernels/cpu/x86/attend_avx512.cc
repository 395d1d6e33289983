// AVX-512 kernels of attend.h. Heads go in groups of up to 8 with one
// accumulator each (8 independent FMA chains keep both FMA pipes busy), so
// every 16 floats of a cache row are loaded once per group; a masked tail
// covers dims that are not a multiple of 16.
#include <immintrin.h>

#include "kernels/cpu/attend.h"
#include "kernels/cpu/x86/prefetch.h"

namespace kt::cpu {
namespace {

inline __mmask16 TailMask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

template <int NQ>
void MultiDotGroup(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* q,
                   float* scores) {
  for (int64_t p = 0; p < n_pos; ++p) {
    const float* r = rows + p * row_stride;
    __m512 acc[NQ];
    for (int g = 0; g < NQ; ++g) acc[g] = _mm512_setzero_ps();
    for (int64_t i = 0; i < dim; i += 16) {
      // The cache of all layers outgrows the L3; rows are read in order, so
      // fetch ahead like the weight kernels do (x86/prefetch.h).
      PrefetchAhead(r + i);
      const __mmask16 m = TailMask(dim - i);
      const __m512 x = _mm512_maskz_loadu_ps(m, r + i);
      for (int g = 0; g < NQ; ++g) acc[g] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, q + g * dim + i), acc[g]);
    }
    for (int g = 0; g < NQ; ++g) scores[g * n_pos + p] = _mm512_reduce_add_ps(acc[g]);
  }
}

void MultiDot(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* q, int n_q,
              float* scores) {
  int g = 0;
  for (; g + 8 <= n_q; g += 8) MultiDotGroup<8>(rows, n_pos, row_stride, dim, q + g * dim, scores + g * n_pos);
  for (; g + 4 <= n_q; g += 4) MultiDotGroup<4>(rows, n_pos, row_stride, dim, q + g * dim, scores + g * n_pos);
  for (; g < n_q; ++g) MultiDotGroup<1>(rows, n_pos, row_stride, dim, q + g * dim, scores + g * n_pos);
}

template <int NQ>
void WeightedSumGroup(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* w,
                      float* out) {
  for (int64_t i = 0; i < dim; i += 16) {
    const __mmask16 m = TailMask(dim - i);
    __m512 acc[NQ];
    for (int g = 0; g < NQ; ++g) acc[g] = _mm512_setzero_ps();
    for (int64_t p = 0; p < n_pos; ++p) {
      const __m512 x = _mm512_maskz_loadu_ps(m, rows + p * row_stride + i);
      for (int g = 0; g < NQ; ++g) acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(w[g * n_pos + p]), x, acc[g]);
    }
    for (int g = 0; g < NQ; ++g) _mm512_mask_storeu_ps(out + g * dim + i, m, acc[g]);
  }
}

void WeightedSum(const float* rows, int64_t n_pos, int64_t row_stride, int64_t dim, const float* w, int n_q,
                 float* out) {
  int g = 0;
  for (; g + 8 <= n_q; g += 8) WeightedSumGroup<8>(rows, n_pos, row_stride, dim, w + g * n_pos, out + g * dim);
  for (; g + 4 <= n_q; g += 4) WeightedSumGroup<4>(rows, n_pos, row_stride, dim, w + g * n_pos, out + g * dim);
  for (; g < n_q; ++g) WeightedSumGroup<1>(rows, n_pos, row_stride, dim, w + g * n_pos, out + g * dim);
}

}  // namespace

AttendKernels AttendKernelsAvx512() { return {MultiDot, WeightedSum}; }

}  // namespace kt::cpu
