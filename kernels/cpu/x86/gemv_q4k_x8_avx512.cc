// AVX-512 VNNI kernel for Q4_K rows interleaved by 8 (q4k_x8.h). A 64-byte
// load holds two consecutive 32-byte chunks (4 qs bytes of each of the 8
// rows, twice); vpdpbusd against the matching activation words (spread to
// the two halves by one permute) advances all 8 rows by 8 elements, and the
// two halves are folded once per 64 elements.
#include <immintrin.h>

#include "kernels/cpu/q4k_x8.h"
#include "kernels/cpu/x86/gemv_q4k_x8_common.h"
#include "kernels/cpu/x86/prefetch.h"

namespace kt::cpu {
namespace {

using quant::BlockQ8_K;

// UnpackScalesMins without gathers (slow on AMD): the 96 scale bytes of the
// 8 rows are 24 dwords; one two-source permute per word picks dword 3r + i
// of every row r.
inline x8::ScalesMins UnpackScalesMins512(const uint8_t* blk) {
  const __m512i a = _mm512_loadu_si512(blk + x8::kScales);
  const __m512i b = _mm512_loadu_si512(blk + x8::kScales + 64);  // qs bytes past dword 23 are not used
  const __m512i idx0 = _mm512_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i w0 = _mm512_castsi512_si256(_mm512_permutex2var_epi32(a, idx0, b));
  const __m256i w1 = _mm512_castsi512_si256(_mm512_permutex2var_epi32(a, _mm512_add_epi32(idx0, _mm512_set1_epi32(1)), b));
  const __m256i w2 = _mm512_castsi512_si256(_mm512_permutex2var_epi32(a, _mm512_add_epi32(idx0, _mm512_set1_epi32(2)), b));
  return x8::ScalesMinsFromWords(w0, w1, w2);
}

// x8::MinProducts with the activation side vectorised: the 8 sub-block sums
// as i16 from two horizontal adds, then one dword permute per i16 pair.
inline __m256i MinProducts512(const x8::ScalesMins& s, const BlockQ8_K& x) {
  const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums));
  const __m128i sub = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
  // i16 order (0, 2), (1, 3), (4, 6), (5, 7): dwords 0-3 of `pairs`.
  const __m128i pairs = _mm_shuffle_epi8(sub, _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15));
  const __m256i p = _mm256_castsi128_si256(pairs);
  auto pair = [&](int i) { return _mm256_permutexvar_epi32(_mm256_set1_epi32(i), p); };
  const __m256i even = _mm256_set1_epi32(0x00ff00ff);
  __m256i m = _mm256_madd_epi16(_mm256_and_si256(s.mn03, even), pair(0));
  m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_srli_epi16(s.mn03, 8), pair(1)));
  m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_and_si256(s.mn47, even), pair(2)));
  m = _mm256_add_epi32(m, _mm256_madd_epi16(_mm256_srli_epi16(s.mn47, 8), pair(3)));
  return m;
}

inline __m256i Fold(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

void Gemv(int64_t n, const void* group, const void* act, float* y) {
  const auto* base = static_cast<const uint8_t*>(group);
  const auto* xb = static_cast<const BlockQ8_K*>(act);
  const __m512i m4 = _mm512_set1_epi8(15);
  // Lanes 0-7 take activation word 2p, lanes 8-15 word 2p + 1.
  __m512i word_pair[4];
  for (int p = 0; p < 4; ++p)
    word_pair[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * p)),
                                      _mm256_set1_epi32(2 * p + 1), 1);
  // pshufb masks that move byte jj of each 32-bit lane to its low byte.
  const __m256i spread = _mm256_setr_epi8(0, -128, -128, -128, 4, -128, -128, -128, 8, -128, -128, -128, 12,
                                          -128, -128, -128, 0, -128, -128, -128, 4, -128, -128, -128, 8, -128,
                                          -128, -128, 12, -128, -128, -128);
  __m256i pick[4];
  for (int jj = 0; jj < 4; ++jj) pick[jj] = _mm256_add_epi8(spread, _mm256_set1_epi8(static_cast<char>(jj)));
  __m256 acc = _mm256_setzero_ps(), acc_mins = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* blk = base + b * x8::kBlockBytes;
    PrefetchAhead(blk, x8::kBlockBytes / 64);
    const x8::ScalesMins sm = UnpackScalesMins512(blk);
    const int8_t* xq = xb[b].qs;
    __m256i sumi = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m512i x_lo = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * k)));
      const __m512i x_hi =
          _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * k + 32)));
      __m512i s_lo = _mm512_setzero_si512(), s_hi = _mm512_setzero_si512();
      for (int p = 0; p < 4; ++p) {
        const __m512i q = _mm512_loadu_si512(blk + x8::kQs + 32 * (8 * k + 2 * p));
        const __m512i lo = _mm512_and_si512(q, m4);
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        s_lo = _mm512_dpbusd_epi32(s_lo, lo, _mm512_permutexvar_epi32(word_pair[p], x_lo));
        s_hi = _mm512_dpbusd_epi32(s_hi, hi, _mm512_permutexvar_epi32(word_pair[p], x_hi));
      }
      const __m256i sc = k < 2 ? sm.sc03 : sm.sc47;
      const int j = (2 * k) % 4;
      sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(Fold(s_lo), _mm256_shuffle_epi8(sc, pick[j])));
      sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(Fold(s_hi), _mm256_shuffle_epi8(sc, pick[j + 1])));
    }
    x8::Finish(blk, xb[b].d, sumi, MinProducts512(sm, xb[b]), &acc, &acc_mins);
  }
  _mm256_storeu_ps(y, _mm256_sub_ps(acc, acc_mins));
}

}  // namespace

GemvQ4KX8Fn GemvQ4KX8Avx512() { return Gemv; }

}  // namespace kt::cpu
