// Decode GEMV / skinny GEMM on tensor cores for Q4_K and Q8_0 weights,
// 1..8 tokens per launch, with f32-class accuracy.
//
// Why: the CUDA-core GEMV (gemv_quant.cuh) spends ~10 instructions per weight
// (nibble -> float, scale, FMA) and tops out near 1 TB/s for Q4_K, far from
// HBM speed. Here the integer quants go to the tensor cores unscaled:
//  * a quant q (0..15 for Q4_K, -128..127 for Q8_0) is exact in bf16, built
//    from its bits with PRMT/LOP3 and one bf16x2 FMA (no I2F);
//  * x is split as x = hi + lo, both bf16 (~16 significant bits), and both
//    halves are multiplied, so products lose nothing that matters at 1e-3;
//  * one mma group covers one 32-value sub-block, whose f32 result is then
//    scaled: y += d·sc·Σ q·x − dmin·m·Σ x (Σ x per sub-block precomputed).
// The k order inside a sub-block is permuted (thread t of a quad owns values
// 8t..8t+7) so each thread reads 8 contiguous quant bytes and 8 contiguous x.
//
// Layout: a block = 16 rows (one m16 tile) x 8 warps splitting K in steps of
// 256 values. Each warp stages its 16 row segments of a step into shared
// memory with coalesced 16-byte cp.async (double buffered), then decodes from
// there; the 8 warps' partial sums are added through shared memory.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/gemv_quant.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

constexpr int kTcWarps = 8;

template <int kType> struct TcFormat;
template <> struct TcFormat<kQ4_K> { static constexpr int kStepBytes = 144; };
template <> struct TcFormat<kQ8_0> { static constexpr int kStepBytes = 272; };

// Per warp and stage: 16 weight-row segments, then hi and lo x of `nt` tokens
// (512 bytes each), then the 8 x 8 sub-block sums of the step.
template <int kType>
__host__ __device__ constexpr int GemvTcStageBytes(int nt) {
  return 16 * TcFormat<kType>::kStepBytes + 1024 * nt + 256;
}
template <int kType>
constexpr int GemvTcSmemBytes(int nt) {
  return kTcWarps * 2 * GemvTcStageBytes<kType>(nt) + kTcWarps * 16 * 8 * 4;
}

// x (f32, ntok <= 8 rows of ldx) -> hi/lo bf16 [8][K] and per-32 sums [K/32][8];
// tokens >= ntok become zeros. One warp per 32 values.
__global__ void GemvTcPrepKernel(const float* __restrict__ x, long long ldx, int ntok, int K,
                                 u16* __restrict__ xh, u16* __restrict__ xl, float* __restrict__ xs,
                                 float* __restrict__ y_zero, int N, long long ldy) {
  if (y_zero) {  // the K-split kernel adds its partial sums into y
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < ntok * N; i += gridDim.x * blockDim.x)
      y_zero[(i / N) * ldy + i % N] = 0.0f;
  }
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= K) return;  // K % 32 == 0: whole warps leave together
#pragma unroll
  for (int t = 0; t < 8; ++t) {
    const float v = t < ntok ? x[t * ldx + k] : 0.0f;
    const u16 h = FloatToBf16(v);
    xh[static_cast<long long>(t) * K + k] = h;
    xl[static_cast<long long>(t) * K + k] = FloatToBf16(v - Bf16ToFloat(h));
    const float s = WarpSum(v);
    if ((threadIdx.x & 31) == 0) xs[(k >> 5) * 8 + t] = s;
  }
}

template <int kType>
__global__ void __launch_bounds__(256) GemvTcKernel(const u8* __restrict__ w, long long row_bytes, int K, int N,
                                                    const u16* __restrict__ xh, const u16* __restrict__ xl,
                                                    const float* __restrict__ xs, int ntok,
                                                    float* __restrict__ y, long long ldy) {
  constexpr int kSB = TcFormat<kType>::kStepBytes, kChunks = kSB / 16;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int stage_bytes = GemvTcStageBytes<kType>(ntok);
  u8* wbuf = smem_raw + warp * 2 * stage_bytes;
  float* red = reinterpret_cast<float*>(smem_raw + kTcWarps * 2 * stage_bytes);
  const int row0 = blockIdx.x * 16;
  const int nsteps = K >> 8;
  const int wstep = blockIdx.y * kTcWarps + warp, wstride = gridDim.y * kTcWarps;
  constexpr int kPerLane = (16 * kChunks + 31) / 32;
  const u8* src[kPerLane];  // this lane's 16-byte pieces of the 16 row segments (step 0)
  int dst[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int idx = lane + 32 * i, r = idx / kChunks, c = idx - r * kChunks;
    src[i] = w + min(row0 + r, N - 1) * row_bytes + 16 * c;
    dst[i] = idx < 16 * kChunks ? r * kSB + 16 * c : -1;
  }

  // Everything a step reads arrives with one cp.async group issued a step
  // ahead: x too, so no L2 latency is exposed inside the unrolled math.
  auto load_step = [&](int s, int stage) {
    u8* base = wbuf + stage * stage_bytes;
    const long long soff = static_cast<long long>(s) * kSB;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (dst[i] >= 0) CpAsync16(base + dst[i], src[i] + soff, 16);
    u8* xb = base + 16 * kSB;
    for (int tk = 0; tk < ntok; ++tk) {
      const long long off = static_cast<long long>(tk) * K + (static_cast<long long>(s) << 8) + 8 * lane;
      CpAsync16(xb + tk * 1024 + 16 * lane, xh + off, 16);
      CpAsync16(xb + tk * 1024 + 512 + 16 * lane, xl + off, 16);
    }
    if (lane < 16) CpAsync16(xb + ntok * 1024 + 16 * lane, xs + (static_cast<long long>(s) << 6) + 4 * lane, 16);
    CpAsyncCommit();
  };

  float acc[4] = {0.f, 0.f, 0.f, 0.f};  // (row g | g+8) x (token 2t | 2t+1)
  const bool has_x = g < ntok;
  int stage = 0;
  if (wstep < nsteps) load_step(wstep, 0);
  for (int s = wstep; s < nsteps; s += wstride, stage ^= 1) {
    if (s + wstride < nsteps) {
      load_step(s + wstride, stage ^ 1);
      CpAsyncWait<1>();
    } else {
      CpAsyncWait<0>();
    }
    __syncwarp();
    const u8* seg0 = wbuf + stage * stage_bytes + g * kSB;  // row g
    const u8* seg1 = seg0 + 8 * kSB;                          // row g + 8
    const u8* xsm = wbuf + stage * stage_bytes + 16 * kSB + g * 1024;  // token g
    const float* xsum = reinterpret_cast<const float*>(wbuf + stage * stage_bytes + 16 * kSB + ntok * 1024);

    if constexpr (kType == kQ4_K) {
      const uint4 h0 = *reinterpret_cast<const uint4*>(seg0);
      const uint4 h1 = *reinterpret_cast<const uint4*>(seg1);
      const float d0 = HalfToFloat(h0.x & 0xffff), m0 = HalfToFloat(h0.x >> 16);
      const float d1 = HalfToFloat(h1.x & 0xffff), m1 = HalfToFloat(h1.x >> 16);
      // All 16 six-bit scales/mins of a row, four per word (FORMATS.md packing).
      const u32 sc0l = h0.y & 0x3F3F3F3Fu, mn0l = h0.z & 0x3F3F3F3Fu;
      const u32 sc0h = (h0.w & 0x0F0F0F0Fu) | ((h0.y >> 2) & 0x30303030u);
      const u32 mn0h = ((h0.w >> 4) & 0x0F0F0F0Fu) | ((h0.z >> 2) & 0x30303030u);
      const u32 sc1l = h1.y & 0x3F3F3F3Fu, mn1l = h1.z & 0x3F3F3F3Fu;
      const u32 sc1h = (h1.w & 0x0F0F0F0Fu) | ((h1.y >> 2) & 0x30303030u);
      const u32 mn1h = ((h1.w >> 4) & 0x0F0F0F0Fu) | ((h1.z >> 2) & 0x30303030u);
      // The four threads of a quad hold the same two rows: thread t works out
      // the factors of sub-blocks 2t and 2t+1 and the others read them by
      // shuffle (4 shuffles per sub-block instead of ~14 instructions).
      float fa0[2], fb0[2], fa1[2], fb1[2];
#pragma unroll
      for (int u = 0; u < 2; ++u) {
        const int sbo = 2 * t + u, byte = sbo & 3;
        const bool low = sbo < 4;
        fa0[u] = d0 * ByteToFloat(low ? sc0l : sc0h, byte, 8388608.0f);
        fa1[u] = d1 * ByteToFloat(low ? sc1l : sc1h, byte, 8388608.0f);
        fb0[u] = fmaf(128.0f, fa0[u], m0 * ByteToFloat(low ? mn0l : mn0h, byte, 8388608.0f));
        fb1[u] = fmaf(128.0f, fa1[u], m1 * ByteToFloat(low ? mn1l : mn1h, byte, 8388608.0f));
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint2 q0 = *reinterpret_cast<const uint2*>(seg0 + 16 + 32 * j + 8 * t);
        const uint2 q1 = *reinterpret_cast<const uint2*>(seg1 + 16 + 32 * j + 8 * t);
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
          const int sb = 2 * j + hi;
          uint4 bh = make_uint4(0, 0, 0, 0), bl = make_uint4(0, 0, 0, 0);
          if (has_x) {
            bh = *reinterpret_cast<const uint4*>(xsm + 64 * sb + 16 * t);
            bl = *reinterpret_cast<const uint4*>(xsm + 512 + 64 * sb + 16 * t);
          }
          const float2 sx = *reinterpret_cast<const float2*>(xsum + sb * 8 + 2 * t);
          const u32 n00 = (q0.x >> (4 * hi)) & 0x0F0F0F0Fu, n01 = (q0.y >> (4 * hi)) & 0x0F0F0F0Fu;
          const u32 n10 = (q1.x >> (4 * hi)) & 0x0F0F0F0Fu, n11 = (q1.y >> (4 * hi)) & 0x0F0F0F0Fu;
          // bf16 0x43qq is exactly 128 + q; the 128 is taken off after the MMA
          // (D - 128 Σx), saving a bf16x2 FMA per pair. f32 keeps ~19 bits of
          // Σ q·x next to the 128 Σx term, far below the 1e-3 tolerance.
          u32 a0[4], a1[4];
          a0[0] = __byte_perm(n00, 0x43u, 0x4140);
          a0[1] = __byte_perm(n10, 0x43u, 0x4140);
          a0[2] = __byte_perm(n00, 0x43u, 0x4342);
          a0[3] = __byte_perm(n10, 0x43u, 0x4342);
          a1[0] = __byte_perm(n01, 0x43u, 0x4140);
          a1[1] = __byte_perm(n11, 0x43u, 0x4140);
          a1[2] = __byte_perm(n01, 0x43u, 0x4342);
          a1[3] = __byte_perm(n11, 0x43u, 0x4342);
          float dd[4] = {0.f, 0.f, 0.f, 0.f};
          MmaBf16(dd, a0, bh.x, bh.y);
          MmaBf16(dd, a0, bl.x, bl.y);
          MmaBf16(dd, a1, bh.z, bh.w);
          MmaBf16(dd, a1, bl.z, bl.w);
          const int owner = (lane & ~3) | (sb >> 1);
          const float a_0 = __shfl_sync(0xffffffffu, fa0[sb & 1], owner);
          const float b_0 = __shfl_sync(0xffffffffu, fb0[sb & 1], owner);
          const float a_1 = __shfl_sync(0xffffffffu, fa1[sb & 1], owner);
          const float b_1 = __shfl_sync(0xffffffffu, fb1[sb & 1], owner);
          acc[0] += a_0 * dd[0] - b_0 * sx.x;
          acc[1] += a_0 * dd[1] - b_0 * sx.y;
          acc[2] += a_1 * dd[2] - b_1 * sx.x;
          acc[3] += a_1 * dd[3] - b_1 * sx.y;
        }
      }
    } else {  // Q8_0: 8 blocks of 34 bytes per step
#pragma unroll
      for (int b = 0; b < 8; ++b) {
        const u16* p0 = reinterpret_cast<const u16*>(seg0 + 34 * b);
        const u16* p1 = reinterpret_cast<const u16*>(seg1 + 34 * b);
        const float d0 = HalfToFloat(p0[0]), d1 = HalfToFloat(p1[0]);
        u32 w0[2], w1[2];
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          w0[i] = (static_cast<u32>(p0[1 + 4 * t + 2 * i]) | (static_cast<u32>(p0[2 + 4 * t + 2 * i]) << 16)) ^ 0x80808080u;
          w1[i] = (static_cast<u32>(p1[1 + 4 * t + 2 * i]) | (static_cast<u32>(p1[2 + 4 * t + 2 * i]) << 16)) ^ 0x80808080u;
        }
        uint4 bh = make_uint4(0, 0, 0, 0), bl = make_uint4(0, 0, 0, 0);
        if (has_x) {
          bh = *reinterpret_cast<const uint4*>(xsm + 64 * b + 16 * t);
          bl = *reinterpret_cast<const uint4*>(xsm + 512 + 64 * b + 16 * t);
        }
        // byte u = q + 128 -> bf16 (128 + (u & 127)) - (u >= 128 ? 128 : 256) = q, exactly.
        auto cvt = [](u32 wd, u32 sel) {
          const u32 pr = __byte_perm(wd, 0u, sel);
          const u32 magic = (pr & 0x007F007Fu) | 0x43004300u;
          const u32 offs = (pr & 0x00800080u) ^ 0x43804380u;
          return Bf16x2Fma(offs, 0xBF80BF80u, magic);
        };
        u32 a0[4], a1[4];
        a0[0] = cvt(w0[0], 0x4140); a0[1] = cvt(w1[0], 0x4140);
        a0[2] = cvt(w0[0], 0x4342); a0[3] = cvt(w1[0], 0x4342);
        a1[0] = cvt(w0[1], 0x4140); a1[1] = cvt(w1[1], 0x4140);
        a1[2] = cvt(w0[1], 0x4342); a1[3] = cvt(w1[1], 0x4342);
        float dd[4] = {0.f, 0.f, 0.f, 0.f};
        MmaBf16(dd, a0, bh.x, bh.y);
        MmaBf16(dd, a0, bl.x, bl.y);
        MmaBf16(dd, a1, bh.z, bh.w);
        MmaBf16(dd, a1, bl.z, bl.w);
        acc[0] += d0 * dd[0];
        acc[1] += d0 * dd[1];
        acc[2] += d1 * dd[2];
        acc[3] += d1 * dd[3];
      }
    }
    __syncwarp();  // this stage is refilled two steps later
  }
  red[(warp * 16 + g) * 8 + 2 * t] = acc[0];
  red[(warp * 16 + g) * 8 + 2 * t + 1] = acc[1];
  red[(warp * 16 + g + 8) * 8 + 2 * t] = acc[2];
  red[(warp * 16 + g + 8) * 8 + 2 * t + 1] = acc[3];
  __syncthreads();
  if (threadIdx.x < 128) {
    const int r = threadIdx.x >> 3, tk = threadIdx.x & 7;
    float v = 0.0f;
#pragma unroll
    for (int i = 0; i < kTcWarps; ++i) v += red[(i * 16 + r) * 8 + tk];
    if (row0 + r < N && tk < ntok) {
      if (gridDim.y == 1) y[tk * ldy + row0 + r] = v;
      else atomicAdd(y + tk * ldy + row0 + r, v);
    }
  }
}

}  // namespace kt_cuda
