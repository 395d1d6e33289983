// AVX2 + FMA + F16C dot kernels. Compiled with -mavx2 -mfma -mf16c; only
// called after HostSupports(Isa::kAvx2) said yes.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/vec_dot.h"
#include "kernels/cpu/x86/prefetch.h"
#include "kernels/cpu/x86/q4k_common.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"

namespace kt::cpu {
namespace {

// F16C conversion: the portable quant::Fp16ToFloat costs a branchy software
// sequence per block, which shows up in memory-bound loops.
inline float Fp16ToFloat(uint16_t h) { return _cvtsh_ss(h); }

using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_K;

inline float HorizontalSum(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Sum of u8 x s8 products, pairwise into i16 then into eight i32 lanes.
inline __m256i DotU8S8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// 32 bytes, byte i = 0xFF when bit i of `bits` is set.
inline __m256i BytesFromBits(uint32_t bits) {
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                         0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

float DotF32(int64_t n, const void* w, const void* x) {
  const float* a = static_cast<const float*>(w);
  const float* b = static_cast<const float*>(x);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    PrefetchAhead(a + i);
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  float sum = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float DotF16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const float* b = static_cast<const float*>(x);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 wa = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    acc = _mm256_fmadd_ps(wa, _mm256_loadu_ps(b + i), acc);
  }
  float sum = HorizontalSum(acc);
  for (; i < n; ++i) sum += Fp16ToFloat(a[i]) * b[i];
  return sum;
}

float DotQ8_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ8_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    PrefetchAhead(&wb[b]);
    const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    // maddubs wants one unsigned operand: move w's sign onto x.
    const __m256i dot = DotU8S8(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
    const __m256 scale = _mm256_set1_ps(Fp16ToFloat(wb[b].d) * xb[b].d);
    acc = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot), acc);
  }
  return HorizontalSum(acc);
}

float DotQ5_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  const __m128i low_mask = _mm_set1_epi8(15);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0;  // the -16 zero point, folded out via the activation sums
  for (int64_t b = 0; b < n / 32; ++b) {
    PrefetchAhead(&wb[b]);
    const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb[b].qs));
    const __m256i nibbles = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), low_mask),
                                             _mm_and_si128(qs, low_mask));
    uint32_t qh;
    std::memcpy(&qh, wb[b].qh, 4);
    const __m256i high = _mm256_and_si256(BytesFromBits(qh), _mm256_set1_epi8(16));
    const __m256i q = _mm256_or_si256(nibbles, high);  // 0..31
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256i dot = DotU8S8(q, qx);
    const float scale = Fp16ToFloat(wb[b].d) * xb[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(dot), acc);
    offsets += 16.0f * scale * static_cast<float>(xb[b].sum);
  }
  return HorizontalSum(acc) - offsets;
}

float DotQ4_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i low_mask = _mm256_set1_epi8(15);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_mins = _mm_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    PrefetchAhead(&wb[b], 3);
    uint8_t sc[8];
    const __m128i min_products = Q4KScalesAndMinProducts(wb[b], xb[b], sc);
    __m256i sumi = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs + 32 * k));
      const __m256i lo = _mm256_and_si256(q4, low_mask);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), low_mask);
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs + 64 * k));
      const __m256i x1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs + 64 * k + 32));
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x0), _mm256_set1_epi16(sc[2 * k]));
      const __m256i p1 =
          _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x1), _mm256_set1_epi16(sc[2 * k + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    const float d = Fp16ToFloat(wb[b].d) * xb[b].d;
    const float dmin = Fp16ToFloat(wb[b].dmin) * xb[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    acc_mins = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_products), acc_mins);
  }
  return HorizontalSum(acc) - HorizontalSum128(acc_mins);
}

float DotQ6_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i m4 = _mm256_set1_epi8(15);
  const __m256i m2 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0;
  for (int64_t b = 0; b < n / 256; ++b) {
    PrefetchAhead(&wb[b], 4);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].ql + 64 * h));
      const __m256i ql1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qh + 32 * h));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, m4),
                          _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
      };
      for (int c = 0; c < 4; ++c) {
        const int s = 8 * h + 2 * c;
        const __m256i xq =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs + 128 * h + 32 * c));
        const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(wb[b].scales[s + 1]),
                                                _mm_set1_epi16(wb[b].scales[s]));
        sumi = _mm256_add_epi32(sumi,
                                _mm256_madd_epi16(_mm256_maddubs_epi16(q[c], xq), scales));
      }
    }
    // The 6-bit values are stored +32; take 32 * sum(scale * x) back out.
    int32_t offset = 0;
    for (int g = 0; g < 16; ++g) offset += wb[b].scales[g] * xb[b].bsums[g];
    const float d = Fp16ToFloat(wb[b].d) * xb[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    offsets += 32.0f * d * static_cast<float>(offset);
  }
  return HorizontalSum(acc) - offsets;
}

}  // namespace

VecDotFn GetVecDotAvx2(quant::GgmlType t) {
  using quant::GgmlType;
  switch (t) {
    case GgmlType::kF32: return DotF32;
    case GgmlType::kF16: return DotF16;
    case GgmlType::kQ8_0: return DotQ8_0;
    case GgmlType::kQ5_0: return DotQ5_0;
    case GgmlType::kQ4_K: return DotQ4_K;
    case GgmlType::kQ6_K: return DotQ6_K;
    default: return nullptr;
  }
}

}  // namespace kt::cpu
