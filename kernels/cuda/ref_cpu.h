// Plain CPU references for the GPU tests, written from FORMATS.md (and
// cross-checked against the gguf package by scripts/gpu-check.sh's host step).
// Host-only; float32/double arithmetic.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace kt_cuda_ref {

inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 31, mant = h & 1023;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = std::ldexp(static_cast<float>(mant | 1024), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}
inline uint16_t FloatToHalf(float f) {  // round to nearest even, finite inputs
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000;
  float a = std::fabs(f);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7c00);
  if (a < 6.103515625e-05f) {  // subnormal half
    const uint32_t m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    return static_cast<uint16_t>(sign | m);
  }
  int e;
  const float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  uint32_t mant = static_cast<uint32_t>(std::nearbyint(m * 2048.0f));  // 11 bits
  if (mant == 2048) { mant = 1024; ++e; }
  return static_cast<uint16_t>(sign | ((e + 14) << 10) | (mant & 1023));
}
inline float Bf16ToFloat(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t FloatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline void ScaleMin(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Dequantises one row of `k` values; returns false for unknown types.
inline bool DequantRow(int type, const uint8_t* src, float* dst, int k) {
  switch (type) {
    case 0: std::memcpy(dst, src, 4 * static_cast<size_t>(k)); return true;
    case 1: case 30:
      for (int i = 0; i < k; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = type == 1 ? HalfToFloat(h) : Bf16ToFloat(h);
      }
      return true;
    case 8:
      for (int b = 0; b < k / 32; ++b) {
        const uint8_t* p = src + 34 * b;
        uint16_t dh;
        std::memcpy(&dh, p, 2);
        const float d = HalfToFloat(dh);
        for (int i = 0; i < 32; ++i) dst[32 * b + i] = d * static_cast<float>(static_cast<int8_t>(p[2 + i]));
      }
      return true;
    case 12: case 13:
      for (int b = 0; b < k / 256; ++b) {
        const uint8_t* p = src + (type == 12 ? 144 : 176) * b;
        uint16_t dh, mh;
        std::memcpy(&dh, p, 2);
        std::memcpy(&mh, p + 2, 2);
        const float d = HalfToFloat(dh), dmin = HalfToFloat(mh);
        const uint8_t* sc = p + 4;
        const uint8_t* qh = p + 16;
        const uint8_t* qs = p + (type == 12 ? 16 : 48);
        float* y = dst + 256 * b;
        for (int j = 0; j < 4; ++j) {
          int s0, m0, s1, m1;
          ScaleMin(2 * j, sc, &s0, &m0);
          ScaleMin(2 * j + 1, sc, &s1, &m1);
          const float d1 = d * s0, mm1 = dmin * m0, d2 = d * s1, mm2 = dmin * m1;
          for (int l = 0; l < 32; ++l) {
            int lo = qs[32 * j + l] & 15, hi = qs[32 * j + l] >> 4;
            if (type == 13) {
              lo += (qh[l] >> (2 * j)) & 1 ? 16 : 0;
              hi += (qh[l] >> (2 * j + 1)) & 1 ? 16 : 0;
            }
            y[64 * j + l] = d1 * lo - mm1;
            y[64 * j + 32 + l] = d2 * hi - mm2;
          }
        }
      }
      return true;
    case 14:
      for (int b = 0; b < k / 256; ++b) {
        const uint8_t* p = src + 210 * b;
        uint16_t dh;
        std::memcpy(&dh, p + 208, 2);
        const float d = HalfToFloat(dh);
        for (int n = 0; n < 2; ++n) {
          const uint8_t* ql = p + 64 * n;
          const uint8_t* qh = p + 128 + 32 * n;
          const int8_t* sc = reinterpret_cast<const int8_t*>(p + 192 + 8 * n);
          float* y = dst + 256 * b + 128 * n;
          for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
          }
        }
      }
      return true;
    default: return false;
  }
}

}  // namespace kt_cuda_ref
