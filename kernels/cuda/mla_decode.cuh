// MLA decode attention over the compressed latent cache, absorbed form
// (DeepSeek-V2/V3): every head attends over the same [c_kv 512 | k_pe 64] rows.
//
// Per head the work is 2·(576 + 512) flops per cache row, so with 128 heads
// (V3) one 1152-byte row costs ~280 kflop: CUDA cores cannot keep up with HBM
// and the tensor cores must do it. One block = HB heads (HB / 16 m16 tiles)
// of one token over a contiguous range of BN-row cache tiles (flash-decoding
// split), 8 warps; cache tiles arrive by cp.async in an ST-stage ring.
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

#include "kernels/cuda/bulk.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/trace.cuh"

namespace kt_cuda {

constexpr int kMlaDk = 576, kMlaDv = 512;
constexpr int kMlaLd = kMlaDk + 8;  // padded row (bf16): consecutive rows land 4 banks apart
constexpr int kMlaThreads = 256;

// The cache rows one block reads: token `tok` of the step's `ntok` attends to
// the first my_len rows (causal); split `split` takes tiles tile0 ..
// tile0 + ntiles - 1 of `rows` rows each (ntiles may be <= 0 at the end).
struct MlaSplitRange {
  int my_len, tile0, ntiles;
};
KT_CUDA_FORCEINLINE MlaSplitRange MlaRange(int kv_len, int ntok, int tok, int split, int tiles_per_split, int rows) {
  MlaSplitRange r;
  r.my_len = kv_len - (ntok - 1 - tok);
  r.tile0 = split * tiles_per_split;
  r.ntiles = min(r.tile0 + tiles_per_split, (r.my_len + rows - 1) / rows) - r.tile0;
  return r;
}

// S = Q·Kᵀ is HB/16 x BN/8 tiles of 16 x 8; with fewer tiles than the 8
// warps (16 heads, 32-row tiles: 4), KH warps share a tile and each takes
// 1/KH of the 576-deep product; the softmax adds the KH partial scores.
template <int HB, int BN>
__host__ __device__ constexpr int MlaDepthSplit() { return (HB / 16) * (BN / 8) >= 8 ? 1 : 8 / ((HB / 16) * (BN / 8)); }

template <int HB, int BN, int ST>
struct MlaSmem {
  static constexpr int kSLd = BN + 4, kPLd = BN + 8;
  alignas(16) u16 q[HB][kMlaLd];
  alignas(16) u16 k[ST][BN][kMlaLd];  // bulk copy destinations: 16-byte aligned rows
  float s[MlaDepthSplit<HB, BN>()][HB][kSLd];
  u16 p[HB][kPLd];
  float alpha[HB];
  unsigned long long bar[ST];  // stage s is complete (sm_90 bulk copies)
};

// part_o: [ntok][heads][nsplit][512]; part_ml: [ntok][heads][nsplit][2] (max in
// log2 units, sum). scale_log2 = softmax scale · log2(e). ST cache tiles are
// staged, ST - 1 in flight while one is used. (More stages did not make 16
// heads at 32k faster on the H200: the per-tile pipeline is the limit there,
// not memory; see docs/gpu-kernels.md.)
template <int HB, int BN, int ST, int MINB = 1>
__global__ void __launch_bounds__(kMlaThreads, MINB)
    MlaDecodeKernel(const float* __restrict__ q, const u16* __restrict__ cache, int ntok, int heads,
                    int kv_len, int tiles_per_split, float scale_log2, float* __restrict__ part_o,
                    float* __restrict__ part_ml) {
  constexpr int MT = HB / 16;            // m16 tiles of heads
  constexpr int NT8 = BN / 8;            // n8 tiles of cache rows
  constexpr int KH = MlaDepthSplit<HB, BN>();
  constexpr int TPW = KH > 1 ? 1 : MT * NT8 / 8;  // S tiles per warp (same m tile, consecutive n tiles)
  constexpr int KSTEPS = kMlaDk / 16 / KH;        // k16 steps of one warp's S products
  constexpr int RPW = HB / 8;            // softmax rows per warp
  constexpr int LPR = 32 / RPW;          // lanes per softmax row
  constexpr int CPL = BN / LPR;          // columns per lane
  static_assert(TPW == 1 || TPW == 2, "S tiles per warp");
  static_assert(CPL == 2 || CPL == 4 || CPL == 8, "softmax columns per lane");
  static_assert(ST >= 2, "stages");
  typedef MlaSmem<HB, BN, ST> Smem;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  Smem& sm = *reinterpret_cast<Smem*>(smem_raw);
  GridDependentsLaunch();  // the combine kernel may be scheduled; it waits for us before reading
  const int split = blockIdx.x, nsplit = gridDim.x, ht = blockIdx.y, tok = blockIdx.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t4 = lane & 3;
  const MlaSplitRange range = MlaRange(kv_len, ntok, tok, split, tiles_per_split, BN);
  const int my_len = range.my_len, tile0 = range.tile0, ntiles = range.ntiles;

  // Tile j of this split into stage j % ST. sm_90: warp 0 issues one bulk
  // copy per row, completing on the stage's mbarrier (rows past the end are
  // not copied; the consumer zeroes them). Before: 16-byte cp.async by every
  // thread, one commit group per call (empty past the end) so that
  // wait_group counts are the same in every thread.
  auto load_tile = [&](int j) {
#if KT_CUDA_HAS_BULK
    if (j < ntiles && warp == 0) {
      const int tile = tile0 + j, rows = min(BN, my_len - tile * BN);
      if (lane == 0) MbarExpectTx(&sm.bar[j % ST], static_cast<u32>(rows) * kMlaDk * 2);
      __syncwarp();
      for (int r = lane; r < rows; r += 32)
        BulkG2S(&sm.k[j % ST][r][0], cache + static_cast<long long>(tile * BN + r) * kMlaDk, kMlaDk * 2,
                &sm.bar[j % ST]);
    }
#else
    if (j < ntiles) {
      const int tile = tile0 + j;
      for (int i = threadIdx.x; i < BN * (kMlaDk / 8); i += kMlaThreads) {
        const int r = i / (kMlaDk / 8), c = (i % (kMlaDk / 8)) * 8;
        const int row = tile * BN + r;
        const bool ok = row < my_len;
        CpAsync16(&sm.k[j % ST][r][c], cache + static_cast<long long>(ok ? row : 0) * kMlaDk + c, ok ? 16 : 0);
      }
    }
    CpAsyncCommit();
#endif
  };
#if KT_CUDA_HAS_BULK
  if (threadIdx.x == 0)
    for (int i = 0; i < ST; ++i) MbarInit(&sm.bar[i]);
  __syncthreads();
#endif
  // The first tiles do not depend on q: start them before waiting for the
  // previous kernel (which may still be writing q), but only those that hold
  // no rows of this step's own tokens, which that kernel may be appending.
  int pro = 0;
  for (; pro < ST - 1 && (tile0 + pro + 1) * BN <= kv_len - ntok; ++pro) load_tile(pro);
  GridDependencyWait();
  for (; pro < ST - 1; ++pro) load_tile(pro);
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

  // This warp's S tiles: m tile sm_t, n tiles sn0 .. sn0 + TPW - 1, k16
  // steps kh * KSTEPS .. + KSTEPS - 1.
  const int s_tile = KH > 1 ? warp % (MT * NT8) : warp * TPW, kh = KH > 1 ? warp / (MT * NT8) : 0;
  const int sm_t = s_tile / NT8, sn0 = s_tile % NT8;
  // ldmatrix row addresses (lane-dependent parts).
  const int a_row = 16 * sm_t + (lane & 7) + 8 * ((lane >> 3) & 1), a_col = 8 * (lane >> 4) + 16 * KSTEPS * kh;
  const int b_row = 8 * sn0 + (lane & 7) + (TPW == 2 ? 8 * (lane >> 4) : 0), b_col = 8 * ((lane >> 3) & 1) + 16 * KSTEPS * kh;

  for (int j = 0; j < ntiles; ++j) {
    const int tile = tile0 + j, buf = j % ST;
#if KT_CUDA_HAS_BULK
    MbarWait(&sm.bar[buf], (j / ST) & 1);  // tile j has landed
    const int rows = min(BN, my_len - tile * BN);
    // Rows past the end were not copied; P is 0 there, but 0 * NaN is NaN.
    for (int i = rows * (kMlaDk / 8) + threadIdx.x; i < BN * (kMlaDk / 8); i += kMlaThreads)
      *reinterpret_cast<uint4*>(&sm.k[buf][i / (kMlaDk / 8)][(i % (kMlaDk / 8)) * 8]) = make_uint4(0, 0, 0, 0);
#else
    CpAsyncWait<ST - 2>();  // tile j has landed (groups j + 1 .. j + ST - 2 may be in flight)
#endif
    __syncthreads();        // ... for every thread, and every warp is done with tile j - 1
    load_tile(j + ST - 1);  // into the stage of tile j - 1

    {  // S tiles. Independent accumulator chains (CH per tile): 36 dependent
       // MMAs in a row would wait on the tensor pipe's latency with only 8 warps.
      constexpr int CH = TPW == 2 ? 2 : KSTEPS % 4 == 0 ? 4 : 3;
      static_assert(KSTEPS % CH == 0, "chains divide the steps");
      float sc[CH][TPW][4];
#pragma unroll
      for (int ch = 0; ch < CH; ++ch)
#pragma unroll
        for (int n = 0; n < TPW; ++n) sc[ch][n][0] = sc[ch][n][1] = sc[ch][n][2] = sc[ch][n][3] = 0.0f;
      const u16* arow = &sm.q[a_row][a_col];
      const u16* brow = &sm.k[buf][b_row][b_col];
#pragma unroll
      for (int k0 = 0; k0 < KSTEPS; k0 += CH) {
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
          sm.s[kh][16 * sm_t + g + 8 * (i >> 1)][col + (i & 1)] = ok ? s[n][i] * scale_log2 : -KT_CUDA_INF;
        }
      }
    }
    __syncthreads();
    {  // online softmax: RPW rows per warp, LPR lanes per row, CPL columns per lane
      const int r = RPW * warp + lane / LPR, c = (lane % LPR) * CPL;
      float v[CPL];
#pragma unroll
      for (int i = 0; i < CPL; ++i) v[i] = 0.0f;
#pragma unroll
      for (int h = 0; h < KH; ++h)
#pragma unroll
        for (int i = 0; i < CPL; i += 2) {
          const float2 f = *reinterpret_cast<const float2*>(&sm.s[h][r][c + i]);
          v[i] += f.x;
          v[i + 1] += f.y;
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
      for (int i = 0; i < CPL; i += 2) *reinterpret_cast<u32*>(&sm.p[r][c + i]) = PackBf16(v[i], v[i + 1]);
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

// Merges the splits into out[tok][head][512]. Grid (heads, ntok, 512 /
// (32 VEC)): a block owns 32 VEC latent columns, lane L of every warp columns
// VEC L .. VEC L + VEC - 1, and warp w takes splits w, w + 8, ... Each warp
// issues the loads of up to 16 splits (their max/sum pairs and columns)
// before it uses any, so the merge costs one round trip to memory per 128
// splits, then folds its splits into a (max, sum, columns) state of its own;
// the 8 states meet in shared memory. (Reading the maxima first and the
// columns after, with block reductions in between, took ~6.5 us at 128
// splits on the H200: four round trips.)
constexpr int kMlaCombineThreads = 256;
constexpr int kMlaCombineUnroll = 16;
template <int VEC>
struct MlaVec;
template <>
struct MlaVec<4> { typedef float4 T; };
template <>
struct MlaVec<2> { typedef float2 T; };

template <int VEC>
__global__ void __launch_bounds__(kMlaCombineThreads)
    MlaCombineKernel(const float* __restrict__ part_o, const float* __restrict__ part_ml, int heads, int nsplit,
                     float* __restrict__ out) {
  typedef typename MlaVec<VEC>::T V;
  constexpr int W = kMlaCombineThreads / 32;
  __shared__ float red_o[W][32 * VEC];
  __shared__ float red_ml[W][2];
  KT_TRACE_COMBINE(0);
  GridDependentsLaunch();  // the next kernel may start its own prologue (it waits for us before reading)
  GridDependencyWait();    // launched as a dependent of the decode kernel
  KT_TRACE_COMBINE(1);
  const int h = blockIdx.x, tok = blockIdx.y, c0 = blockIdx.z * 32 * VEC;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const long long base = (static_cast<long long>(tok) * heads + h) * nsplit;
  float m = -KT_CUDA_INF, l = 0.0f;
  float acc[VEC];
#pragma unroll
  for (int i = 0; i < VEC; ++i) acc[i] = 0.0f;
  for (int s0 = warp; s0 < nsplit; s0 += W * kMlaCombineUnroll) {
    float2 ml[kMlaCombineUnroll];
    float v[kMlaCombineUnroll][VEC];
#pragma unroll
    for (int u = 0; u < kMlaCombineUnroll; ++u) {
      const int s = s0 + W * u;
      ml[u] = make_float2(-KT_CUDA_INF, 0.0f);
#pragma unroll
      for (int i = 0; i < VEC; ++i) v[u][i] = 0.0f;
      if (s < nsplit) {
        ml[u] = *reinterpret_cast<const float2*>(part_ml + (base + s) * 2);
        *reinterpret_cast<V*>(v[u]) = *reinterpret_cast<const V*>(part_o + (base + s) * kMlaDv + c0 + VEC * lane);
      }
    }
    float mx = m;
#pragma unroll
    for (int u = 0; u < kMlaCombineUnroll; ++u) mx = fmaxf(mx, ml[u].x);
    const float keep = m == -KT_CUDA_INF ? 0.0f : exp2f(m - mx);
    l *= keep;
#pragma unroll
    for (int i = 0; i < VEC; ++i) acc[i] *= keep;
#pragma unroll
    for (int u = 0; u < kMlaCombineUnroll; ++u) {
      const float e = ml[u].x == -KT_CUDA_INF ? 0.0f : exp2f(ml[u].x - mx);
      l += e * ml[u].y;
#pragma unroll
      for (int i = 0; i < VEC; ++i) acc[i] += e * v[u][i];
    }
    m = mx;
  }
#pragma unroll
  for (int i = 0; i < VEC; ++i) red_o[warp][VEC * lane + i] = acc[i];
  if (lane == 0) red_ml[warp][0] = m, red_ml[warp][1] = l;
  __syncthreads();
  if (threadIdx.x < 32 * VEC) {
    float mm = -KT_CUDA_INF;
#pragma unroll
    for (int w = 0; w < W; ++w) mm = fmaxf(mm, red_ml[w][0]);
    float v = 0.0f, lt = 0.0f;
#pragma unroll
    for (int w = 0; w < W; ++w) {
      const float e = red_ml[w][0] == -KT_CUDA_INF ? 0.0f : exp2f(red_ml[w][0] - mm);
      lt += e * red_ml[w][1];
      v += e * red_o[w][threadIdx.x];
    }
    out[(static_cast<long long>(tok) * heads + h) * kMlaDv + c0 + threadIdx.x] = lt > 0.0f ? v / lt : 0.0f;
  }
  KT_TRACE_COMBINE(2);
}

}  // namespace kt_cuda
