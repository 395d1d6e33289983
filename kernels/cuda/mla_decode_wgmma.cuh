// MLA decode attention on Hopper warpgroup MMAs (wgmma), for 64 heads per
// block (V3's 128 heads: two head tiles). Same inputs, partial results and
// combine kernel as MlaDecodeKernel (mla_decode.cuh).
//
// Why: with 128 heads every 1152-byte cache row costs ~280 kflop, so the
// kernel is bound by tensor throughput, not memory. The first version of
// this kernel ran load, S = Q·Kᵀ, softmax and P·V in lockstep in both
// warpgroups (each computed the whole S) and was no faster than mma.sync
// (56.3 vs 56.1 us at 128 heads / 32k on the H200).
//
// Now the two warpgroups have different jobs and overlap:
//  * warpgroup 0 computes S for a 64-row tile (36 m64n64k16 steps, q and the
//    tile from shared memory), the online softmax, hands P (as A fragments)
//    and the row rescale to warpgroup 1 through shared memory, then does
//    O[:, 0..255] += P·V;
//  * warpgroup 1 does O[:, 256..511] += P·V with the same P while warpgroup 0
//    goes on to the next tile's S and softmax; one of its threads loads the
//    tiles: nine 64 x 64 tensor-map copies (TMA) per tile into two stages,
//    completing on mbarriers.
// S is computed once per tile, and the tensor pipe has P·V work while
// warpgroup 0 runs the softmax. Tiles and q are stored as the copy engine
// writes them with 128-byte swizzling (WgOffset), which wgmma reads
// directly through swizzled descriptors.
//
// Measured on the H200 (KT_BENCH_MLA_CTX, 128 heads, against the mma.sync
// kernel, config 3): 36.1 vs 56.2 us at 32k, 50.5 vs 96.7 us at 64k, 27.6
// vs 35.4 us at 16k. Before the tensor copies (16-byte cp.async scattered
// into unswizzled 8x8 core matrices by warpgroup 1, 36 per thread per tile)
// it was 53.2 us at 32k: the copies' issue stalled and warpgroup 0 waited
// for tiles as long as for its MMAs. Then (session 7) kt_mla_timeline
// showed ~5 us of every call spent reading q (12 loads in flight per
// thread) and ~4 us writing the partial result (32-byte pieces of 8 heads
// per warp store): with all of q's loads in flight and the partial result
// staged through shared memory, 32k takes 31.9 us, 4k 15.2 (the automatic
// choice from 4k rows on).

#pragma once

#include "kernels/cuda/bulk.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mla_decode.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/trace.cuh"
#include "kernels/cuda/wgmma.cuh"

namespace kt_cuda {

constexpr int kWgHeads = 64;                 // heads per block (the MMAs' M)
constexpr int kWgRows = 64;                  // cache rows per tile
constexpr int kWgStages = 2;                 // tiles in the ring
constexpr int kWgPrewait = 1;                // tiles copied before griddepcontrol.wait (see load_tile's callers)
constexpr int kWgN8 = kWgRows / 8;           // n8 column tiles of S (a thread holds 4 values of each)
constexpr int kWgK16 = kWgRows / 16;         // k16 chunks of P·V
constexpr int kWgQBytes = kWgHeads * 1152;   // q: 64 x 576 bf16
constexpr int kWgTileBytes = kWgRows * 1152; // a 64 x 576 bf16 tile
static_assert(kWgRows == 64, "S is a chain of m64n64k16 MMAs");

struct MlaWgSmem {
  u8 q[kWgQBytes];
  u8 k[kWgStages][kWgTileBytes];  // 72 KB tiles: every tile (and its 8 KB boxes) starts 1024-aligned
  u32 p[4][kWgK16][4][32];        // P's A fragments [warp][k16 chunk][register][lane], warpgroup 0 -> 1
  float alpha[4][2][32];          // the rows' rescale for this tile [warp][row half][lane]
  unsigned long long full[kWgStages], empty[kWgStages];  // stage landed (its tensor copies' bytes) / warpgroup 0 done
  unsigned long long p_full, p_empty;                    // P of the tile written / read
};

// Tiles and q in the 128-byte swizzled layout of the tensor copies: 64-value
// column blocks of 64 rows (8 KB each, 1024-aligned); in a block, row r's
// 16-byte chunk c sits at chunk c ^ (r % 8) of its 128-byte row.
constexpr int kWgBox = 64 * 128;
KT_CUDA_FORCEINLINE int WgOffset(int r, int k) {
  return (k >> 6) * kWgBox + r * 128 + ((((k & 63) >> 3) ^ (r & 7)) << 4) + (k & 7) * 2;
}

// A CUtensorMap (128 bytes, 64-aligned), passed as a __grid_constant__
// parameter so the copy engine can read it from the parameter space.
struct alignas(64) WgTensorMap {
  unsigned long long words[16];
};

// One box of the tensor map at column x, row y into `dst`, completing on `bar`.
KT_CUDA_FORCEINLINE void TensorLoad2d(void* dst, const WgTensorMap* map, int x, int y, unsigned long long* bar) {
#if KT_CUDA_HAS_BULK
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
          SmemAddr(dst)),
      "l"(reinterpret_cast<unsigned long long>(map)), "r"(x), "r"(y), "r"(SmemAddr(bar))
      : "memory");
#endif
}

__global__ void __launch_bounds__(256, 1)
    MlaDecodeWgmmaKernel(const float* __restrict__ q, const u16* __restrict__ cache, int ntok, int heads, int kv_len,
                         int tiles_per_split, float scale_log2, float* __restrict__ part_o,
                         float* __restrict__ part_ml, const __grid_constant__ WgTensorMap cache_map) {
#if KT_CUDA_HAS_WGMMA
  extern __shared__ __align__(16) unsigned char smem_raw[];  // (dynamic shared memory starts 1024-aligned)
  MlaWgSmem& sm = *reinterpret_cast<MlaWgSmem*>(smem_raw);
  KT_TRACE(0, 0);
  GridDependentsLaunch();
  const int split = blockIdx.x, ht = blockIdx.y, tok = blockIdx.z;
  const int tid = threadIdx.x, wg = tid >> 7, ww = (tid >> 5) & 3, lane = tid & 31;
  const int g = lane >> 2, t4 = lane & 3;
  const MlaSplitRange range = MlaRange(kv_len, ntok, tok, split, tiles_per_split, kWgRows);
  const int my_len = range.my_len, tile0 = range.tile0, ntiles = range.ntiles;

  if (tid == 0) {
    if (SmemAddr(smem_raw) & 1023) __trap();  // the swizzled tiles need 1024-aligned rows of 8
    for (int i = 0; i < kWgStages; ++i) {
      MbarInitCount(&sm.full[i], 1);
      MbarInitCount(&sm.empty[i], 128);
    }
    MbarInitCount(&sm.p_full, 128);
    MbarInitCount(&sm.p_empty, 128);
  }
  __syncthreads();

  // One thread of warpgroup 1 loads tile j into stage j % kWgStages: nine
  // 64 x 64 tensor boxes (rows past kv_len arrive as zeros).
  auto load_tile = [&](int j) {
    if (j >= ntiles || tid != 128) return;
    const int st = j % kWgStages;
    MbarExpectTx(&sm.full[st], kWgTileBytes);
    for (int b = 0; b < kMlaDk / 64; ++b)
      TensorLoad2d(sm.k[st] + b * kWgBox, &cache_map, 64 * b, (tile0 + j) * kWgRows, &sm.full[st]);
  };
  // The first tile, if it has no rows of this step's tokens (which the
  // previous kernel may still be appending), loads before
  // griddepcontrol.wait. Only one: the copies issued there compete with the
  // previous kernels' tails (H200, 128 heads / 32k, session 9: 31.6 us with
  // one, 32.0 with both stages, 32.4 with none; 4k level).
  if (wg == 1)
    for (int j = 0; j < kWgPrewait && (tile0 + j + 1) * kWgRows <= kv_len - ntok; ++j) load_tile(j);
  GridDependencyWait();
  KT_TRACE(1, 0);
  if (wg == 1)
    for (int j = 0; j < kWgStages; ++j)
      if (j >= kWgPrewait || (tile0 + j + 1) * kWgRows > kv_len - ntok) load_tile(j);
  // q as bf16 in the tiles' layout. Each warp owns 8 heads; a load reads
  // 512 contiguous bytes of one head, and all 36-40 of a thread's loads are
  // in flight at once (the H200 timeline: 147 KB per block in ~2 us, where
  // 12 loads in flight per thread took ~6 us).
  {
    float4 qv[8][5];
    const int r0 = 8 * (tid >> 5);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int h = ht * kWgHeads + r0 + i;
      const float* src = q + (static_cast<long long>(tok) * heads + h) * kMlaDk + 4 * lane;
#pragma unroll
      for (int j = 0; j < 5; ++j) {
        qv[i][j] = make_float4(0.f, 0.f, 0.f, 0.f);
        if (h < heads && (j < 4 || lane < 16)) qv[i][j] = __ldg(reinterpret_cast<const float4*>(src + 128 * j));
      }
    }
#pragma unroll
    for (int i = 0; i < 8; ++i)
#pragma unroll
      for (int j = 0; j < 5; ++j)
        if (j < 4 || lane < 16)
          *reinterpret_cast<uint2*>(sm.q + WgOffset(r0 + i, 128 * j + 4 * lane)) =
              make_uint2(PackBf16(qv[i][j].x, qv[i][j].y), PackBf16(qv[i][j].z, qv[i][j].w));
  }
  FenceProxyAsync();
  __syncthreads();
  KT_TRACE(2, 0);

  float o[128];  // O[:, 256 wg .. +255], unnormalised
#pragma unroll
  for (int i = 0; i < 128; ++i) o[i] = 0.0f;
  float m_run[2] = {-KT_CUDA_INF, -KT_CUDA_INF}, l_run[2] = {0.0f, 0.0f};  // rows 16 ww + g, + 8 (warpgroup 0)

  for (int j = 0; j < ntiles; ++j) {
    const int st = j % kWgStages, use = (j / kWgStages) & 1;  // stage, and the parity of its use
    const u8* kt = sm.k[st];
    u32 pa[kWgK16][4];  // P as A fragments: k16 chunk kc = cache rows 16 kc .. 16 kc + 15
    float alpha[2];
    if (wg == 0) {
      const int tile = tile0 + j;
      MbarWait(&sm.full[st], use);  // tile j has landed (written and read by the async proxy: no fence)
      if (j == 0) KT_TRACE(3, 0);
      float s[4 * kWgN8];
      WgmmaFence();
#pragma unroll
      for (int kk = 0; kk < kMlaDk / 16; ++kk) {
        // k16 step kk: its box, 32 bytes per step within the 128-byte rows
        // (K-major: the leading byte offset is unused, 8-row groups 1024 apart).
        const int off = (kk >> 2) * kWgBox + (kk & 3) * 32;
        const unsigned long long da = WgmmaDescSw128(sm.q + off, 16, 1024);
        const unsigned long long db = WgmmaDescSw128(kt + off, 16, 1024);
        WgmmaM64N64K16SS(s, da, db, kk > 0);
      }
      WgmmaCommit();
      WgmmaWait<0>();
      if (j == 0) KT_TRACE(4, 0);
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float mx = -KT_CUDA_INF;
#pragma unroll
        for (int jn = 0; jn < kWgN8; ++jn) {
          const int col = tile * kWgRows + 8 * jn + 2 * t4;
          float& a = s[4 * jn + 2 * h];
          float& b = s[4 * jn + 2 * h + 1];
          a = col < my_len ? a * scale_log2 : -KT_CUDA_INF;
          b = col + 1 < my_len ? b * scale_log2 : -KT_CUDA_INF;
          mx = fmaxf(mx, fmaxf(a, b));
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float m_new = fmaxf(m_run[h], mx);
        const float base = m_new == -KT_CUDA_INF ? 0.0f : m_new;
        alpha[h] = exp2f(m_run[h] - base);
        float ps = 0.0f;
#pragma unroll
        for (int jn = 0; jn < kWgN8; ++jn) {
          s[4 * jn + 2 * h] = exp2f(s[4 * jn + 2 * h] - base);
          s[4 * jn + 2 * h + 1] = exp2f(s[4 * jn + 2 * h + 1] - base);
          ps += s[4 * jn + 2 * h] + s[4 * jn + 2 * h + 1];
        }
        ps += __shfl_xor_sync(0xffffffffu, ps, 1);
        ps += __shfl_xor_sync(0xffffffffu, ps, 2);
        l_run[h] = l_run[h] * alpha[h] + ps;
        m_run[h] = m_new;
      }
#pragma unroll
      for (int kc = 0; kc < kWgK16; ++kc) {
        pa[kc][0] = PackBf16(s[8 * kc], s[8 * kc + 1]);
        pa[kc][1] = PackBf16(s[8 * kc + 2], s[8 * kc + 3]);
        pa[kc][2] = PackBf16(s[8 * kc + 4], s[8 * kc + 5]);
        pa[kc][3] = PackBf16(s[8 * kc + 6], s[8 * kc + 7]);
      }
      // Hand P and the rescale to warpgroup 1 (once it has taken the last ones).
      if (j > 0) MbarWait(&sm.p_empty, (j - 1) & 1);
#pragma unroll
      for (int kc = 0; kc < kWgK16; ++kc)
#pragma unroll
        for (int i = 0; i < 4; ++i) sm.p[ww][kc][i][lane] = pa[kc][i];
      sm.alpha[ww][0][lane] = alpha[0];
      sm.alpha[ww][1][lane] = alpha[1];
      MbarArrive(&sm.p_full);
    } else {
      MbarWait(&sm.p_full, j & 1);  // (after warpgroup 0 saw tile j land)
#pragma unroll
      for (int kc = 0; kc < kWgK16; ++kc)
#pragma unroll
        for (int i = 0; i < 4; ++i) pa[kc][i] = sm.p[ww][kc][i][lane];
      alpha[0] = sm.alpha[ww][0][lane];
      alpha[1] = sm.alpha[ww][1][lane];
      MbarArrive(&sm.p_empty);
    }
#pragma unroll
    for (int jn = 0; jn < 32; ++jn) {
      o[4 * jn] *= alpha[0]; o[4 * jn + 1] *= alpha[0];
      o[4 * jn + 2] *= alpha[1]; o[4 * jn + 3] *= alpha[1];
    }
    WgmmaFence();
#pragma unroll
    for (int kc = 0; kc < kWgK16; ++kc) {
      // V = rows 16 kc .. +15 x columns 256 wg .. +255: four 64-column boxes,
      // an MN-major operand; in the swizzled layout its leading byte offset
      // is the stride between boxes along N, the stride byte offset the one
      // between 8-row groups along K (the other assignment gives wrong
      // results on the H200).
      const u8* v = kt + 4 * wg * kWgBox + 16 * kc * 128;
      WgmmaM64N256K16RS<1>(o, pa[kc], WgmmaDescSw128(v, kWgBox, 1024));
    }
    WgmmaCommit();
    WgmmaWait<0>();
    if (wg == 0) {
      MbarArrive(&sm.empty[st]);  // warpgroup 0 is done with the stage
    } else if (j + kWgStages < ntiles) {
      MbarWait(&sm.empty[st], use);  // ... and so is this one: refill it
      load_tile(j + kWgStages);
    }
  }
  KT_TRACE(5, 0);
  KT_TRACE(6, 128);

  const int nsplit = gridDim.x;
  const long long part = (static_cast<long long>(tok) * heads) * nsplit;
  // The partial result goes out through shared memory (the tiles' space),
  // so that each warp store writes 512 contiguous bytes of one head instead
  // of 32 bytes of 8 heads (H200: ~1 us less per call). Rows are padded by
  // 8 floats: a warp's float2 stores take 2 wavefronts.
  constexpr int RS = kMlaDv + 8;
  static_assert(kWgHeads * RS * 4 <= kWgStages * kWgTileBytes, "the staged result reuses the tile stages");
  float* stage = reinterpret_cast<float*>(sm.k[0]);
  __syncthreads();  // both warpgroups are done with the tiles
#pragma unroll
  for (int h = 0; h < 2; ++h)
#pragma unroll
    for (int jn = 0; jn < 32; ++jn)
      *reinterpret_cast<float2*>(stage + (16 * ww + g + 8 * h) * RS + 256 * wg + 8 * jn + 2 * t4) =
          make_float2(o[4 * jn + 2 * h], o[4 * jn + 2 * h + 1]);
  if (wg == 0 && t4 == 0)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int head = ht * kWgHeads + 16 * ww + g + 8 * h;
      if (head >= heads) continue;
      float* ml = part_ml + (part + static_cast<long long>(head) * nsplit + split) * 2;
      ml[0] = m_run[h];
      ml[1] = l_run[h];
    }
  __syncthreads();
#pragma unroll 8
  for (int i = tid; i < kWgHeads * kMlaDv / 4; i += 256) {
    const int row = i >> 7, c = 4 * (i & 127), head = ht * kWgHeads + row;
    if (head < heads)
      *reinterpret_cast<float4*>(part_o + (part + static_cast<long long>(head) * nsplit + split) * kMlaDv + c) =
          *reinterpret_cast<const float4*>(stage + row * RS + c);
  }
  KT_TRACE(7, 0);
#else
  __trap();  // built for a target without wgmma; the launcher does not pick this kernel there
#endif
}

}  // namespace kt_cuda
