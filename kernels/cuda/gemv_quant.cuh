// Decode-path GEMV / skinny GEMM reading GGUF weight blocks directly.
//
// y[t][n] = sum_k W[n][k] * x[t][k] for up to 8 tokens per launch. W rows are
// GGUF rows (ne[0] = K contiguous, one row per output). Work split:
//  * a block of 8 warps owns R consecutive rows; the warps split K (warp w
//    takes steps w, w+8, ...), so even N = 2048 gives 512 blocks and enough
//    bytes in flight to approach HBM bandwidth;
//  * one "step" is a unit the 32 lanes of a warp read together: one 256-value
//    super-block for K types (each lane 4 bytes of qs, the 32 lanes one
//    coalesced 128-byte read), four Q8_0 blocks, or 256 F16/BF16/F32 values;
//  * each lane turns its bytes into 8 (Q8_0: 4) floats once and reuses them
//    for every token; lanes 0..7 of a group own consecutive x positions, so
//    x is read as coalesced float4s and shared by the R rows.
// x stays f32 (no activation quantisation): the f32 reference tolerance of
// 1e-3 holds and the weights, not x, dominate the bytes at batch <= 16.
#pragma once

#include "kernels/cuda/common.cuh"

namespace kt_cuda {

struct Raw4K { uint4 hdr; u32 qs; u32 qh; };

KT_CUDA_FORCEINLINE u32 ByteOf(u32 w, int i) { return (w >> (8 * i)) & 255u; }
// Two-byte-aligned 32-bit load (Q6_K and Q8_0 blocks are 210 and 34 bytes).
KT_CUDA_FORCEINLINE u32 LoadU32A2(const u8* p) {
  const u16* h = reinterpret_cast<const u16*>(p);
  return static_cast<u32>(__ldg(h)) | (static_cast<u32>(__ldg(h + 1)) << 16);
}

// Q4_K / Q5_K 6-bit scale and min of sub-block j (FORMATS.md).
KT_CUDA_FORCEINLINE void ScaleMinK4(int j, u32 s0, u32 s1, u32 s2, float& sc, float& m) {
  if (j < 4) {
    sc = static_cast<float>(ByteOf(s0, j) & 63);
    m = static_cast<float>(ByteOf(s1, j) & 63);
  } else {
    const int jj = j - 4;
    sc = static_cast<float>((ByteOf(s2, jj) & 15) | ((ByteOf(s0, jj) >> 6) << 4));
    m = static_cast<float>((ByteOf(s2, jj) >> 4) | ((ByteOf(s1, jj) >> 6) << 4));
  }
}

template <int kType> struct WeightFormat;

template <> struct WeightFormat<kQ4_K> {
  static constexpr int kStepVals = 256, kGroups = 2, kBlockBytes = 144;
  typedef Raw4K Raw;
  static KT_CUDA_FORCEINLINE int NumSteps(int K) { return K / 256; }
  static KT_CUDA_FORCEINLINE int Offset(int lane, int g) { return 64 * (lane >> 3) + 4 * (lane & 7) + 32 * g; }
  static KT_CUDA_FORCEINLINE bool Valid(int, int, int, int) { return true; }
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int step, int lane, int, Raw& r) {
    const u8* b = row + static_cast<long long>(step) * 144;
    r.hdr = __ldg(reinterpret_cast<const uint4*>(b));
    r.qs = __ldg(reinterpret_cast<const u32*>(b + 16 + 4 * lane));
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int lane, float* w) {
    const float d = HalfToFloat(r.hdr.x & 0xffff), dmin = HalfToFloat(r.hdr.x >> 16);
    const int j = 2 * (lane >> 3);
    float sc0, m0, sc1, m1;
    ScaleMinK4(j, r.hdr.y, r.hdr.z, r.hdr.w, sc0, m0);
    ScaleMinK4(j + 1, r.hdr.y, r.hdr.z, r.hdr.w, sc1, m1);
    const float a0 = d * sc0, b0 = dmin * m0, a1 = d * sc1, b1 = dmin * m1;
    const u32 lo = r.qs & 0x0F0F0F0Fu, hi = (r.qs >> 4) & 0x0F0F0F0Fu;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[i] = ByteToFloat(lo, i, 8388608.0f) * a0 - b0;
      w[4 + i] = ByteToFloat(hi, i, 8388608.0f) * a1 - b1;
    }
  }
};

template <> struct WeightFormat<kQ5_K> {
  static constexpr int kStepVals = 256, kGroups = 2, kBlockBytes = 176;
  typedef Raw4K Raw;
  static KT_CUDA_FORCEINLINE int NumSteps(int K) { return K / 256; }
  static KT_CUDA_FORCEINLINE int Offset(int lane, int g) { return 64 * (lane >> 3) + 4 * (lane & 7) + 32 * g; }
  static KT_CUDA_FORCEINLINE bool Valid(int, int, int, int) { return true; }
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int step, int lane, int, Raw& r) {
    const u8* b = row + static_cast<long long>(step) * 176;
    r.hdr = __ldg(reinterpret_cast<const uint4*>(b));
    r.qh = __ldg(reinterpret_cast<const u32*>(b + 16 + 4 * (lane & 7)));
    r.qs = __ldg(reinterpret_cast<const u32*>(b + 48 + 4 * lane));
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int lane, float* w) {
    const float d = HalfToFloat(r.hdr.x & 0xffff), dmin = HalfToFloat(r.hdr.x >> 16);
    const int j = 2 * (lane >> 3);
    float sc0, m0, sc1, m1;
    ScaleMinK4(j, r.hdr.y, r.hdr.z, r.hdr.w, sc0, m0);
    ScaleMinK4(j + 1, r.hdr.y, r.hdr.z, r.hdr.w, sc1, m1);
    const float a0 = d * sc0, b0 = dmin * m0, a1 = d * sc1, b1 = dmin * m1;
    const u32 lo = (r.qs & 0x0F0F0F0Fu) | (((r.qh >> j) & 0x01010101u) << 4);
    const u32 hi = ((r.qs >> 4) & 0x0F0F0F0Fu) | (((r.qh >> (j + 1)) & 0x01010101u) << 4);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[i] = ByteToFloat(lo, i, 8388608.0f) * a0 - b0;
      w[4 + i] = ByteToFloat(hi, i, 8388608.0f) * a1 - b1;
    }
  }
};

struct Raw6K { u32 ql, qh; float s0, s1; };
template <> struct WeightFormat<kQ6_K> {
  static constexpr int kStepVals = 256, kGroups = 2, kBlockBytes = 210;
  typedef Raw6K Raw;
  static KT_CUDA_FORCEINLINE int NumSteps(int K) { return K / 256; }
  static KT_CUDA_FORCEINLINE int Offset(int lane, int g) { return 128 * (lane >> 4) + 4 * (lane & 15) + 64 * g; }
  static KT_CUDA_FORCEINLINE bool Valid(int, int, int, int) { return true; }
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int step, int lane, int, Raw& r) {
    const u8* b = row + static_cast<long long>(step) * 210;
    const int n = lane >> 4, bb = 4 * (lane & 15);
    r.ql = LoadU32A2(b + 64 * n + bb);
    r.qh = LoadU32A2(b + 128 + 32 * n + (bb & 31));
    const int is = 8 * n + ((bb & 31) >> 4) + (bb >= 32 ? 2 : 0);
    const float d = HalfToFloat(__ldg(reinterpret_cast<const u16*>(b + 208)));
    r.s0 = d * static_cast<float>(static_cast<i8>(__ldg(b + 192 + is)));
    r.s1 = d * static_cast<float>(static_cast<i8>(__ldg(b + 192 + is + 4)));
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int lane, float* w) {
    const int sh = (lane & 15) >= 8 ? 2 : 0;  // bb >= 32 uses qh bits 2-3 / 6-7
    const u32 lo = (r.ql & 0x0F0F0F0Fu) | (((r.qh >> sh) & 0x03030303u) << 4);
    const u32 hi = ((r.ql >> 4) & 0x0F0F0F0Fu) | (((r.qh >> (sh + 4)) & 0x03030303u) << 4);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[i] = ByteToFloat(lo, i, 8388640.0f) * r.s0;  // 2^23 + 32
      w[4 + i] = ByteToFloat(hi, i, 8388640.0f) * r.s1;
    }
  }
};

struct Raw80 { u32 qs; float d; };
template <> struct WeightFormat<kQ8_0> {
  static constexpr int kStepVals = 128, kGroups = 1, kBlockBytes = 34;
  typedef Raw80 Raw;
  static KT_CUDA_FORCEINLINE int NumSteps(int K) { return (K / 32 + 3) / 4; }
  static KT_CUDA_FORCEINLINE int Offset(int lane, int) { return 4 * lane; }
  static KT_CUDA_FORCEINLINE bool Valid(int step, int lane, int, int K) { return step * 128 + 4 * lane < K; }
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int step, int lane, int K, Raw& r) {
    if (!Valid(step, lane, 0, K)) { r.qs = 0x80808080u; r.d = 0.0f; return; }
    const u8* b = row + static_cast<long long>(step * 4 + (lane >> 3)) * 34;
    r.d = HalfToFloat(__ldg(reinterpret_cast<const u16*>(b)));
    r.qs = LoadU32A2(b + 2 + 4 * (lane & 7)) ^ 0x80808080u;  // to unsigned q + 128
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int, float* w) {
#pragma unroll
    for (int i = 0; i < 4; ++i) w[i] = ByteToFloat(r.qs, i, 8388736.0f) * r.d;  // 2^23 + 128
  }
};

// 16-bit floats: each lane 4 values at 4*lane and 4 at 128 + 4*lane.
template <int kT> struct Raw16 { uint2 v[2]; };
template <int kT> struct Format16 {
  static constexpr int kStepVals = 256, kGroups = 2, kBlockBytes = 2;
  typedef Raw16<kT> Raw;
  static KT_CUDA_FORCEINLINE int NumSteps(int K) { return (K + 255) / 256; }
  static KT_CUDA_FORCEINLINE int Offset(int lane, int g) { return 4 * lane + 128 * g; }
  static KT_CUDA_FORCEINLINE bool Valid(int step, int lane, int g, int K) { return step * 256 + Offset(lane, g) < K; }
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int step, int lane, int K, Raw& r) {
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      if (Valid(step, lane, g, K)) {
        r.v[g] = __ldg(reinterpret_cast<const uint2*>(row + 2LL * (step * 256 + Offset(lane, g))));
      } else {
        r.v[g] = make_uint2(0, 0);
      }
    }
  }
  static KT_CUDA_FORCEINLINE float One(u32 h) { return kT == kBF16 ? Bf16ToFloat(h) : HalfToFloat(h); }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int, float* w) {
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      w[4 * g + 0] = One(r.v[g].x & 0xffff);
      w[4 * g + 1] = One(r.v[g].x >> 16);
      w[4 * g + 2] = One(r.v[g].y & 0xffff);
      w[4 * g + 3] = One(r.v[g].y >> 16);
    }
  }
};
template <> struct WeightFormat<kF16> : Format16<kF16> {};
template <> struct WeightFormat<kBF16> : Format16<kBF16> {};

struct RawF32 { float4 v[2]; };
template <> struct WeightFormat<kF32> {
  static constexpr int kStepVals = 256, kGroups = 2, kBlockBytes = 4;
  typedef RawF32 Raw;
  static KT_CUDA_FORCEINLINE int NumSteps(int K) { return (K + 255) / 256; }
  static KT_CUDA_FORCEINLINE int Offset(int lane, int g) { return 4 * lane + 128 * g; }
  static KT_CUDA_FORCEINLINE bool Valid(int step, int lane, int g, int K) { return step * 256 + Offset(lane, g) < K; }
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int step, int lane, int K, Raw& r) {
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      r.v[g] = Valid(step, lane, g, K)
                   ? __ldg(reinterpret_cast<const float4*>(row + 4LL * (step * 256 + Offset(lane, g))))
                   : make_float4(0.f, 0.f, 0.f, 0.f);
    }
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int, float* w) {
#pragma unroll
    for (int g = 0; g < 2; ++g) {
      w[4 * g] = r.v[g].x; w[4 * g + 1] = r.v[g].y; w[4 * g + 2] = r.v[g].z; w[4 * g + 3] = r.v[g].w;
    }
  }
};

constexpr int kGemvWarps = 8;

// Grid: (ceil(N / R), batch). blockIdx.y selects one of `batch` independent
// problems (per-head absorbed MLA matrices) through the *_bstride arguments.
// Requires: K a multiple of the block size (256 for K types, 32 for Q8_0, 4
// otherwise), row_bytes a multiple of 16 for K types, x 16-byte aligned rows.
template <int kType, int NT, int R>
__global__ void __launch_bounds__(256) GemvKernel(const u8* __restrict__ w, long long row_bytes,
                                                  long long w_bstride, int K, int N,
                                                  const float* __restrict__ x, long long ldx,
                                                  long long x_bstride, float* __restrict__ y,
                                                  long long ldy, long long y_bstride) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  typedef WeightFormat<kType> F;
  constexpr int kVals = 4 * F::kGroups;
  __shared__ float red[kGemvWarps][R * NT];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int row0 = blockIdx.x * R;
  w += blockIdx.y * w_bstride;
  x += blockIdx.y * x_bstride;
  y += blockIdx.y * y_bstride;
  const int nsteps = F::NumSteps(K);
  float acc[R][NT];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;

#pragma unroll 2
  for (int s = warp; s < nsteps; s += kGemvWarps) {
    typename F::Raw raw[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int row = min(row0 + r, N - 1);  // rows past N are computed and dropped
      F::Load(w + row * row_bytes, s, lane, K, raw[r]);
    }
    float4 xv[NT][F::kGroups];
#pragma unroll
    for (int t = 0; t < NT; ++t)
#pragma unroll
      for (int g = 0; g < F::kGroups; ++g)
        xv[t][g] = F::Valid(s, lane, g, K)
                       ? *reinterpret_cast<const float4*>(x + t * ldx + s * F::kStepVals + F::Offset(lane, g))
                       : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      float wv[kVals];
      F::Decode(raw[r], lane, wv);
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        float a = acc[r][t];
#pragma unroll
        for (int g = 0; g < F::kGroups; ++g) {
          a = fmaf(wv[4 * g + 0], xv[t][g].x, a);
          a = fmaf(wv[4 * g + 1], xv[t][g].y, a);
          a = fmaf(wv[4 * g + 2], xv[t][g].z, a);
          a = fmaf(wv[4 * g + 3], xv[t][g].w, a);
        }
        acc[r][t] = a;
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float v = WarpSum(acc[r][t]);
      if (lane == 0) red[warp][r * NT + t] = v;
    }
  __syncthreads();
  if (threadIdx.x < R * NT) {
    float v = 0.0f;
#pragma unroll
    for (int i = 0; i < kGemvWarps; ++i) v += red[i][threadIdx.x];
    const int row = row0 + threadIdx.x / NT, t = threadIdx.x % NT;
    if (row < N) y[t * ldy + row] = v;
  }
}

}  // namespace kt_cuda
