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
#include "kernels/cuda/mma.cuh"

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

// Q8_0 short rows through shared memory: the path Gemv takes when rows are
// dense (K / 32 blocks of 34 bytes) and 16-byte aligned, as in W_kb / W_vb.
// GemvSmallKKernel reads global memory in two patterns that cost the L1 far
// more than the bytes: each lane's 34-byte block by 2-byte loads (a warp
// load spans ~9 lines for 64 useful bytes), and its 32 x values as float4s
// 128 bytes apart across lanes (16 lines per instruction at K = 512). The
// H200 took 10.8 and 17.3 us for V3's W_kb / W_vb (8.9 MB each). Here a
// block's rows (one 34-byte block per thread: 8.5 KB) arrive by 16-byte
// cp.async before griddepcontrol.wait, so they stream during the previous
// kernel (PDL); x is then copied once per block with coalesced float4 loads
// into chunks padded to 36 floats, so that lanes of different chunks read
// different banks. Lanes take blocks as in GemvSmallKKernel; int8 -> float
// is the biased byte under 0x4B (2^23 + b + 128) and one FADD, not an I2F.
constexpr int kSkChunkStride = 36;  // floats per staged x chunk of 32 (4 of padding)

// Dot of the Q8_0 block at `blk` (2-byte aligned shared memory) with x[0..31]
// (16-byte aligned shared memory).
KT_CUDA_FORCEINLINE float SmallKQ80DotShared(const u8* blk, const float* x) {
  const size_t a = reinterpret_cast<size_t>(blk);
  const u32* wd = reinterpret_cast<const u32*>(a & ~static_cast<size_t>(3));
  u32 q[8];
  float d;
  if (a & 2) {  // d ends a word; the 32 quants are the next 8 aligned words
    d = HalfToFloat(static_cast<u16>(wd[0] >> 16));
#pragma unroll
    for (int i = 0; i < 8; ++i) q[i] = wd[1 + i];
  } else {  // d starts a word; the quants straddle words (the 9th word reads 2 bytes past the block)
    u32 v[9];
#pragma unroll
    for (int i = 0; i < 9; ++i) v[i] = wd[i];
    d = HalfToFloat(static_cast<u16>(v[0] & 0xffff));
#pragma unroll
    for (int i = 0; i < 8; ++i) q[i] = __byte_perm(v[i], v[i + 1], 0x5432);
  }
  const float bias = 8388608.0f + 128.0f;
  float acc = 0.0f;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const float4 xv = reinterpret_cast<const float4*>(x)[i];
    const u32 u = q[i] ^ 0x80808080u;  // b + 128, unsigned
    acc = fmaf(__uint_as_float(__byte_perm(u, 0x4B00u, 0x5440)) - bias, xv.x, acc);
    acc = fmaf(__uint_as_float(__byte_perm(u, 0x4B00u, 0x5441)) - bias, xv.y, acc);
    acc = fmaf(__uint_as_float(__byte_perm(u, 0x4B00u, 0x5442)) - bias, xv.z, acc);
    acc = fmaf(__uint_as_float(__byte_perm(u, 0x4B00u, 0x5443)) - bias, xv.w, acc);
  }
  return acc * d;
}

// Bytes of dynamic shared memory: the block's rows (256 blocks of 34 bytes,
// + 16 for the last block's word over-read) and x of nt tokens.
__host__ __device__ constexpr int SmallKQ80SmemBytes(int k, int nt) {
  return 256 * 34 + 16 + nt * (k / 32) * kSkChunkStride * 4;
}

// Grid (row groups of 8 * 32 / LPR rows, batch), 256 threads (one Q8_0
// block each); lpr_log2 = log2(K / 32) <= 5; nt <= 8; x rows 16-byte aligned.
__global__ void __launch_bounds__(256)
    GemvSmallKQ80SharedKernel(const u8* __restrict__ w, long long row_bytes, int N, const float* __restrict__ x,
                              long long ldx, int nt, float* __restrict__ y, long long ldy, long long wbs,
                              long long xbs, long long ybs, int lpr_log2) {
  extern __shared__ __align__(16) u8 sk_smem[];
  const int b = blockIdx.y;
  w += b * wbs;
  x += b * xbs;
  y += b * ybs;
  const int lpr = 1 << lpr_log2, rpw = 32 >> lpr_log2, rows_per_block = 8 * rpw;
  const int row0 = blockIdx.x * rows_per_block;
  const int rows = min(rows_per_block, N - row0);
  const int span = rows * static_cast<int>(row_bytes);  // <= 256 * 34
  const u8* src = w + static_cast<long long>(row0) * row_bytes;
  const int n16 = span >> 4;
  for (int i = threadIdx.x; i < n16; i += 256) CpAsync16(sk_smem + 16 * i, src + 16 * i, 16);
  CpAsyncCommit();
  for (int i = 16 * n16 + 2 * threadIdx.x; i < span; i += 512)  // a partial last block: 2-14 bytes more
    *reinterpret_cast<u16*>(sk_smem + i) = __ldg(reinterpret_cast<const u16*>(src + i));
  GridDependentsLaunch();  // the next kernel may be scheduled into our tail
  GridDependencyWait();    // x comes from the previous kernel; the weights did not wait for it
  float* xs = reinterpret_cast<float*>(sk_smem + 256 * 34 + 16);
  const int v4 = lpr * 8;  // float4s per token
  for (int i = threadIdx.x; i < nt * v4; i += 256) {
    const int t = i / v4, v = i - t * v4;
    const float4 val = __ldg(reinterpret_cast<const float4*>(x + t * ldx) + v);
    *reinterpret_cast<float4*>(xs + (t * lpr + (v >> 3)) * kSkChunkStride + 4 * (v & 7)) = val;
  }
  CpAsyncWait<0>();
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int c = lane & (lpr - 1), r = warp * rpw + (lane >> lpr_log2);
  float acc[8];
#pragma unroll
  for (int t = 0; t < 8; ++t) acc[t] = 0.0f;
  if (r < rows) {
#pragma unroll
    for (int t = 0; t < 8; ++t)
      if (t < nt) acc[t] = SmallKQ80DotShared(sk_smem + r * row_bytes + 34 * c, xs + (t * lpr + c) * kSkChunkStride);
  }
#pragma unroll
  for (int t = 0; t < 8; ++t) {
    if (t >= nt) break;  // nt is the same in every lane: the shuffles stay converged
    float v = acc[t];
    for (int off = lpr >> 1; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    if (c == 0 && r < rows) y[t * ldy + row0 + r] = v;
  }
}

}  // namespace kt_cuda
