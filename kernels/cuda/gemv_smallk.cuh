// Decode GEMV for short rows, K = 32 * 2^j values up to 1024, in 32-value
// chunks: Q8_0 (one block per chunk), F16, BF16, F32; 1..8 tokens; batched
// over blockIdx.y like GemvKernel.
//
// Why: DeepSeek's per-head absorption matrices have short rows (W_kb: 128
// values, W_vb: 512) and come 128 at a time. The general kernel
// (gemv_quant.cuh) splits K across the 8 warps of a block, so on a 4-chunk
// row most warps idle: the H200 took 87 us for V3's W_kb (8.9 MB in Q8_0).
// Here the LPR = K / 32 chunks of a row go to adjacent lanes and a warp
// covers 32 / LPR rows at a time; a row's lanes add their dot products with
// log2(LPR) shuffles. x is read from L1 (every row of a problem shares it).
#pragma once

#include "kernels/cuda/common.cuh"

namespace kt_cuda {

// Dot of one 32-value chunk (chunk c of the row at `row`) with x[0..31].
template <int kType>
KT_CUDA_FORCEINLINE float SmallKChunkDot(const u8* __restrict__ row, int c, const float* __restrict__ x) {
  float acc = 0.0f;
  if constexpr (kType == kQ8_0) {
    const u16* p = reinterpret_cast<const u16*>(row + 34 * c);  // 2-byte aligned blocks
    const float d = HalfToFloat(__ldg(p));
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float4 xv = __ldg(reinterpret_cast<const float4*>(x) + i);
      const u32 lo = __ldg(p + 1 + 2 * i), hi = __ldg(p + 2 + 2 * i);
      const u32 q = lo | (hi << 16);
      acc = fmaf(static_cast<float>(static_cast<signed char>(q & 0xff)), xv.x, acc);
      acc = fmaf(static_cast<float>(static_cast<signed char>((q >> 8) & 0xff)), xv.y, acc);
      acc = fmaf(static_cast<float>(static_cast<signed char>((q >> 16) & 0xff)), xv.z, acc);
      acc = fmaf(static_cast<float>(static_cast<signed char>(q >> 24)), xv.w, acc);
    }
    acc *= d;
  } else if constexpr (kType == kF32) {
    const float4* p = reinterpret_cast<const float4*>(row) + 8 * c;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float4 xv = __ldg(reinterpret_cast<const float4*>(x) + i), wv = __ldg(p + i);
      acc = fmaf(wv.x, xv.x, fmaf(wv.y, xv.y, fmaf(wv.z, xv.z, fmaf(wv.w, xv.w, acc))));
    }
  } else {  // F16 / BF16: 64 bytes per chunk, read as 16-byte pieces
    const uint4* p = reinterpret_cast<const uint4*>(row) + 4 * c;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const uint4 wv = __ldg(p + i);
      const u32 wd[4] = {wv.x, wv.y, wv.z, wv.w};
      const float4 x0 = __ldg(reinterpret_cast<const float4*>(x) + 2 * i);
      const float4 x1 = __ldg(reinterpret_cast<const float4*>(x) + 2 * i + 1);
      const float xs[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        float a, b;
        if constexpr (kType == kF16) {
          a = HalfToFloat(static_cast<u16>(wd[j] & 0xffff));
          b = HalfToFloat(static_cast<u16>(wd[j] >> 16));
        } else {
          a = __uint_as_float(wd[j] << 16);
          b = __uint_as_float(wd[j] & 0xffff0000u);
        }
        acc = fmaf(a, xs[2 * j], fmaf(b, xs[2 * j + 1], acc));
      }
    }
  }
  return acc;
}

// Grid (row groups, batch), 256 threads; lpr_log2 = log2(K / 32) <= 5; nt <= 8.
template <int kType>
__global__ void __launch_bounds__(256)
    GemvSmallKKernel(const u8* __restrict__ w, long long row_bytes, int N, const float* __restrict__ x, long long ldx,
                     int nt, float* __restrict__ y, long long ldy, long long wbs, long long xbs, long long ybs,
                     int lpr_log2) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  const int b = blockIdx.y;
  w += b * wbs;
  x += b * xbs;
  y += b * ybs;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int lpr = 1 << lpr_log2, rpw = 32 >> lpr_log2;
  const int c = lane & (lpr - 1), sub = lane >> lpr_log2;
  const int row = (blockIdx.x * 8 + warp) * rpw + sub;
  float acc[8];
#pragma unroll
  for (int t = 0; t < 8; ++t) acc[t] = 0.0f;
  if (row < N) {
    const u8* r = w + static_cast<long long>(row) * row_bytes;
#pragma unroll
    for (int t = 0; t < 8; ++t)
      if (t < nt) acc[t] = SmallKChunkDot<kType>(r, c, x + t * ldx + 32 * c);
  }
#pragma unroll
  for (int t = 0; t < 8; ++t) {
    if (t >= nt) break;  // nt is the same in every lane: the shuffles stay converged
    float v = acc[t];
    for (int off = lpr >> 1; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    if (c == 0 && row < N) y[t * ldy + row] = v;
  }
}

}  // namespace kt_cuda
