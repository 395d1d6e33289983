// Per-block pieces of the Q4_K x Q8_K dot shared by the AVX2 and AVX-512
// kernels (both translation units are compiled with AVX2 enabled).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/k_scales.h"

namespace kt::cpu {

// Unpacks the block's eight sub-block scales into `scale` and returns, in
// four i32 lanes, the partial sums of sum_j min_j * (sum of the activations
// of sub-block j): the 16 bsums pair up into the 8 sub-block sums.
inline __m128i Q4KScalesAndMinProducts(const quant::BlockQ4_K& w, const quant::BlockQ8_K& x, uint8_t scale[8]) {
  uint8_t min[8];
  quant::UnpackScalesMinsK4(w.scales, scale, min);
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
  const __m128i sub_sums = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
  uint64_t mins8;
  std::memcpy(&mins8, min, 8);
  const __m128i mins = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(mins8)));
  return _mm_madd_epi16(mins, sub_sums);
}

inline float HorizontalSum128(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

}  // namespace kt::cpu
