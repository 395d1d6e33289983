// Plain scalar dot kernels: the reference the SIMD versions are tested against.
#include <cstring>

#include "kernels/cpu/vec_dot.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"

namespace kt::cpu {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4_K;
using quant::BlockQ5_0;
using quant::BlockQ5_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_K;
using quant::Fp16ToFloat;

float DotF32(int64_t n, const void* w, const void* x) {
  const float* a = static_cast<const float*>(w);
  const float* b = static_cast<const float*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float DotF16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const float* b = static_cast<const float*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Fp16ToFloat(a[i]) * b[i];
  return sum;
}

float DotBF16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const float* b = static_cast<const float*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += quant::Bf16ToFloat(a[i]) * b[i];
  return sum;
}

float DotQ8_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ8_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t acc = 0;
    for (int i = 0; i < 32; ++i) acc += wb[b].qs[i] * xb[b].qs[i];
    sum += Fp16ToFloat(wb[b].d) * xb[b].d * static_cast<float>(acc);
  }
  return sum;
}

float DotQ4_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t acc = 0;
    for (int i = 0; i < 16; ++i) {
      acc += (wb[b].qs[i] & 15) * xb[b].qs[i];
      acc += (wb[b].qs[i] >> 4) * xb[b].qs[i + 16];
    }
    acc -= 8 * xb[b].sum;
    sum += Fp16ToFloat(wb[b].d) * xb[b].d * static_cast<float>(acc);
  }
  return sum;
}

float DotQ5_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_0*>(w);
  const auto* xb = static_cast<const ActQ8_32*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    uint32_t qh;
    std::memcpy(&qh, wb[b].qh, 4);
    int32_t acc = 0;
    for (int i = 0; i < 16; ++i) {
      int lo = (wb[b].qs[i] & 15) | (((qh >> i) & 1) << 4);
      int hi = (wb[b].qs[i] >> 4) | (((qh >> (i + 16)) & 1) << 4);
      acc += lo * xb[b].qs[i] + hi * xb[b].qs[i + 16];
    }
    acc -= 16 * xb[b].sum;
    sum += Fp16ToFloat(wb[b].d) * xb[b].d * static_cast<float>(acc);
  }
  return sum;
}

float DotQ4_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ4_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / 256; ++b) {
    int32_t acc = 0, mins = 0;
    for (int j = 0; j < 8; ++j) {
      const quant::ScaleMin sm = quant::GetScaleMinK4(j, wb[b].scales);
      const uint8_t* q = wb[b].qs + 32 * (j / 2);
      const int shift = (j & 1) ? 4 : 0;
      int32_t sub = 0;
      for (int l = 0; l < 32; ++l) sub += ((q[l] >> shift) & 15) * xb[b].qs[32 * j + l];
      acc += sm.scale * sub;
      mins += sm.min * (xb[b].bsums[2 * j] + xb[b].bsums[2 * j + 1]);
    }
    sum += xb[b].d * (Fp16ToFloat(wb[b].d) * static_cast<float>(acc) -
                      Fp16ToFloat(wb[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

float DotQ5_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ5_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / 256; ++b) {
    int32_t acc = 0, mins = 0;
    for (int j = 0; j < 8; ++j) {
      const quant::ScaleMin sm = quant::GetScaleMinK4(j, wb[b].scales);
      const uint8_t* q = wb[b].qs + 32 * (j / 2);
      const int shift = (j & 1) ? 4 : 0;
      int32_t sub = 0;
      for (int l = 0; l < 32; ++l) {
        int v = ((q[l] >> shift) & 15) | (((wb[b].qh[l] >> j) & 1) << 4);
        sub += v * xb[b].qs[32 * j + l];
      }
      acc += sm.scale * sub;
      mins += sm.min * (xb[b].bsums[2 * j] + xb[b].bsums[2 * j + 1]);
    }
    sum += xb[b].d * (Fp16ToFloat(wb[b].d) * static_cast<float>(acc) -
                      Fp16ToFloat(wb[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

float DotQ6_K(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockQ6_K*>(w);
  const auto* xb = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t b = 0; b < n / 256; ++b) {
    int32_t acc = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = wb[b].ql + 64 * h;
      const uint8_t* qh = wb[b].qh + 32 * h;
      for (int c = 0; c < 4; ++c) {
        for (int l = 0; l < 32; ++l) {
          const int lo = (c & 1) ? ql[l + 32] : ql[l];
          const int q = (((c < 2) ? lo & 15 : lo >> 4) | (((qh[l] >> (2 * c)) & 3) << 4)) - 32;
          const int e = 128 * h + 32 * c + l;
          acc += wb[b].scales[e / 16] * q * xb[b].qs[e];
        }
      }
    }
    sum += Fp16ToFloat(wb[b].d) * xb[b].d * static_cast<float>(acc);
  }
  return sum;
}

}  // namespace

VecDotFn GetVecDotGeneric(quant::GgmlType t) {
  using quant::GgmlType;
  switch (t) {
    case GgmlType::kF32: return DotF32;
    case GgmlType::kF16: return DotF16;
    case GgmlType::kBF16: return DotBF16;
    case GgmlType::kQ8_0: return DotQ8_0;
    case GgmlType::kQ4_0: return DotQ4_0;
    case GgmlType::kQ5_0: return DotQ5_0;
    case GgmlType::kQ4_K: return DotQ4_K;
    case GgmlType::kQ5_K: return DotQ5_K;
    case GgmlType::kQ6_K: return DotQ6_K;
    default: return nullptr;
  }
}

VecDotFn GetVecDot(quant::GgmlType t, Isa isa) {
  if (isa >= Isa::kAvx512)
    if (VecDotFn f = GetVecDotAvx512(t)) return f;
  if (isa >= Isa::kAvx2)
    if (VecDotFn f = GetVecDotAvx2(t)) return f;
  return GetVecDotGeneric(t);
}

}  // namespace kt::cpu
