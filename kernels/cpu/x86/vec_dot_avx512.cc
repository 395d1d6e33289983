// AVX-512 (F, BW, VL, VNNI) dot kernels: vpdpbusd multiplies unsigned by
// signed bytes and accumulates into 32-bit lanes in one instruction. Types
// without a kernel here use the AVX2 ones. Compiled with the matching -m flags;
// only called after HostSupports(Isa::kAvx512) said yes.
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

// Two Q8_0 blocks per vpdpbusd. vpdpbusd needs one unsigned operand: w + 128
// is, and the 128 * sum(x) it adds comes back out with a second vpdpbusd of
// the constant 128 against x, in exact integer arithmetic.
inline __m512i LoadPair(const void* a, const void* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(static_cast<const __m256i*>(a))),
                            _mm256_loadu_si256(static_cast<const __m256i*>(b)), 1);
}

// Lanes 0-7 get s0, lanes 8-15 s1.
inline __m512 PairScale(float s0, float s1) {
  return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
}

float DotQ8_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ8_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  const int64_t nb = n / 32;
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    PrefetchAhead(&wb[b]);
    const __m512i qw = _mm512_xor_si512(LoadPair(wb[b].qs, wb[b + 1].qs), bias);
    const __m512i qx = LoadPair(xb[b].qs, xb[b + 1].qs);
    const __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), qw, qx),
                                         _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, qx));
    const __m512 scale = PairScale(Fp16ToFloat(wb[b].d) * xb[b].d, Fp16ToFloat(wb[b + 1].d) * xb[b + 1].d);
    acc = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dot), acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  if (b < nb) sum += GetVecDotAvx2(quant::GgmlType::kQ8_0)(32, &wb[b], &xb[b]);
  return sum;
}

float DotQ4_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i low_mask = _mm256_set1_epi8(15);
  __m512 acc = _mm512_setzero_ps();
  __m128 acc_mins = _mm_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    PrefetchAhead(&wb[b], 3);
    uint8_t sc[8];
    const __m128i min_products = Q4KScalesAndMinProducts(wb[b], xb[b], sc);
    // Per 64 values: one vpdpbusd; lanes 0-7 are sub-block 2k, 8-15 2k+1.
    __m512i sumi = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
      const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs + 32 * k));
      const __m512i q = _mm512_inserti64x4(_mm512_zextsi256_si512(_mm256_and_si256(q4, low_mask)),
                                           _mm256_and_si256(_mm256_srli_epi16(q4, 4), low_mask), 1);
      const __m512i xq = _mm512_loadu_si512(xb[b].qs + 64 * k);
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, xq);
      const __m512i scale = _mm512_inserti64x4(_mm512_set1_epi32(sc[2 * k]), _mm256_set1_epi32(sc[2 * k + 1]), 1);
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot, scale));
    }
    const float d = Fp16ToFloat(wb[b].d) * xb[b].d;
    const float dmin = Fp16ToFloat(wb[b].dmin) * xb[b].d;
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    acc_mins = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_products), acc_mins);
  }
  return _mm512_reduce_add_ps(acc) - HorizontalSum128(acc_mins);
}


// Two Q5_0 blocks per step from one 44-byte load, [d qh[4] qs[16]] twice.
// Word permutes (AVX512BW) spread the two blocks' qs into one zmm of 64
// nibbles in element order and their two f16 scales over 8 lanes each; the
// fifth bits come straight from memory into a 64-bit mask register. One
// vpdpbusd then covers both blocks.
inline __mmask32 LoadMask32(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  return bits;
}

float DotQ5_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  static_assert(sizeof(BlockQ5_0) == 22);
  const int64_t nb = n / 32;
  const __m512i m4 = _mm512_set1_epi8(15);
  const __m512i sixteen = _mm512_set1_epi8(16);
  // Words 3-10 hold block 0's qs, 14-21 block 1's; each is taken twice,
  // the second copy for the high nibbles.
  const __m512i qs_words = _mm512_setr_epi32(0x00040003, 0x00060005, 0x00080007, 0x000a0009, 0x00040003, 0x00060005,
                                             0x00080007, 0x000a0009, 0x000f000e, 0x00110010, 0x00130012, 0x00150014,
                                             0x000f000e, 0x00110010, 0x00130012, 0x00150014);
  // Word 0 is block 0's scale, word 11 block 1's.
  const __m512i d_words = _mm512_setr_epi32(0, 0, 0, 0, 0x000b000b, 0x000b000b, 0x000b000b, 0x000b000b, 0, 0, 0, 0, 0,
                                            0, 0, 0);
  constexpr __mmask32 kHighNibbleWords = 0xFF00FF00;
  constexpr __mmask64 kTwoBlocks = (__mmask64{1} << 44) - 1;
  __m512 acc = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    PrefetchAhead(&wb[b]);
    const __m512i raw = _mm512_maskz_loadu_epi8(kTwoBlocks, &wb[b]);
    __m512i q = _mm512_permutexvar_epi16(qs_words, raw);
    q = _mm512_and_si512(_mm512_mask_srli_epi16(q, kHighNibbleWords, q, 4), m4);
    const __mmask64 fifth = _mm512_kunpackd(LoadMask32(wb[b + 1].qh), LoadMask32(wb[b].qh));
    q = _mm512_mask_add_epi8(q, fifth, q, sixteen);
    const __m512i xq = LoadPair(xb[b].qs, xb[b + 1].qs);
    // The -16 zero point: subtract 16 * sum(x) per lane group, in integers.
    const __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q, xq),
                                         _mm512_dpbusd_epi32(_mm512_setzero_si512(), sixteen, xq));
    const __m512 wd = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(d_words, raw)));
    const __m512 scale = _mm512_mul_ps(wd, PairScale(xb[b].d, xb[b + 1].d));
    acc = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(dot), acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  if (b < nb) sum += GetVecDotAvx2(quant::GgmlType::kQ5_0)(32, &wb[b], &xb[b]);
  return sum;
}

// Q6_K, 64 values per vpdpbusd. Each half-block of 128 values is ql (64
// bytes: low nibbles give values 0-63, high nibbles 64-127) plus 32 qh bytes
// holding two bits per value; the 256-bit halves of a zmm take different
// qh shifts (variable shifts), so one broadcast of qh serves both. The
// 6-bit values are stored +32; 32 * sum(scale * x) is taken back out with
// the activation's 16-element sums, which match Q6_K's sub-blocks.
float DotQ6_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
  // i16 lanes: low half shift a, high half shift b.
  const __m512i shl_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i shr_b = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
  // Lane i takes the scale of sub-block 4j + i / 4 for the j-th 64 values.
  __m512i scale_idx[4];
  for (int j = 0; j < 4; ++j)
    scale_idx[j] = _mm512_add_epi32(_mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                                          13, 14, 15), 2),
                                    _mm512_set1_epi32(4 * j));
  __m512 acc = _mm512_setzero_ps();
  __m256 acc_off = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 256; ++b) {
    PrefetchAhead(&wb[b], 4);
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb[b].scales));
    const __m512i sc = _mm512_cvtepi8_epi32(sc8);
    __m512i sumi = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(wb[b].ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qh + 32 * h)));
      // Values 0-63: bits 0-1 (low half) and 2-3 (high half) of qh to bits 4-5.
      const __m512i hi_a = _mm512_and_si512(_mm512_sllv_epi16(qh, shl_a), m30);
      // Values 64-127: bits 4-5 and 6-7 of qh to bits 4-5.
      const __m512i hi_b = _mm512_and_si512(_mm512_srlv_epi16(qh, shr_b), m30);
      const __m512i q_a = _mm512_ternarylogic_epi32(ql, m4, hi_a, 0xEA);  // (ql & m4) | hi_a
      const __m512i q_b = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), m4, hi_b, 0xEA);
      const __m512i x_a = _mm512_loadu_si512(xb[b].qs + 128 * h);
      const __m512i x_b = _mm512_loadu_si512(xb[b].qs + 128 * h + 64);
      const __m512i d_a = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q_a, x_a);
      const __m512i d_b = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q_b, x_b);
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(d_a, _mm512_permutexvar_epi32(scale_idx[2 * h], sc)));
      sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(d_b, _mm512_permutexvar_epi32(scale_idx[2 * h + 1], sc)));
    }
    const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8),
                                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].bsums)));
    const float d = Fp16ToFloat(wb[b].d) * xb[b].d;
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    acc_off = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * d), _mm256_cvtepi32_ps(off), acc_off);
  }
  const __m128 off = _mm_add_ps(_mm256_castps256_ps128(acc_off), _mm256_extractf128_ps(acc_off, 1));
  return _mm512_reduce_add_ps(acc) - HorizontalSum128(off);
}

}  // namespace

VecDotFn GetVecDotAvx512(quant::GgmlType t) {
  using quant::GgmlType;
  switch (t) {
    case GgmlType::kQ8_0: return DotQ8_0;
    case GgmlType::kQ4_K: return DotQ4_K;
    case GgmlType::kQ5_0: return DotQ5_0;
    case GgmlType::kQ6_K: return DotQ6_K;
    default: return nullptr;
  }
}

}  // namespace kt::cpu
