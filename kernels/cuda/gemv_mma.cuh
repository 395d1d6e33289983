// Decode GEMV / skinny GEMM for Q4_K, Q5_K, Q8_0 and Q6_K weights on int8
// tensor cores, 1..16 tokens per launch, with f32-class accuracy.
//
// Why: with a few tokens per step (multi-token prediction, several requests)
// the weights are still read once, but every weight byte now meets up to 16
// tokens. The dp4a GEMV (gemv_i8.cuh) does that work on CUDA cores and the
// bf16 tensor-core GEMV (gemv_tc.cuh) converts every quant to bf16 and runs
// four m16n8k16 MMAs per 16x32 weights and 8 tokens; both fall to 0.3-0.5x
// of cuBLAS at 16 tokens. Here the stored quants go to mma.sync m16n8k32 s8
// as they are (a Q4_K nibble is a mask away from an int8, Q8_0 bytes are
// int8), so 16x32 weights x 8 tokens cost two MMAs, one per x level.
//
// x is quantised per 256 values in two int8 levels, x ~= dx·(hi + lo/254),
// dx = max|x| / 127 (error below dx / 508, ~1.5e-5 of the 256 values'
// largest |x|), in the layout the MMA's B fragments read (below).
//
// Q4_K: the MMA of sub-block s gives the integer Σ q·xq for 16 rows x 8
// tokens; it is scaled by the row's 6-bit sub-block scale in integer
// arithmetic (IMAD) and summed over the super-block, so floats are touched
// once per 256 values: y += d·dx·(H + L/254) − dmin·Σ_s m_s·Σx_s. The min
// term is itself a small matrix product (16 rows x 8 sub-blocks by 8
// sub-blocks x 8 tokens): one bf16 m16n8k16 MMA per level of Σx (hi + lo,
// ~16 significant bits; the 6-bit mins are exact), instead of 8 FMAs per
// output.
// Q5_K: Q4_K's scheme with a fifth bit per quant (qh), ORed in as bit 4
// before the MMA (quants 0..31 are still int8).
// Q8_0: each 32-value block has its own f16 scale, so its MMA result is
// scaled in floats at once (the accumulator starts at the float 1.5·2^23,
// read back with one FADD instead of an I2F).
// Q6_K: a scale per 16 values, so the MMA is m16n8k16 (one scale block per
// MMA); the 6-bit quants are rebuilt from their low nibble and high bit pair
// and centred (q − 32, an int8) in a few integer ops per 4 weights, the
// result is scaled by the block's int8 scale with IMAD as for Q4_K:
// y += d·dx·(H + L/254). Its 210-byte super-blocks are only 2-byte aligned,
// so each step stages the 16-byte-aligned window of 224 bytes around one
// (the chunk holding its last byte clipped there, so nothing past the matrix
// is read) and reads it at the super-block's offset in that window.
//
// Fragment order: m16n8k32 gives lane (g = lane / 4, t = lane % 4) the A
// bytes k = 4t..4t+3 and 16+4t..16+4t+3 of rows g and g+8, and B bytes of
// the same k for token g. The k order inside a 32-value group does not
// change a dot product, so lane t takes the 8 contiguous stored bytes
// 8t..8t+7 as those k: one 8-byte load per row and per token, no shuffles.
//
// Layout: a block is 4 warps x 16·MT rows; the block walks its share of K
// one 256-value step at a time. Each step stages, by 16-byte cp.async into a
// ring of S stages, every warp's weight rows and the step's x (shared by
// the block's rows). Weights are issued before griddepcontrol.wait, so with
// programmatic dependent launch they stream while the quantiser runs. When
// rows alone give too few blocks, blocks also split K and add into y with
// atomics (the quantiser zeroes y first).
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

constexpr int kMmaWarps = 4;
constexpr int kMmaMaxTokens = 16;
// Workspace record per 256-value step: hi[16 tokens][256] and lo[16][256]
// int8; then the exact sums Σx_s of the 8 32-value sub-blocks as bf16 pairs
// (s = 2p, 2p+1) in two levels, hi[16 tokens][4 pairs] and lo[16][4] (bf16x2
// words: the B fragment of the m16n8k16 MMA that forms Q4_K's min term);
// then dx [16] f32.
constexpr int kMmaSumBytes = 2 * kMmaMaxTokens * 4 * 4;
constexpr int kMmaXRecord = 2 * kMmaMaxTokens * 256 + kMmaSumBytes + kMmaMaxTokens * 4;
// Shared-memory strides (bytes): one token's 256 x values, padded so that the
// 8-byte B loads of a half-warp (4 tokens x 4 lanes) hit 32 distinct banks.
constexpr int kMmaTokStride = 288;
// Q8_0's MMAs start from the float 1.5·2^23 as an integer: |Σ q·xq| < 2^22
// over 32 values, so the result read as a float is exact.
constexpr int kMmaMagic = 0x4B400000;
constexpr float kMmaMagicF = 12582912.0f;

template <int kType> struct MmaFormat;
template <> struct MmaFormat<kQ4_K> {
  static constexpr int kStepBytes = 144;   // one super-block
  static constexpr int kRowStride = 160;   // 144 + pad: conflict-free 8-byte loads (rows 8 banks apart)
};
template <> struct MmaFormat<kQ5_K> {
  static constexpr int kStepBytes = 176;   // one super-block: d, dmin, scales[12], qh[32], qs[128]
  static constexpr int kRowStride = 224;   // 56 words: 4 rows land 8 banks apart
};
template <> struct MmaFormat<kQ8_0> {
  static constexpr int kStepBytes = 272;   // eight 34-byte blocks
  static constexpr int kRowStride = 272;   // word loads at 2-byte-misaligned spots conflict little
};
template <> struct MmaFormat<kQ6_K> {
  static constexpr int kStepBytes = 224;   // the 16-byte-aligned window around one 210-byte super-block
  static constexpr int kRowStride = 224;   // 56 words: 4 rows land 8 banks apart
};

// Bytes of one stage: x of NT·8 tokens (both levels) + sums + dx, then the
// block's weight rows.
__host__ __device__ constexpr int MmaXStageBytes(int nt8) { return 2 * 8 * nt8 * kMmaTokStride + kMmaSumBytes + 16 * 4; }
template <int kType, int MT, int NT>
__host__ __device__ constexpr int MmaStageBytes() {
  return MmaXStageBytes(NT) + kMmaWarps * 16 * MT * MmaFormat<kType>::kRowStride;
}
template <int kType, int MT, int NT, int S>
__host__ __device__ constexpr int MmaSmemBytes() { return S * MmaStageBytes<kType, MT, NT>(); }

// D = A·B (+C) on int8: 16x32 (rows) by 32x8 (tokens) -> 16x8 int32.
KT_CUDA_FORCEINLINE void MmaS8(int (&d)[4], const u32 (&a)[4], u32 b0, u32 b1, int c) {
  asm(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%10,%10,%10};\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1), "r"(c));
}

// D = A·B (+C) on int8: 16x16 (rows) by 16x8 (tokens) -> 16x8 int32. Lane
// (g, t) gives A bytes k = 4t..4t+3 of rows g and g+8, B bytes of the same k
// for token g.
KT_CUDA_FORCEINLINE void MmaS8K16(int (&d)[4], u32 a0, u32 a1, u32 b, int c) {
  asm(
      "mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%7,%7,%7,%7};\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a0), "r"(a1), "r"(b), "r"(c));
}

// x (f32, ntok rows of ldx) -> the workspace records above, for the first
// `toks` tokens (8 or 16: what the GEMV stages); tokens >= ntok become zeros.
// One warp per (step, token): lane L holds values 8L..8L+7.
// NaN anywhere in a step's 256 values makes its dx NaN (fmaxf would drop
// it), so it reaches y instead of vanishing. Also zeroes y when the GEMV
// splits K (y_zero != nullptr).
__global__ void __launch_bounds__(256) QuantizeMmaKernel(const float* __restrict__ x, long long ldx, int ntok,
                                                         int toks, int K, u8* __restrict__ ws,
                                                         float* __restrict__ y_zero, int N, long long ldy) {
  GridDependentsLaunch();  // the GEMV may start streaming weights now
  GridDependencyWait();    // x is written and the workspace's last reader is done
  if (y_zero) {
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < static_cast<long long>(ntok) * N;
         i += static_cast<long long>(gridDim.x) * blockDim.x)
      y_zero[(i / N) * ldy + i % N] = 0.0f;
  }
  const int lane = threadIdx.x & 31;
  const int gw = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int nsb = K >> 8;
  if (gw >= nsb * toks) return;  // whole warps leave together
  const int ks = gw / toks, tok = gw % toks;
  float v[8];
  if (tok < ntok) {
    const float4* p = reinterpret_cast<const float4*>(x + tok * ldx + 256LL * ks + 8 * lane);
    const float4 a = p[0], b = p[1];
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
  } else {
#pragma unroll
    for (int e = 0; e < 8; ++e) v[e] = 0.0f;
  }
  float amax = 0.0f, s8 = 0.0f;
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    amax = fmaxf(amax, fabsf(v[e]));
    s8 += v[e];
  }
  amax = WarpMax(amax);
  const float total = WarpSum(s8);
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  float d = amax / 127.0f;
  if (total != total) d = total;
  u32 hw[2] = {0, 0}, lw[2] = {0, 0};
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    const float qh = fminf(fmaxf(rintf(v[e] * id), -127.0f), 127.0f);
    const float ql = fminf(fmaxf(rintf((v[e] - d * qh) * id * 254.0f), -127.0f), 127.0f);
    hw[e >> 2] |= (static_cast<u32>(static_cast<int>(qh)) & 0xFFu) << (8 * (e & 3));
    lw[e >> 2] |= (static_cast<u32>(static_cast<int>(ql)) & 0xFFu) << (8 * (e & 3));
  }
  u8* rec = ws + static_cast<long long>(ks) * kMmaXRecord;
  *reinterpret_cast<uint2*>(rec + tok * 256 + 8 * lane) = make_uint2(hw[0], hw[1]);
  *reinterpret_cast<uint2*>(rec + kMmaMaxTokens * 256 + tok * 256 + 8 * lane) = make_uint2(lw[0], lw[1]);
  // Σx of each 32 values: lanes 4s..4s+3 hold sub-block s; lane 8p writes
  // the pair (2p, 2p+1).
  float s32 = s8;
  s32 += __shfl_xor_sync(0xffffffffu, s32, 1);
  s32 += __shfl_xor_sync(0xffffffffu, s32, 2);
  const float s32_odd = __shfl_down_sync(0xffffffffu, s32, 4);
  u32* sums = reinterpret_cast<u32*>(rec + 2 * kMmaMaxTokens * 256);
  if ((lane & 7) == 0) {
    const u16 he = FloatToBf16(s32), ho = FloatToBf16(s32_odd);
    const u16 le = FloatToBf16(s32 - Bf16ToFloat(he)), lo = FloatToBf16(s32_odd - Bf16ToFloat(ho));
    sums[tok * 4 + (lane >> 3)] = static_cast<u32>(he) | (static_cast<u32>(ho) << 16);
    sums[kMmaMaxTokens * 4 + tok * 4 + (lane >> 3)] = static_cast<u32>(le) | (static_cast<u32>(lo) << 16);
  }
  if (lane == 0) reinterpret_cast<float*>(rec + 2 * kMmaMaxTokens * 256 + kMmaSumBytes)[tok] = d;
}

// Lane's 8 stored bytes 8t..8t+7 of a 32-byte group of row `row` (16-byte
// aligned shared memory, group offset a multiple of 8).
KT_CUDA_FORCEINLINE uint2 LdS64(const u8* p) { return *reinterpret_cast<const uint2*>(p); }

// 8 bytes at a 2-byte-aligned shared address, from aligned words.
KT_CUDA_FORCEINLINE uint2 LdS64Unaligned2(const u8* p) {
  const size_t a = reinterpret_cast<size_t>(p);
  const u32* w = reinterpret_cast<const u32*>(a & ~static_cast<size_t>(3));
  if ((a & 3) == 0) return make_uint2(w[0], w[1]);
  const u32 w0 = w[0], w1 = w[1], w2 = w[2];
  return make_uint2(__byte_perm(w0, w1, 0x5432), __byte_perm(w1, w2, 0x5432));
}

// 4 bytes at a 2-byte-aligned shared address, from aligned words.
KT_CUDA_FORCEINLINE u32 LdS32Unaligned2(const u8* p) {
  const size_t a = reinterpret_cast<size_t>(p);
  const u32* w = reinterpret_cast<const u32*>(a & ~static_cast<size_t>(3));
  return (a & 3) == 0 ? w[0] : __byte_perm(w[0], w[1], 0x5432);
}

// Four Q6_K quants from 4 low nibbles (in `lo`, already masked) and 4 high
// bit pairs (in `hi2`, masked, at bits 0-1 of each byte), centred: q − 32 as
// int8. q ^ 0x20 is q − 32 as a 6-bit two's complement; adding 6·(bit 5)
// (0xC0) sign-extends it to 8 bits, with no carry between bytes.
KT_CUDA_FORCEINLINE u32 Q6Centred(u32 lo, u32 hi2) {
  const u32 t = (lo | (hi2 << 4)) ^ 0x20202020u;
  return (t & 0x20202020u) * 6u + t;
}

template <int kType, int MT, int NT, int S>
__global__ void __launch_bounds__(kMmaWarps * 32) GemvMmaKernel(const u8* __restrict__ w, long long row_bytes, int K,
                                                                int N, const u8* __restrict__ xw, int ntok,
                                                                float* __restrict__ y, long long ldy,
                                                                int steps_per_split) {
  using F = MmaFormat<kType>;
  constexpr int kStage = MmaStageBytes<kType, MT, NT>();
  constexpr int kXBytes = MmaXStageBytes(NT);
  constexpr int kRows = 16 * MT;                      // rows of one warp
  constexpr int kWChunks = kRows * F::kStepBytes / 16;  // 16-byte copies of one warp's step
  constexpr int kStepChunks = F::kStepBytes / 16;
  extern __shared__ __align__(16) u8 smem[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int nsteps_all = K >> 8;
  const int ks0 = blockIdx.y * steps_per_split;
  const int nsteps = min(nsteps_all, ks0 + steps_per_split) - ks0;
  const int wrow0 = (blockIdx.x * kMmaWarps + warp) * kRows;  // this warp's first row

  // Each thread's 16-byte copies are the same every step but for the step's
  // offset: their source and destination offsets are worked out once.
  constexpr int kWIter = (kWChunks + 31) / 32;
  const u8* wsrc[kWIter];
  int wdst[kWIter];
  int wch[kWIter];  // Q6_K: the chunk's index in its window (wsrc is then the row's start)
#pragma unroll
  for (int j = 0; j < kWIter; ++j) {
    const int c = min(lane + 32 * j, kWChunks - 1);  // (lanes past the end do not copy)
    const int r = c / kStepChunks, ch = c - r * kStepChunks;
    wsrc[j] = w + static_cast<long long>(min(wrow0 + r, N - 1)) * row_bytes + (kType == kQ6_K ? 0 : 16 * ch);
    wdst[j] = kXBytes + warp * kRows * F::kRowStride + r * F::kRowStride + 16 * ch;
    wch[j] = ch;
  }
  constexpr int kTokChunks = 2 * 8 * NT * 16;  // both levels, 16 chunks per token
  constexpr int kXChunks = kTokChunks + (kMmaSumBytes + 16 * 4) / 16;
  constexpr int kXIter = (kXChunks + kMmaWarps * 32 - 1) / (kMmaWarps * 32);
  int xsrc[kXIter], xdst[kXIter];
#pragma unroll
  for (int j = 0; j < kXIter; ++j) {
    const int c = min(static_cast<int>(threadIdx.x) + kMmaWarps * 32 * j, kXChunks - 1);  // (past the end: no copy)
    if (c < kTokChunks) {
      const int lv = c / (8 * NT * 16), r = c % (8 * NT * 16), tok = r >> 4, ch = r & 15;
      xsrc[j] = (lv * kMmaMaxTokens + tok) * 256 + 16 * ch;
      xdst[j] = (lv * 8 * NT + tok) * kMmaTokStride + 16 * ch;
    } else {
      const int ch = c - kTokChunks;
      xsrc[j] = 2 * kMmaMaxTokens * 256 + 16 * ch;
      xdst[j] = 2 * 8 * NT * kMmaTokStride + 16 * ch;
    }
  }
  auto issue_w = [&](int i) {  // this warp's rows of step i
    if (i >= nsteps) return;
    u8* dst = smem + (i % S) * kStage;
    if constexpr (kType == kQ6_K) {
      // The window's chunks: from the 16-byte boundary at or before the
      // super-block to the last chunk holding one of its bytes (that one
      // clipped, so nothing past the matrix is read).
      const long long sb = 210LL * (ks0 + i);
#pragma unroll
      for (int j = 0; j < kWIter; ++j) {
        if (!(kWChunks % 32 == 0 || j < kWIter - 1 || lane + 32 * j < kWChunks)) continue;
        const long long row_off = wsrc[j] - w;  // the row's first byte (the chunk index is added below)
        const long long base = row_off + sb, start = base & ~15LL;
        const long long from = start + 16 * wch[j];
        const long long left = base + 210 - from;
        if (left > 0) CpAsync16(dst + wdst[j], w + from, left < 16 ? static_cast<int>(left) : 16);
      }
    } else {
      const long long col = static_cast<long long>(ks0 + i) * F::kStepBytes;
#pragma unroll
      for (int j = 0; j < kWIter; ++j)
        if (kWChunks % 32 == 0 || j < kWIter - 1 || lane + 32 * j < kWChunks) CpAsync16(dst + wdst[j], wsrc[j] + col, 16);
    }
  };
  auto issue_x = [&](int i) {  // the step's x, by the whole block
    if (i >= nsteps) return;
    u8* dst = smem + (i % S) * kStage;
    const u8* rec = xw + static_cast<long long>(ks0 + i) * kMmaXRecord;
#pragma unroll
    for (int j = 0; j < kXIter; ++j)
      if (j < kXIter - 1 || static_cast<int>(threadIdx.x) + kMmaWarps * 32 * j < kXChunks)
        CpAsync16(dst + xdst[j], rec + xsrc[j], 16);
  };

  // Weights first: they do not depend on the previous kernel.
#pragma unroll
  for (int i = 0; i < S - 1; ++i) issue_w(i);
  GridDependentsLaunch();
  GridDependencyWait();  // x (and y's zeroing) come from the quantiser
#pragma unroll
  for (int i = 0; i < S - 1; ++i) {
    issue_x(i);
    CpAsyncCommit();  // group i: x of step i (group 0 also holds the weights of steps 0..S-2)
  }

  float acc[MT][NT][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int v = 0; v < 4; ++v) acc[m][n][v] = 0.0f;

  for (int i = 0; i < nsteps; ++i) {
    CpAsyncWait<S - 2>();
    __syncthreads();  // step i visible to all; step i - 1's stage is free
    issue_w(i + S - 1);
    issue_x(i + S - 1);
    CpAsyncCommit();
    const u8* st = smem + (i % S) * kStage;
    const u8* xh = st;                                   // [8·NT tokens][kMmaTokStride]
    const u8* xl = st + 8 * NT * kMmaTokStride;
    const u32* sums = reinterpret_cast<const u32*>(st + 2 * 8 * NT * kMmaTokStride);  // Σx pairs hi, lo
    const float* dxs = reinterpret_cast<const float*>(st + 2 * 8 * NT * kMmaTokStride + kMmaSumBytes);
    const u8* ws_rows = st + kXBytes + warp * kRows * F::kRowStride;
    if constexpr (kType == kQ4_K || kType == kQ5_K) {
      constexpr bool k5 = kType == kQ5_K;
      constexpr int kQs = k5 ? 48 : 16;  // where the 4-bit quants start (Q5_K: after qh[32] at 16)
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        const u8* r0 = ws_rows + (16 * m + g) * F::kRowStride;
        const u8* r1 = r0 + 8 * F::kRowStride;
        const uint4 h0 = *reinterpret_cast<const uint4*>(r0);
        const uint4 h1 = *reinterpret_cast<const uint4*>(r1);
        // 6-bit scales (sc) and mins (m) of sub-blocks 0..3 and 4..7, one per byte.
        const u32 sc0[2] = {h0.y & 0x3F3F3F3Fu, (h0.w & 0x0F0F0F0Fu) | ((h0.y >> 2) & 0x30303030u)};
        const u32 sc1[2] = {h1.y & 0x3F3F3F3Fu, (h1.w & 0x0F0F0F0Fu) | ((h1.y >> 2) & 0x30303030u)};
        int H[NT][4] = {}, L[NT][4] = {};  // Σ over the super-block of scale · integer MMA result, per level
        uint2 qh0 = make_uint2(0, 0), qh1 = make_uint2(0, 0);  // Q5_K: bit s of byte l is quant l's bit 4 in sub-block s
        if constexpr (k5) {
          qh0 = LdS64(r0 + 16 + 8 * t);
          qh1 = LdS64(r1 + 16 + 8 * t);
        }
#pragma unroll
        for (int j = 0; j < 4; ++j) {  // 64 values: sub-blocks 2j (low nibbles) and 2j+1 (high)
          const uint2 q0 = LdS64(r0 + kQs + 32 * j + 8 * t), q1 = LdS64(r1 + kQs + 32 * j + 8 * t);
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int s = 2 * j + half;
            const u32 mk = 0x0F0F0F0Fu;
            u32 a[4] = {(q0.x >> (4 * half)) & mk, (q1.x >> (4 * half)) & mk, (q0.y >> (4 * half)) & mk,
                        (q1.y >> (4 * half)) & mk};
            if constexpr (k5) {
              const u32 m1 = 0x01010101u;
              a[0] |= ((qh0.x >> s) & m1) << 4;
              a[1] |= ((qh1.x >> s) & m1) << 4;
              a[2] |= ((qh0.y >> s) & m1) << 4;
              a[3] |= ((qh1.y >> s) & m1) << 4;
            }
            const int s0 = (sc0[s >> 2] >> (8 * (s & 3))) & 0xFF, s1 = (sc1[s >> 2] >> (8 * (s & 3))) & 0xFF;
#pragma unroll
            for (int n = 0; n < NT; ++n) {
              const int off = (8 * n + g) * kMmaTokStride + 32 * s + 8 * t;
              const uint2 bh = LdS64(xh + off), bl = LdS64(xl + off);
              int dh[4], dl[4];
              MmaS8(dh, a, bh.x, bh.y, 0);
              MmaS8(dl, a, bl.x, bl.y, 0);
              H[n][0] += s0 * dh[0]; H[n][1] += s0 * dh[1]; H[n][2] += s1 * dh[2]; H[n][3] += s1 * dh[3];
              L[n][0] += s0 * dl[0]; L[n][1] += s0 * dl[1]; L[n][2] += s1 * dl[2]; L[n][3] += s1 * dl[3];
            }
          }
        }
        // Per super-block: y += d·dx·(H + L/254) − dmin·Σ_s m_s·Σx_s.
        const float d0 = HalfToFloat(h0.x & 0xffff), dm0 = HalfToFloat(h0.x >> 16);
        const float d1 = HalfToFloat(h1.x & 0xffff), dm1 = HalfToFloat(h1.x >> 16);
        // Mins of sub-blocks 2t, 2t+1 (this lane's k of the min-term MMA) as
        // bf16 pairs: bytes placed under 0x43 are 128 + m, then 128 is taken off.
        const u32 w0 = t < 2 ? h0.z & 0x3F3F3F3Fu : ((h0.w >> 4) & 0x0F0F0F0Fu) | ((h0.z >> 2) & 0x30303030u);
        const u32 w1 = t < 2 ? h1.z & 0x3F3F3F3Fu : ((h1.w >> 4) & 0x0F0F0F0Fu) | ((h1.z >> 2) & 0x30303030u);
        const u32 sel = (t & 1) ? 0x4342u : 0x4140u;  // bytes 2(t&1), 2(t&1)+1 of w, each under 0x43
        const u32 one = 0x3F803F80u, m128 = 0xC300C300u;  // bf16x2 (1, 1) and (-128, -128)
        const u32 am[4] = {Bf16x2Fma(__byte_perm(w0, 0x43u, sel), one, m128),
                           Bf16x2Fma(__byte_perm(w1, 0x43u, sel), one, m128), 0u, 0u};
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          const int tk = 8 * n + 2 * t;
          // Σ_s m_s·Σx_s for (row g, tk), (g, tk+1), (g+8, tk), (g+8, tk+1).
          float ms[4] = {0.0f, 0.0f, 0.0f, 0.0f};
          MmaBf16(ms, am, sums[(8 * n + g) * 4 + t], 0u);
          MmaBf16(ms, am, sums[kMmaMaxTokens * 4 + (8 * n + g) * 4 + t], 0u);
          const float2 dx = *reinterpret_cast<const float2*>(dxs + tk);
          const float dd[4] = {d0 * dx.x, d0 * dx.y, d1 * dx.x, d1 * dx.y};
          const float dmv[4] = {dm0, dm0, dm1, dm1};
#pragma unroll
          for (int v = 0; v < 4; ++v) {
            const float hl = fmaf(static_cast<float>(L[n][v]), 1.0f / 254.0f, static_cast<float>(H[n][v]));
            acc[m][n][v] = fmaf(dd[v], hl, fmaf(-dmv[v], ms[v], acc[m][n][v]));
          }
        }
      }
    } else if constexpr (kType == kQ6_K) {
      // A super-block: ql[128] (low nibbles), qh[64] (high bit pairs),
      // scales[16] (int8, one per 16 values), d (f16). Value 128h + 32j + l
      // (l < 32) has its low nibble in ql[64h + l] (j = 0), ql[64h + 32 + l]
      // (j = 1), or the high nibbles of those (j = 2, 3), and its high pair at
      // bits 2j of qh[32h + l]; its scale is scales[8h + 2j + l / 16].
      const long long sb = 210LL * (ks0 + i);
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        const long long row0 = min(wrow0 + 16 * m + g, N - 1), row1 = min(wrow0 + 16 * m + g + 8, N - 1);
        const u8* r0 = ws_rows + (16 * m + g) * F::kRowStride + ((row0 * row_bytes + sb) & 15);
        const u8* r1 = ws_rows + (16 * m + g + 8) * F::kRowStride + ((row1 * row_bytes + sb) & 15);
        const uint2 sc0a = LdS64Unaligned2(r0 + 192), sc0b = LdS64Unaligned2(r0 + 200);
        const uint2 sc1a = LdS64Unaligned2(r1 + 192), sc1b = LdS64Unaligned2(r1 + 200);
        const u32 sc0[4] = {sc0a.x, sc0a.y, sc0b.x, sc0b.y}, sc1[4] = {sc1a.x, sc1a.y, sc1b.x, sc1b.y};
        int H[NT][4] = {}, L[NT][4] = {};  // Σ over the super-block of scale · integer MMA result, per level
#pragma unroll
        for (int h = 0; h < 2; ++h)
#pragma unroll
          for (int b = 0; b < 2; ++b) {
            const int l = 16 * b + 4 * t;  // this lane's 4 values of each 16-value block
            const u32 qa0 = LdS32Unaligned2(r0 + 64 * h + l), qb0 = LdS32Unaligned2(r0 + 64 * h + 32 + l);
            const u32 qa1 = LdS32Unaligned2(r1 + 64 * h + l), qb1 = LdS32Unaligned2(r1 + 64 * h + 32 + l);
            const u32 qh0 = LdS32Unaligned2(r0 + 128 + 32 * h + l), qh1 = LdS32Unaligned2(r1 + 128 + 32 * h + l);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
              const u32 mk = 0x0F0F0F0Fu, m2 = 0x03030303u;
              const u32 a0 = Q6Centred((((j & 1) ? qb0 : qa0) >> (4 * (j >> 1))) & mk, (qh0 >> (2 * j)) & m2);
              const u32 a1 = Q6Centred((((j & 1) ? qb1 : qa1) >> (4 * (j >> 1))) & mk, (qh1 >> (2 * j)) & m2);
              const int si = 8 * h + 2 * j + b;
              const int s0 = static_cast<int>(static_cast<signed char>((sc0[si >> 2] >> (8 * (si & 3))) & 0xFF));
              const int s1 = static_cast<int>(static_cast<signed char>((sc1[si >> 2] >> (8 * (si & 3))) & 0xFF));
#pragma unroll
              for (int n = 0; n < NT; ++n) {
                const int off = (8 * n + g) * kMmaTokStride + 128 * h + 32 * j + l;
                const u32 bh = *reinterpret_cast<const u32*>(xh + off), bl = *reinterpret_cast<const u32*>(xl + off);
                int dh[4], dl[4];
                MmaS8K16(dh, a0, a1, bh, 0);
                MmaS8K16(dl, a0, a1, bl, 0);
                H[n][0] += s0 * dh[0]; H[n][1] += s0 * dh[1]; H[n][2] += s1 * dh[2]; H[n][3] += s1 * dh[3];
                L[n][0] += s0 * dl[0]; L[n][1] += s0 * dl[1]; L[n][2] += s1 * dl[2]; L[n][3] += s1 * dl[3];
              }
            }
          }
        const float d0 = HalfToFloat(*reinterpret_cast<const u16*>(r0 + 208));
        const float d1 = HalfToFloat(*reinterpret_cast<const u16*>(r1 + 208));
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          const float2 dx = *reinterpret_cast<const float2*>(dxs + 8 * n + 2 * t);
          const float dd[4] = {d0 * dx.x, d0 * dx.y, d1 * dx.x, d1 * dx.y};
#pragma unroll
          for (int v = 0; v < 4; ++v)
            acc[m][n][v] = fmaf(dd[v], fmaf(static_cast<float>(L[n][v]), 1.0f / 254.0f, static_cast<float>(H[n][v])),
                                acc[m][n][v]);
        }
      }
    } else {  // Q8_0: eight 34-byte blocks (f16 d, 32 int8) per step and row
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        const u8* r0 = ws_rows + (16 * m + g) * F::kRowStride;
        const u8* r1 = r0 + 8 * F::kRowStride;
        float T[NT][4];  // Σ_b d_b·(hi + lo/254) of this step; dx is per step
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
          for (int v = 0; v < 4; ++v) T[n][v] = 0.0f;
#pragma unroll
        for (int b = 0; b < 8; ++b) {
          const uint2 q0 = LdS64Unaligned2(r0 + 34 * b + 2 + 8 * t), q1 = LdS64Unaligned2(r1 + 34 * b + 2 + 8 * t);
          const u32 a[4] = {q0.x, q1.x, q0.y, q1.y};
          const float w0 = HalfToFloat(*reinterpret_cast<const u16*>(r0 + 34 * b));
          const float w1 = HalfToFloat(*reinterpret_cast<const u16*>(r1 + 34 * b));
          const float wv[4] = {w0, w0, w1, w1};
#pragma unroll
          for (int n = 0; n < NT; ++n) {
            const int off = (8 * n + g) * kMmaTokStride + 32 * b + 8 * t;
            const uint2 bh = LdS64(xh + off), bl = LdS64(xl + off);
            int dh[4], dl[4];
            MmaS8(dh, a, bh.x, bh.y, kMmaMagic);
            MmaS8(dl, a, bl.x, bl.y, kMmaMagic);
#pragma unroll
            for (int v = 0; v < 4; ++v) {
              const float hl = fmaf(__int_as_float(dl[v]) - kMmaMagicF, 1.0f / 254.0f, __int_as_float(dh[v]) - kMmaMagicF);
              T[n][v] = fmaf(wv[v], hl, T[n][v]);
            }
          }
        }
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          const float2 dx = *reinterpret_cast<const float2*>(dxs + 8 * n + 2 * t);
          const float dxv[4] = {dx.x, dx.y, dx.x, dx.y};
#pragma unroll
          for (int v = 0; v < 4; ++v) acc[m][n][v] = fmaf(dxv[v], T[n][v], acc[m][n][v]);
        }
      }
    }
  }

  // Rows g, g+8 of each 16-row tile; tokens 8n + 2t, +1.
  const bool split = gridDim.y > 1;
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        const int row = wrow0 + 16 * m + g + 8 * (v >> 1), tok = 8 * n + 2 * t + (v & 1);
        if (row >= N || tok >= ntok) continue;
        float* p = y + tok * ldy + row;
        if (split)
          atomicAdd(p, acc[m][n][v]);
        else
          *p = acc[m][n][v];
      }
}

}  // namespace kt_cuda
