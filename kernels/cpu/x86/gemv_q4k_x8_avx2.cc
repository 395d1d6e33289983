// AVX2 kernel for Q4_K rows interleaved by 8 (q4k_x8.h). Each 32-byte load
// holds 4 qs bytes of each of the 8 rows, so one maddubs against the 4
// activation bytes broadcast to every 32-bit lane advances all 8 rows.
#include <immintrin.h>

#include "kernels/cpu/q4k_x8.h"
#include "kernels/cpu/x86/gemv_q4k_x8_common.h"
#include "kernels/cpu/x86/prefetch.h"

namespace kt::cpu {
namespace {

using quant::BlockQ8_K;

void Gemv(int64_t n, const void* group, const void* act, float* y) {
  const auto* base = static_cast<const uint8_t*>(group);
  const auto* xb = static_cast<const BlockQ8_K*>(act);
  const __m256i m4 = _mm256_set1_epi8(15);
  // pshufb masks that spread byte jj of each 32-bit lane to both i16 halves.
  const __m256i spread = _mm256_setr_epi8(0, -128, 0, -128, 4, -128, 4, -128, 8, -128, 8, -128, 12, -128, 12,
                                          -128, 0, -128, 0, -128, 4, -128, 4, -128, 8, -128, 8, -128, 12, -128,
                                          12, -128);
  __m256i pick[4];
  for (int jj = 0; jj < 4; ++jj) pick[jj] = _mm256_add_epi8(spread, _mm256_set1_epi8(static_cast<char>(jj)));
  __m256 acc = _mm256_setzero_ps(), acc_mins = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* blk = base + b * x8::kBlockBytes;
    PrefetchAhead(blk, x8::kBlockBytes / 64);
    const x8::ScalesMins sm = x8::UnpackScalesMins(blk);
    const int8_t* xq = xb[b].qs;
    __m256i sumi = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      // i16 partial sums stay below 8 * 2 * 15 * 128 = 30720: no overflow.
      __m256i s_lo = _mm256_setzero_si256(), s_hi = _mm256_setzero_si256();
      for (int l4 = 0; l4 < 8; ++l4) {
        const __m256i q =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + x8::kQs + 32 * (8 * k + l4)));
        const __m256i lo = _mm256_and_si256(q, m4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        s_lo = _mm256_add_epi16(s_lo, _mm256_maddubs_epi16(lo, x8::Broadcast4(xq + 64 * k + 4 * l4)));
        s_hi = _mm256_add_epi16(s_hi, _mm256_maddubs_epi16(hi, x8::Broadcast4(xq + 64 * k + 32 + 4 * l4)));
      }
      const __m256i sc = k < 2 ? sm.sc03 : sm.sc47;
      const int j = (2 * k) % 4;
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(s_lo, _mm256_shuffle_epi8(sc, pick[j])));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(s_hi, _mm256_shuffle_epi8(sc, pick[j + 1])));
    }
    x8::Finish(blk, xb[b].d, sumi, x8::MinProducts(sm, xb[b]), &acc, &acc_mins);
  }
  _mm256_storeu_ps(y, _mm256_sub_ps(acc, acc_mins));
}

}  // namespace

GemvQ4KX8Fn GemvQ4KX8Avx2() { return Gemv; }

}  // namespace kt::cpu
