// MLA decode attention over the compressed latent cache, absorbed form
// (DeepSeek-V2/V3): every head attends over the same [c_kv 512 | k_pe 64] rows.
//
// Per head the work is 2·(576 + 512) flops per cache row, so with 128 heads
// (V3) one 1152-byte row costs ~280 kflop: CUDA cores cannot keep up with HBM
// and the tensor cores must do it. One block = HB heads (HB / 16 m16 tiles)
// of one token over a contiguous range of BN-row cache tiles (flash-decoding
// split), 8 warps; cache tiles arrive by cp.async, double buffered.
//  * S = Q·Kᵀ (HB x BN): the MT x BN/8 output tiles are spread over the 8
//    warps; A (q) and B (K rows) fragments come from shared memory by
//    ldmatrix, one instruction per fragment;
//  * online softmax through shared memory;
//  * O += P·V: each warp owns 64 of the 512 latent columns for all HB heads
//    (V = the c_kv part of the same tile, read with ldmatrix.trans).
// More heads per block (HB = 64 for V3's 128 heads) means each cache tile is
// read from L2 twice instead of eight times and each K/V fragment feeds four
// MMAs. A second kernel merges the splits; it is launched as a programmatic
// dependent (PDL), so its launch overlaps this kernel's tail.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

constexpr int kMlaDk = 576, kMlaDv = 512;
constexpr int kMlaLd = kMlaDk + 8;  // padded row (bf16): consecutive rows land 4 banks apart
constexpr int kMlaThreads = 256;

template <int HB, int BN>
struct MlaSmem {
  static constexpr int kSLd = BN + 4, kPLd = BN + 8;
  u16 q[HB][kMlaLd];
  u16 k[2][BN][kMlaLd];
  float s[HB][kSLd];
  u16 p[HB][kPLd];
  float alpha[HB];
};

// part_o: [ntok][heads][nsplit][512]; part_ml: [ntok][heads][nsplit][2] (max in
// log2 units, sum). scale_log2 = softmax scale · log2(e).
template <int HB, int BN>
__global__ void __launch_bounds__(kMlaThreads, 1)
    MlaDecodeKernel(const float* __restrict__ q, const u16* __restrict__ cache, int ntok, int heads,
                    int kv_len, int tiles_per_split, float scale_log2, float* __restrict__ part_o,
                    float* __restrict__ part_ml) {
  constexpr int MT = HB / 16;            // m16 tiles of heads
  constexpr int NT8 = BN / 8;            // n8 tiles of cache rows
  constexpr int TPW = MT * NT8 / 8;      // S tiles per warp (same m tile, consecutive n tiles)
  constexpr int RPW = HB / 8;            // softmax rows per warp
  constexpr int LPR = 32 / RPW;          // lanes per softmax row
  constexpr int CPL = BN / LPR;          // columns per lane
  static_assert(TPW == 1 || TPW == 2, "S tiles per warp");
  static_assert(CPL == 4 || CPL == 8, "softmax columns per lane");
  typedef MlaSmem<HB, BN> Smem;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  Smem& sm = *reinterpret_cast<Smem*>(smem_raw);
  GridDependentsLaunch();  // the combine kernel may be scheduled; it waits for us before reading
  const int split = blockIdx.x, nsplit = gridDim.x, ht = blockIdx.y, tok = blockIdx.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t4 = lane & 3;
  const int my_len = kv_len - (ntok - 1 - tok);
  const int tile0 = split * tiles_per_split;
  int tile1 = tile0 + tiles_per_split;
  const int my_tiles = (my_len + BN - 1) / BN;
  if (tile1 > my_tiles) tile1 = my_tiles;

  auto load_tile = [&](int tile, int buf) {
    for (int i = threadIdx.x; i < BN * (kMlaDk / 8); i += kMlaThreads) {
      const int r = i / (kMlaDk / 8), c = (i % (kMlaDk / 8)) * 8;
      const int row = tile * BN + r;
      const bool ok = row < my_len;
      CpAsync16(&sm.k[buf][r][c], cache + static_cast<long long>(ok ? row : 0) * kMlaDk + c, ok ? 16 : 0);
    }
    CpAsyncCommit();
  };
  // The first tile does not depend on q: start it before waiting for the
  // previous kernel (which may still be writing q), unless it holds rows of
  // this step's own tokens, which that kernel may be appending right now.
  const bool early = tile0 < tile1 && (tile0 + 1) * BN <= kv_len - ntok;
  if (early) load_tile(tile0, 0);
  GridDependencyWait();
  if (!early && tile0 < tile1) load_tile(tile0, 0);
  // q tile: independent float4 loads, many in flight at once.
#pragma unroll 9
  for (int idx = threadIdx.x; idx < HB * kMlaDk / 4; idx += kMlaThreads) {
    const int r = idx / (kMlaDk / 4), c = 4 * (idx % (kMlaDk / 4)), h = ht * HB + r;
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (h < heads) v = __ldg(reinterpret_cast<const float4*>(q + (static_cast<long long>(tok) * heads + h) * kMlaDk + c));
    *reinterpret_cast<uint2*>(&sm.q[r][c]) = make_uint2(PackBf16(v.x, v.y), PackBf16(v.z, v.w));
  }

  float o[MT][8][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int j = 0; j < 8; ++j) o[m][j][0] = o[m][j][1] = o[m][j][2] = o[m][j][3] = 0.0f;
  float m_run = -KT_CUDA_INF, l_run = 0.0f;  // softmax state of row RPW * warp + lane / LPR

  // This warp's S tiles: m tile sm_t, n tiles sn0 .. sn0 + TPW - 1.
  const int sm_t = warp * TPW / NT8, sn0 = (warp * TPW) % NT8;
  // ldmatrix row addresses (lane-dependent parts).
  const int a_row = 16 * sm_t + (lane & 7) + 8 * ((lane >> 3) & 1), a_col = 8 * (lane >> 4);
  const int b_row = 8 * sn0 + (lane & 7) + (TPW == 2 ? 8 * (lane >> 4) : 0), b_col = 8 * ((lane >> 3) & 1);

  for (int tile = tile0; tile < tile1; ++tile) {
    const int buf = (tile - tile0) & 1;
    CpAsyncWait<0>();
    __syncthreads();
    if (tile + 1 < tile1) load_tile(tile + 1, buf ^ 1);

    {  // S tiles. Independent accumulator chains (CH per tile): 36 dependent
       // MMAs in a row would wait on the tensor pipe's latency with only 8 warps.
      constexpr int CH = 4 / TPW;
      float sc[CH][TPW][4];
#pragma unroll
      for (int ch = 0; ch < CH; ++ch)
#pragma unroll
        for (int n = 0; n < TPW; ++n) sc[ch][n][0] = sc[ch][n][1] = sc[ch][n][2] = sc[ch][n][3] = 0.0f;
      const u16* arow = &sm.q[a_row][a_col];
      const u16* brow = &sm.k[buf][b_row][b_col];
#pragma unroll
      for (int k0 = 0; k0 < kMlaDk / 16; k0 += CH) {
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) {
          const int kk = k0 + ch;
          u32 a[4], b[4];
          LdMatrixX4(a, arow + 16 * kk);
          if constexpr (TPW == 2) {
            LdMatrixX4(b, brow + 16 * kk);
            MmaBf16(sc[ch][0], a, b[0], b[1]);
            MmaBf16(sc[ch][1], a, b[2], b[3]);
          } else {
            LdMatrixX2(b, brow + 16 * kk);
            MmaBf16(sc[ch][0], a, b[0], b[1]);
          }
        }
      }
      float s[TPW][4];
#pragma unroll
      for (int n = 0; n < TPW; ++n)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          float v = sc[0][n][i];
#pragma unroll
          for (int ch = 1; ch < CH; ++ch) v += sc[ch][n][i];
          s[n][i] = v;
        }
#pragma unroll
      for (int n = 0; n < TPW; ++n) {
        const int col = 8 * (sn0 + n) + 2 * t4;
        const int row_abs = tile * BN + col;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const bool ok = row_abs + (i & 1) < my_len;
          sm.s[16 * sm_t + g + 8 * (i >> 1)][col + (i & 1)] = ok ? s[n][i] * scale_log2 : -KT_CUDA_INF;
        }
      }
    }
    __syncthreads();
    {  // online softmax: RPW rows per warp, LPR lanes per row, CPL columns per lane
      const int r = RPW * warp + lane / LPR, c = (lane % LPR) * CPL;
      float v[CPL];
#pragma unroll
      for (int i = 0; i < CPL; i += 4) {
        const float4 f = *reinterpret_cast<const float4*>(&sm.s[r][c + i]);
        v[i] = f.x; v[i + 1] = f.y; v[i + 2] = f.z; v[i + 3] = f.w;
      }
      float mx = v[0];
#pragma unroll
      for (int i = 1; i < CPL; ++i) mx = fmaxf(mx, v[i]);
#pragma unroll
      for (int off = LPR / 2; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
      const float m_new = fmaxf(m_run, mx);
      const float base = m_new == -KT_CUDA_INF ? 0.0f : m_new;
      const float alpha = exp2f(m_run - base);
      float ps = 0.0f;
#pragma unroll
      for (int i = 0; i < CPL; ++i) {
        v[i] = exp2f(v[i] - base);
        ps += v[i];
      }
#pragma unroll
      for (int off = LPR / 2; off > 0; off >>= 1) ps += __shfl_xor_sync(0xffffffffu, ps, off);
      l_run = l_run * alpha + ps;
      m_run = m_new;
#pragma unroll
      for (int i = 0; i < CPL; i += 4)
        *reinterpret_cast<uint2*>(&sm.p[r][c + i]) = make_uint2(PackBf16(v[i], v[i + 1]), PackBf16(v[i + 2], v[i + 3]));
      if (lane % LPR == 0) sm.alpha[r] = alpha;
    }
    __syncthreads();
    {  // O[:, 64*warp .. +64] = alpha * O + P · V
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        const float a_lo = sm.alpha[16 * m + g], a_hi = sm.alpha[16 * m + g + 8];
#pragma unroll
        for (int j = 0; j < 8; ++j) { o[m][j][0] *= a_lo; o[m][j][1] *= a_lo; o[m][j][2] *= a_hi; o[m][j][3] *= a_hi; }
      }
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        u32 a[MT][4];
#pragma unroll
        for (int m = 0; m < MT; ++m)
          LdMatrixX4(a[m], &sm.p[16 * m + (lane & 7) + 8 * ((lane >> 3) & 1)][16 * kk + 8 * (lane >> 4)]);
        const int krow = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
        for (int np = 0; np < 4; ++np) {
          u32 b[4];
          LdMatrixX4Trans(b, &sm.k[buf][krow][64 * warp + 16 * np + (lane >> 4) * 8]);
#pragma unroll
          for (int m = 0; m < MT; ++m) {
            MmaBf16(o[m][2 * np], a[m], b[0], b[1]);
            MmaBf16(o[m][2 * np + 1], a[m], b[2], b[3]);
          }
        }
      }
    }
  }
  // Partial results (unnormalised O, running max and sum per head row).
  const long long part = (static_cast<long long>(tok) * heads) * nsplit;
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int h = ht * HB + 16 * m + g + 8 * half;
      if (h >= heads) continue;
      float* dst = part_o + ((part + static_cast<long long>(h) * nsplit + split) * kMlaDv);
#pragma unroll
      for (int j = 0; j < 8; ++j)
        *reinterpret_cast<float2*>(dst + 64 * warp + 8 * j + 2 * t4) = make_float2(o[m][j][2 * half], o[m][j][2 * half + 1]);
    }
  if (lane % LPR == 0) {
    const int h = ht * HB + RPW * warp + lane / LPR;
    if (h < heads) {
      float* ml = part_ml + (part + static_cast<long long>(h) * nsplit + split) * 2;
      ml[0] = m_run;
      ml[1] = l_run;
    }
  }
}

// Merges the splits into out[tok][head][512]. Grid (heads, ntok, 4): a block
// owns 128 latent columns; its 8 warps take interleaved splits so that many
// independent loads are in flight (a serial loop over 64-128 splits per
// thread was latency-bound at 10-20 us).
constexpr int kMlaCombineThreads = 256;
__global__ void __launch_bounds__(kMlaCombineThreads)
    MlaCombineKernel(const float* __restrict__ part_o, const float* __restrict__ part_ml, int heads, int nsplit,
                     float* __restrict__ out) {
  extern __shared__ float wsplit[];  // nsplit
  __shared__ float scratch[32];
  __shared__ float4 red[kMlaCombineThreads / 32][32];
  GridDependencyWait();  // launched as a dependent of the decode kernel
  const int h = blockIdx.x, tok = blockIdx.y, c0 = blockIdx.z * 128;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const long long base = (static_cast<long long>(tok) * heads + h) * nsplit;
  float m = -KT_CUDA_INF;
  for (int s = threadIdx.x; s < nsplit; s += blockDim.x) m = fmaxf(m, part_ml[(base + s) * 2]);
  m = BlockMax(m, scratch);
  float l = 0.0f;
  for (int s = threadIdx.x; s < nsplit; s += blockDim.x) {
    const float ms = part_ml[(base + s) * 2];
    const float e = ms == -KT_CUDA_INF ? 0.0f : exp2f(ms - m);
    wsplit[s] = e;
    l += e * part_ml[(base + s) * 2 + 1];
  }
  l = BlockSum(l, scratch);  // its barriers also publish wsplit
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll 4
  for (int s = warp; s < nsplit; s += kMlaCombineThreads / 32) {
    const float e = wsplit[s];
    const float4 v = *reinterpret_cast<const float4*>(part_o + (base + s) * kMlaDv + c0 + 4 * lane);
    acc.x += e * v.x; acc.y += e * v.y; acc.z += e * v.z; acc.w += e * v.w;
  }
  red[warp][lane] = acc;
  __syncthreads();
  if (threadIdx.x < 128) {
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int q = threadIdx.x >> 2, comp = threadIdx.x & 3;
    float v = 0.0f;
#pragma unroll
    for (int w = 0; w < kMlaCombineThreads / 32; ++w) v += reinterpret_cast<const float*>(&red[w][q])[comp];
    out[(static_cast<long long>(tok) * heads + h) * kMlaDv + c0 + threadIdx.x] = v * inv;
  }
}

}  // namespace kt_cuda
