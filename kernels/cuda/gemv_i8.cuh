// Decode GEMV for Q4_K and Q8_0 weights with integer dot products (dp4a),
// 1..8 tokens per launch, with f32-class accuracy.
//
// Why: at batch 1 a GEMV must turn each weight byte into a product in very
// few instructions or it cannot keep up with HBM. Tensor cores waste 7/8 of
// an m16n8k16 on one token, and float decoding costs ~10 instructions per
// weight. dp4a multiplies four int8 pairs in one instruction, so the quants
// are used as they are stored (Q4_K: a nibble mask; Q8_0: the bytes).
//
// Accuracy: x is quantised per 32 values in two int8 levels,
//   x ~= d * (hi + lo / 254),  d = max|x| / 127,
// so the error is below d / 508 (about 1.5e-5 of the block's largest value),
// far inside the f32 tolerance of 1e-3; llama.cpp's single level (q8_1)
// would be ~4e-3. Each level gets its own dp4a chain; the integer sums are
// small enough (< 2^22) to start from the float 1.5 * 2^23 and be read back
// as floats without an I2F (a quarter-rate instruction).
//
// Work split: a warp owns R rows and walks K in steps; the 32 lanes of a
// step cover 8 Q4_K super-blocks (4 lanes each, 32 qs bytes = two 32-value
// sub-blocks per lane) or 32 Q8_0 blocks (one per lane). Weights are loaded
// before the kernel waits for x: with programmatic dependent launch (PDL)
// the weight stream starts while the kernel that produces x (the quantiser,
// or in a model the op before) is still running, and the quantiser itself
// starts while the previous GEMV drains.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/quant_i8.cuh"

namespace kt_cuda {

constexpr int kI8Warps = 4;             // warps per block
constexpr int kI8Magic = 0x4B400000;    // float 1.5 * 2^23; ints added to it stay exact below 2^22
constexpr float kI8MagicF = 12582912.0f;

KT_CUDA_FORCEINLINE int Dp4a(u32 a, u32 b, int c) {
  return __dp4a(static_cast<int>(a), static_cast<int>(b), c);
}
// hi + lo / 254 from two magic-started dp4a sums.
KT_CUDA_FORCEINLINE float TwoLevel(int hi, int lo) {
  return fmaf(__int_as_float(lo) - kI8MagicF, 1.0f / 254.0f, __int_as_float(hi) - kI8MagicF);
}

// Writes a warp's row sums: straight to y (KS == 1), or through shared
// memory (`red`, kI8Warps * R * NT floats) where KS warps split the steps of
// the same rows. Every warp of the block must call it when KS > 1.
template <int R, int NT, int KS>
KT_CUDA_FORCEINLINE void I8Finish(float (&acc)[R][NT], float* red, int warp, int lane, int row0, int N,
                                  float* __restrict__ y, long long ldy) {
  if constexpr (KS == 1) {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const float v = WarpSum(acc[r][t]);
        if (lane == 0 && row0 + r < N) y[t * ldy + row0 + r] = v;
      }
  } else {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const float v = WarpSum(acc[r][t]);
        if (lane == 0) red[(warp * R + r) * NT + t] = v;
      }
    __syncthreads();
    if (warp % KS == 0 && lane < R * NT) {
      const int r = lane / NT, t = lane % NT;
      float v = 0.0f;
#pragma unroll
      for (int p = 0; p < KS; ++p) v += red[((warp + p) * R + r) * NT + t];
      if (row0 + r < N) y[t * ldy + row0 + r] = v;
    }
  }
}

// ---------------------------------------------------------------------------
// Q4_K: a step is 8 super-blocks (1152 contiguous bytes) of each of the
// warp's R rows. Steps are staged into the warp's own shared memory with
// 16-byte cp.async, S - 1 steps ahead, so weight loads stay in flight while
// the warp computes and cost no registers. Lane (q = lane / 4, c = lane % 4)
// then takes super-block q of the step, qs bytes 32c..32c+31: sub-block 2c in
// the low nibbles (values 64c..64c+31), 2c+1 in the high ones (64c+32..).
constexpr int kI8Q4KStepBytes = 8 * 144;

template <int R, int S>
__host__ __device__ constexpr int GemvI8Q4KSmemBytes() { return kI8Warps * S * R * kI8Q4KStepBytes; }

// KS warps share R rows and split their steps (warp w of a group takes steps
// w, w + KS, ...), adding their sums through shared memory at the end: few
// rows (N = 2048) then still give every SM several warps, and no warp walks
// a long row alone.
template <int NT, int R, int S, int KS>
__global__ void __launch_bounds__(kI8Warps * 32) GemvI8Q4KKernel(const u8* __restrict__ w, long long row_bytes,
                                                                 int K, int N, I8Act xa, float* __restrict__ y,
                                                                 long long ldy) {
  static_assert(kI8Warps % KS == 0, "KS must divide the warps of a block");
  __shared__ __align__(16) u8 smem[GemvI8Q4KSmemBytes<R, S>()];
  __shared__ float red[KS > 1 ? kI8Warps * R * NT : 1];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int part = warp % KS;  // this warp's share of the steps
  // Row group (R rows) of this warp's set; the grid gives every group its
  // own set. (A persistent grid, one wave of warps looping over groups, was
  // tried: the static split left some warps a group more than others and
  // 7168->18432 went 23.6 -> 27.3 us on the H200.)
  const int row0 = (blockIdx.x * (kI8Warps / KS) + warp / KS) * R;
  const int nsb = K >> 8, nb32 = K >> 5, nsteps = (nsb + 7) >> 3;
  const int mine = row0 < N && nsteps > part ? (nsteps - part + KS - 1) / KS : 0;  // steps of this warp
  if (KS == 1 && mine == 0) {  // (with KS > 1 every warp must reach the barrier)
    GridDependencyWait();
    return;
  }
  u8* buf = smem + warp * S * R * kI8Q4KStepBytes;
  const int q = lane >> 2, c = lane & 3;

  // One commit group per call, empty past the end, so wait_group counts stay uniform.
  auto issue = [&](int i) {
    if (i < mine) {
      const int s = part + KS * i;
      u8* dst = buf + (i % S) * R * kI8Q4KStepBytes;
      const int chunks = min(8, nsb - 8 * s) * 9;  // 144-byte super-blocks = 9 chunks of 16
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const u8* src = w + static_cast<long long>(min(row0 + r, N - 1)) * row_bytes +
                        static_cast<long long>(s) * kI8Q4KStepBytes;
#pragma unroll
        for (int j = 0; j < 3; ++j) {
          const int ch = lane + 32 * j;
          if (ch < chunks) CpAsync16(dst + r * kI8Q4KStepBytes + 16 * ch, src + 16 * ch, 16);
        }
      }
    }
    CpAsyncCommit();
  };
#pragma unroll
  for (int i = 0; i < S - 1; ++i) issue(i);

  float acc[R][NT];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;

  GridDependentsLaunch();  // the next kernel may be scheduled into our tail (it waits for us before it reads)
  GridDependencyWait();    // x comes from the previous kernel; the weights did not wait for it
  for (int i = 0; i < mine; ++i) {
    issue(i + S - 1);
    CpAsyncWait<S - 1>();
    __syncwarp();
    const int s = part + KS * i;
    const int sb = 8 * s + q;
    if (sb < nsb) {
      const u8* st = buf + (i % S) * R * kI8Q4KStepBytes + q * 144;
      uint4 qa[R], qb[R];
      float a0[R], a1[R], b0[R], b1[R];  // d * scale and dmin * min of sub-blocks 2c, 2c+1
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const uint4 h = *reinterpret_cast<const uint4*>(st + r * kI8Q4KStepBytes);
        qa[r] = *reinterpret_cast<const uint4*>(st + r * kI8Q4KStepBytes + 16 + 32 * c);
        qb[r] = *reinterpret_cast<const uint4*>(st + r * kI8Q4KStepBytes + 32 + 32 * c);
        const float d = HalfToFloat(h.x & 0xffff), dmin = HalfToFloat(h.x >> 16);
        const u32 sc = c < 2 ? (h.y & 0x3F3F3F3Fu) : ((h.w & 0x0F0F0F0Fu) | ((h.y >> 2) & 0x30303030u));
        const u32 mn = c < 2 ? (h.z & 0x3F3F3F3Fu) : (((h.w >> 4) & 0x0F0F0F0Fu) | ((h.z >> 2) & 0x30303030u));
        const int j = (2 * c) & 3;
        a0[r] = d * ByteToFloat(sc, j, 8388608.0f);
        a1[r] = d * ByteToFloat(sc, j + 1, 8388608.0f);
        b0[r] = dmin * ByteToFloat(mn, j, 8388608.0f);
        b1[r] = dmin * ByteToFloat(mn, j + 1, 8388608.0f);
      }
      const long long kx = 2048LL * s + 16 * lane;  // I8Pos, Q4_K layout
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const uint4* ph = reinterpret_cast<const uint4*>(xa.hi + t * xa.kp + kx);
        const uint4* pl = reinterpret_cast<const uint4*>(xa.lo + t * xa.kp + kx);
        const uint4 h0 = __ldg(ph), h1 = __ldg(ph + 32), h2 = __ldg(ph + 64), h3 = __ldg(ph + 96);
        const uint4 l0 = __ldg(pl), l1 = __ldg(pl + 32), l2 = __ldg(pl + 64), l3 = __ldg(pl + 96);
        const float4 ds = __ldg(reinterpret_cast<const float4*>(xa.ds + t * static_cast<long long>(nb32) + 8 * sb + 2 * c));
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const uint4 A = qa[r], B = qb[r];
          const u32 m = 0x0F0F0F0Fu;
          int s0h = kI8Magic, s0l = kI8Magic, s1h = kI8Magic, s1l = kI8Magic;
          s0h = Dp4a(A.x & m, h0.x, s0h); s0l = Dp4a(A.x & m, l0.x, s0l);
          s0h = Dp4a(A.y & m, h0.y, s0h); s0l = Dp4a(A.y & m, l0.y, s0l);
          s0h = Dp4a(A.z & m, h0.z, s0h); s0l = Dp4a(A.z & m, l0.z, s0l);
          s0h = Dp4a(A.w & m, h0.w, s0h); s0l = Dp4a(A.w & m, l0.w, s0l);
          s0h = Dp4a(B.x & m, h1.x, s0h); s0l = Dp4a(B.x & m, l1.x, s0l);
          s0h = Dp4a(B.y & m, h1.y, s0h); s0l = Dp4a(B.y & m, l1.y, s0l);
          s0h = Dp4a(B.z & m, h1.z, s0h); s0l = Dp4a(B.z & m, l1.z, s0l);
          s0h = Dp4a(B.w & m, h1.w, s0h); s0l = Dp4a(B.w & m, l1.w, s0l);
          s1h = Dp4a((A.x >> 4) & m, h2.x, s1h); s1l = Dp4a((A.x >> 4) & m, l2.x, s1l);
          s1h = Dp4a((A.y >> 4) & m, h2.y, s1h); s1l = Dp4a((A.y >> 4) & m, l2.y, s1l);
          s1h = Dp4a((A.z >> 4) & m, h2.z, s1h); s1l = Dp4a((A.z >> 4) & m, l2.z, s1l);
          s1h = Dp4a((A.w >> 4) & m, h2.w, s1h); s1l = Dp4a((A.w >> 4) & m, l2.w, s1l);
          s1h = Dp4a((B.x >> 4) & m, h3.x, s1h); s1l = Dp4a((B.x >> 4) & m, l3.x, s1l);
          s1h = Dp4a((B.y >> 4) & m, h3.y, s1h); s1l = Dp4a((B.y >> 4) & m, l3.y, s1l);
          s1h = Dp4a((B.z >> 4) & m, h3.z, s1h); s1l = Dp4a((B.z >> 4) & m, l3.z, s1l);
          s1h = Dp4a((B.w >> 4) & m, h3.w, s1h); s1l = Dp4a((B.w >> 4) & m, l3.w, s1l);
          float a = acc[r][t];
          a = fmaf(a0[r] * ds.x, TwoLevel(s0h, s0l), a);
          a = fmaf(-b0[r], ds.y, a);
          a = fmaf(a1[r] * ds.z, TwoLevel(s1h, s1l), a);
          a = fmaf(-b1[r], ds.w, a);
          acc[r][t] = a;
        }
      }
    }
    __syncwarp();  // the stage is refilled S - 1 steps later
  }
  I8Finish<R, NT, KS>(acc, red, warp, lane, row0, N, y, ldy);
}

// ---------------------------------------------------------------------------
// Q8_0: lane takes block 32 * step + lane of its rows. Blocks are 34 bytes,
// so a block starts 4-byte aligned or 2 bytes past; the lane loads the
// aligned words around it and shifts with one PRMT per word. The last word
// is read as two halves so that a block at the very end of the buffer never
// reads past it.
template <int NT, int R, int U>
__global__ void __launch_bounds__(kI8Warps * 32) GemvI8Q80Kernel(const u8* __restrict__ w, long long row_bytes,
                                                                 int K, int N, I8Act xa, float* __restrict__ y,
                                                                 long long ldy) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int row0 = (blockIdx.x * kI8Warps + warp) * R;
  if (row0 >= N) {
    GridDependencyWait();
    return;
  }
  const int nb = K >> 5;
  const u8* rows[R];
#pragma unroll
  for (int r = 0; r < R; ++r) rows[r] = w + static_cast<long long>(min(row0 + r, N - 1)) * row_bytes;

  float acc[R][NT];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;

  bool waited = false;
  for (int b0 = 0; b0 < nb; b0 += 32 * U) {
    u32 wd[U][R][9];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int b = b0 + 32 * u + lane;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        if (b < nb) {
          const u8* p = rows[r] + 34LL * b;
          const size_t off = reinterpret_cast<size_t>(p) & 3;
          const u32* a = reinterpret_cast<const u32*>(p - off);
#pragma unroll
          for (int i = 0; i < 8; ++i) wd[u][r][i] = __ldg(a + i);
          const u16* tail = reinterpret_cast<const u16*>(a + 8);
          wd[u][r][8] = static_cast<u32>(__ldg(tail)) | (off ? static_cast<u32>(__ldg(tail + 1)) << 16 : 0u);
        } else {
#pragma unroll
          for (int i = 0; i < 9; ++i) wd[u][r][i] = 0;
        }
      }
    }
    if (!waited) {
      GridDependentsLaunch();
      GridDependencyWait();
      waited = true;
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int b = b0 + 32 * u + lane;
      if (b >= nb) continue;
      float dw[R];
      u32 qv[R][8];
#pragma unroll
      for (int r = 0; r < R; ++r) {
        // Rows share the alignment only when row_bytes % 4 == 0; recompute.
        const bool o = ((reinterpret_cast<size_t>(rows[r]) + 34LL * b) & 3) != 0;
        dw[r] = HalfToFloat(o ? wd[u][r][0] >> 16 : wd[u][r][0] & 0xffff);
        const u32 sel = o ? 0x7654u : 0x5432u;
#pragma unroll
        for (int i = 0; i < 8; ++i) qv[r][i] = __byte_perm(wd[u][r][i], wd[u][r][i + 1], sel);
      }
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const long long kx = t * xa.kp + 1024LL * ((b0 >> 5) + u) + 16 * lane;  // I8Pos, Q8_0 layout
        const uint4* ph = reinterpret_cast<const uint4*>(xa.hi + kx);
        const uint4* pl = reinterpret_cast<const uint4*>(xa.lo + kx);
        const uint4 h0 = __ldg(ph), h1 = __ldg(ph + 32), l0 = __ldg(pl), l1 = __ldg(pl + 32);
        const float dx = __ldg(&xa.ds[t * static_cast<long long>(nb) + b].x);
#pragma unroll
        for (int r = 0; r < R; ++r) {
          int sh = kI8Magic, sl = kI8Magic;
          sh = Dp4a(qv[r][0], h0.x, sh); sl = Dp4a(qv[r][0], l0.x, sl);
          sh = Dp4a(qv[r][1], h0.y, sh); sl = Dp4a(qv[r][1], l0.y, sl);
          sh = Dp4a(qv[r][2], h0.z, sh); sl = Dp4a(qv[r][2], l0.z, sl);
          sh = Dp4a(qv[r][3], h0.w, sh); sl = Dp4a(qv[r][3], l0.w, sl);
          sh = Dp4a(qv[r][4], h1.x, sh); sl = Dp4a(qv[r][4], l1.x, sl);
          sh = Dp4a(qv[r][5], h1.y, sh); sl = Dp4a(qv[r][5], l1.y, sl);
          sh = Dp4a(qv[r][6], h1.z, sh); sl = Dp4a(qv[r][6], l1.z, sl);
          sh = Dp4a(qv[r][7], h1.w, sh); sl = Dp4a(qv[r][7], l1.w, sl);
          acc[r][t] = fmaf(dw[r] * dx, TwoLevel(sh, sl), acc[r][t]);
        }
      }
    }
  }
  if (!waited) GridDependencyWait();
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      const float v = WarpSum(acc[r][t]);
      if (lane == 0 && row0 + r < N) y[t * ldy + row0 + r] = v;
    }
}

// ---------------------------------------------------------------------------
// Q6_K: 210-byte super-blocks (ql[128] low nibbles, qh[64] high bit pairs,
// 16 int8 scales, f16 d). A step is 8 super-blocks (1680 bytes, a multiple of
// 16) of each of the warp's R rows, staged by cp.async in CB-byte chunks (CB =
// the largest of 16, 8, 4 that the rows' alignment allows). Super-blocks sit
// 2-byte aligned in shared memory, so a lane reads the aligned words around
// its bytes and shifts with one PRMT per word. Lane (q = lane / 4, n, p)
// takes super-block q, half n, l = 16p .. 16p+15 of the four quarters: 64
// values, each quarter one 16-value scale block. q - 32 is taken out as
// -32 * sc * (exact sum of the 16 x), so dp4a sees the unsigned 6-bit quants.
constexpr int kI8Q6KStepBytes = 8 * 210;

template <int R, int S>
__host__ __device__ constexpr int GemvI8Q6KSmemBytes() { return kI8Warps * S * R * kI8Q6KStepBytes + 16; }

template <int CB>
KT_CUDA_FORCEINLINE void CpAsyncN(void* dst, const void* src, int src_bytes) {
  if constexpr (CB == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(SmemAddr(dst)), "l"(src), "r"(src_bytes));
  } else {
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(SmemAddr(dst)), "l"(src), "n"(CB),
                 "r"(src_bytes));
  }
}

// 16 bytes at a 2-byte aligned shared address, as 4 words.
KT_CUDA_FORCEINLINE uint4 Lds16A2(const u8* p) {
  const u32* a = reinterpret_cast<const u32*>(reinterpret_cast<size_t>(p) & ~static_cast<size_t>(3));
  const u32 sel = (reinterpret_cast<size_t>(p) & 2) ? 0x5432u : 0x3210u;
  const u32 w0 = a[0], w1 = a[1], w2 = a[2], w3 = a[3], w4 = a[4];
  return make_uint4(__byte_perm(w0, w1, sel), __byte_perm(w1, w2, sel), __byte_perm(w2, w3, sel),
                    __byte_perm(w3, w4, sel));
}

template <int NT, int R, int S, int CB, int KS>
__global__ void __launch_bounds__(kI8Warps * 32) GemvI8Q6KKernel(const u8* __restrict__ w, long long row_bytes,
                                                                 int K, int N, I8Act xa, float* __restrict__ y,
                                                                 long long ldy) {
  static_assert(kI8Warps % KS == 0, "KS must divide the warps of a block");
  __shared__ __align__(16) u8 smem[GemvI8Q6KSmemBytes<R, S>()];  // +16: Lds16A2 may read a word past a stage
  __shared__ float red[KS > 1 ? kI8Warps * R * NT : 1];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int part = warp % KS;  // KS warps split the steps of the same rows, as in the Q4_K kernel
  const int row0 = (blockIdx.x * (kI8Warps / KS) + warp / KS) * R;
  const int nsb = K >> 8, nsteps = (nsb + 7) >> 3;
  const int mine = row0 < N && nsteps > part ? (nsteps - part + KS - 1) / KS : 0;
  if (KS == 1 && mine == 0) {
    GridDependencyWait();
    return;
  }
  u8* buf = smem + warp * S * R * kI8Q6KStepBytes;
  const int q = lane >> 2, n = (lane >> 1) & 1, p = lane & 1;

  auto issue = [&](int i) {
    if (i < mine) {
      const int s = part + KS * i;
      u8* dst = buf + (i % S) * R * kI8Q6KStepBytes;
      const int bytes = min(8, nsb - 8 * s) * 210;
      const int chunks = (bytes + CB - 1) / CB;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const u8* src = w + static_cast<long long>(min(row0 + r, N - 1)) * row_bytes +
                        static_cast<long long>(s) * kI8Q6KStepBytes;
        for (int ch = lane; ch < chunks; ch += 32)
          CpAsyncN<CB>(dst + r * kI8Q6KStepBytes + CB * ch, src + CB * ch, min(CB, bytes - CB * ch));
      }
    }
    CpAsyncCommit();
  };
#pragma unroll
  for (int i = 0; i < S - 1; ++i) issue(i);

  float acc[R][NT];
#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;

  GridDependentsLaunch();
  GridDependencyWait();
  for (int i = 0; i < mine; ++i) {
    issue(i + S - 1);
    CpAsyncWait<S - 1>();
    __syncwarp();
    const int s = part + KS * i;
    const int sb = 8 * s + q;
    if (sb < nsb) {
      const u8* st = buf + (i % S) * R * kI8Q6KStepBytes + q * 210;
      u32 qv[R][4][4];  // [row][quarter][word]: 6-bit quants, l = 16p + 4*word + byte
      float a[R][4];    // d * scale of the quarter's 16-value block
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const u8* b = st + r * kI8Q6KStepBytes;
        const uint4 A = Lds16A2(b + 64 * n + 16 * p), B = Lds16A2(b + 64 * n + 32 + 16 * p);
        const uint4 H = Lds16A2(b + 128 + 32 * n + 16 * p);
        const u32 aw[4] = {A.x, A.y, A.z, A.w}, bw[4] = {B.x, B.y, B.z, B.w}, hw[4] = {H.x, H.y, H.z, H.w};
#pragma unroll
        for (int k = 0; k < 4; ++k) {
          qv[r][0][k] = (aw[k] & 0x0F0F0F0Fu) | ((hw[k] << 4) & 0x30303030u);
          qv[r][1][k] = (bw[k] & 0x0F0F0F0Fu) | ((hw[k] << 2) & 0x30303030u);
          qv[r][2][k] = ((aw[k] >> 4) & 0x0F0F0F0Fu) | (hw[k] & 0x30303030u);
          qv[r][3][k] = ((bw[k] >> 4) & 0x0F0F0F0Fu) | ((hw[k] >> 2) & 0x30303030u);
        }
        // scales[8n + p + 2i], i = 0..3: bytes p, p+2, p+4, p+6 of scales[8n .. 8n+7].
        const u8* sc = b + 192 + 8 * n;
        const u32* sa = reinterpret_cast<const u32*>(reinterpret_cast<size_t>(sc) & ~static_cast<size_t>(3));
        const u32 ssel = (reinterpret_cast<size_t>(sc) & 2) ? 0x5432u : 0x3210u;
        const u32 s0 = __byte_perm(sa[0], sa[1], ssel), s1 = __byte_perm(sa[1], sa[2], ssel);
        const u32 picked = __byte_perm(s0, s1, p ? 0x7531u : 0x6420u) ^ 0x80808080u;  // int8 -> +128
        const float d = HalfToFloat(*reinterpret_cast<const u16*>(b + 208));
#pragma unroll
        for (int i = 0; i < 4; ++i) a[r][i] = d * ByteToFloat(picked, i, 8388736.0f);  // 2^23 + 128
      }
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        const long long kx = t * xa.kp + 2048LL * s + 16 * lane;  // I8Pos, Q6_K layout
        const uint4* ph = reinterpret_cast<const uint4*>(xa.hi + kx);
        const uint4* pl = reinterpret_cast<const uint4*>(xa.lo + kx);
        uint4 h[4], l[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) { h[i] = __ldg(ph + 32 * i); l[i] = __ldg(pl + 32 * i); }
        // Quarter i of this lane lies in x block 8sb + 4n + i; its 16 values are half p of it.
        const float4 d01 = __ldg(reinterpret_cast<const float4*>(xa.ds + t * static_cast<long long>(K >> 5) + 8 * sb + 4 * n));
        const float4 d23 = __ldg(reinterpret_cast<const float4*>(xa.ds + t * static_cast<long long>(K >> 5) + 8 * sb + 4 * n + 2));
        const float dx[4] = {d01.x, d01.z, d23.x, d23.z};
        const float* s16 = xa.s16 + t * static_cast<long long>(K >> 4) + 16 * sb + 8 * n + p;
        float sx[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) sx[i] = __ldg(s16 + 2 * i);
#pragma unroll
        for (int r = 0; r < R; ++r) {
          float acc_r = acc[r][t];
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            int sh = kI8Magic, sl = kI8Magic;
            sh = Dp4a(qv[r][i][0], h[i].x, sh); sl = Dp4a(qv[r][i][0], l[i].x, sl);
            sh = Dp4a(qv[r][i][1], h[i].y, sh); sl = Dp4a(qv[r][i][1], l[i].y, sl);
            sh = Dp4a(qv[r][i][2], h[i].z, sh); sl = Dp4a(qv[r][i][2], l[i].z, sl);
            sh = Dp4a(qv[r][i][3], h[i].w, sh); sl = Dp4a(qv[r][i][3], l[i].w, sl);
            acc_r = fmaf(a[r][i], fmaf(dx[i], TwoLevel(sh, sl), -32.0f * sx[i]), acc_r);
          }
          acc[r][t] = acc_r;
        }
      }
    }
    __syncwarp();
  }
  I8Finish<R, NT, KS>(acc, red, warp, lane, row0, N, y, ldy);
}

}  // namespace kt_cuda
