// Pieces shared by the AVX2 and AVX-512 kernels of q4k_x8.h; included only
// by files compiled with at least -mavx2 -mfma -mf16c.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/quant/blocks.h"

namespace kt::cpu::x8 {

// Offsets inside one interleaved super-block (q4k_x8.h).
inline constexpr int kDmin = 16, kScales = 32, kQs = 128, kBlockBytes = 1152;

// Scales and mins of sub-blocks 0-3 and 4-7 of the 8 rows, one row per
// 32-bit lane, one sub-block per byte: the word-parallel form of
// GetScaleMinK4 applied to the three 32-bit words of each row's scales.
struct ScalesMins {
  __m256i sc03, sc47, mn03, mn47;
};

// w0, w1, w2: dwords 0, 1, 2 of each row's 12 scale bytes, one row per lane.
inline ScalesMins ScalesMinsFromWords(__m256i w0, __m256i w1, __m256i w2) {
  const __m256i low6 = _mm256_set1_epi8(63), low4 = _mm256_set1_epi8(15), low2 = _mm256_set1_epi8(3);
  ScalesMins r;
  r.sc03 = _mm256_and_si256(w0, low6);
  r.mn03 = _mm256_and_si256(w1, low6);
  r.sc47 = _mm256_or_si256(_mm256_and_si256(w2, low4),
                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(w0, 6), low2), 4));
  r.mn47 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), low4),
                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(w1, 6), low2), 4));
  return r;
}

inline ScalesMins UnpackScalesMins(const uint8_t* blk) {
  const __m256i row_words = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
  const auto* s = reinterpret_cast<const int*>(blk + kScales);
  return ScalesMinsFromWords(_mm256_i32gather_epi32(s, row_words, 4), _mm256_i32gather_epi32(s + 1, row_words, 4),
                             _mm256_i32gather_epi32(s + 2, row_words, 4));
}

// Per row: sum_j min_j * (sum of the activations of sub-block j).
inline __m256i MinProducts(const ScalesMins& s, const quant::BlockQ8_K& x) {
  int32_t bs[8];
  for (int j = 0; j < 8; ++j) bs[j] = x.bsums[2 * j] + x.bsums[2 * j + 1];
  auto pair = [&](int a, int b) {  // i16 pair (bs[a], bs[b]) in every lane
    return _mm256_set1_epi32(static_cast<int32_t>((static_cast<uint32_t>(bs[a]) & 0xffff) |
                                                  (static_cast<uint32_t>(bs[b]) << 16)));
  };
  const __m256i even = _mm256_set1_epi32(0x00ff00ff);
  __m256i m = _mm256_madd_epi16(_mm256_and_si256(s.mn03, even), pair(0, 2));
  m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_srli_epi16(s.mn03, 8), pair(1, 3)));
  m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_and_si256(s.mn47, even), pair(4, 6)));
  m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_srli_epi16(s.mn47, 8), pair(5, 7)));
  return m;
}

// Accumulates one super-block's result for the 8 rows.
inline void Finish(const uint8_t* blk, float xd, __m256i sumi, __m256i mins, __m256* acc,
                   __m256* acc_mins) {
  const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
  const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kDmin)));
  const __m256 xdv = _mm256_set1_ps(xd);
  *acc = _mm256_fmadd_ps(_mm256_mul_ps(d, xdv), _mm256_cvtepi32_ps(sumi), *acc);
  *acc_mins = _mm256_fmadd_ps(_mm256_mul_ps(dmin, xdv), _mm256_cvtepi32_ps(mins), *acc_mins);
}

inline __m256i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

}  // namespace kt::cpu::x8
