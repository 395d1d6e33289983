// MLA decode attention on Hopper warpgroup MMAs (wgmma), for 64 heads per
// block (V3's 128 heads: two head tiles). Same inputs, partial results and
// combine kernel as MlaDecodeKernel (mla_decode.cuh).
//
// Why: with 128 heads every 1152-byte cache row costs ~280 kflop, and
// mma.sync reached ~160 TFLOP/s there. One wgmma m64n64k16 does the work of
// 32 mma.sync m16n8k16 and reads both operands from shared memory itself.
// Measured on the H200 it is correct but no faster (56.3 vs 56.1 us at 128
// heads / 32k): both kernels run load, S, softmax and P·V in lockstep, and
// that sequence, not the MMA instruction, is the limit (docs/gpu-kernels.md).
// Kept as the base for a warp-specialised version; not picked automatically.
//
// Block: two warpgroups over 64-row cache tiles (cp.async, double
// buffered). Each warpgroup computes the whole S = Q·Kᵀ (64 heads x 64 rows,
// 36 k16 steps; the two warpgroups duplicate it rather than exchange P) and
// the online softmax in registers; then O[:, 256 wg .. +256] += P·V with P
// from registers and V (the c_kv part of the same tile) from shared memory.
// Tiles and q are stored as 8 x 8 core matrices (wgmma.cuh), so one cache
// row's 72 16-byte pieces are scattered by cp.async: offset(r, k) =
// (r / 8) * 9216 + (k / 8) * 128 + (r % 8) * 16 + (k % 8) * 2.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mla_decode.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/wgmma.cuh"

namespace kt_cuda {

constexpr int kWgRows = 64;          // cache rows per tile = heads per block
constexpr int kWgTile = 64 * 1152;   // bytes of a 64 x 576 bf16 tile
constexpr int kWgLbo = 128;          // next 8-value k chunk
constexpr int kWgSbo = 72 * 128;     // next 8-row group

struct MlaWgSmem {
  u8 q[kWgTile];
  u8 k[2][kWgTile];  // 73728-byte tiles: every tile starts 128-aligned
};

KT_CUDA_FORCEINLINE int WgOffset(int r, int k) { return (r >> 3) * kWgSbo + (k >> 3) * kWgLbo + (r & 7) * 16 + (k & 7) * 2; }

__global__ void __launch_bounds__(256, 1)
    MlaDecodeWgmmaKernel(const float* __restrict__ q, const u16* __restrict__ cache, int ntok, int heads, int kv_len,
                         int tiles_per_split, float scale_log2, float* __restrict__ part_o,
                         float* __restrict__ part_ml) {
#if KT_CUDA_HAS_WGMMA
  extern __shared__ __align__(16) unsigned char smem_raw[];  // (dynamic shared memory starts 1024-aligned)
  MlaWgSmem& sm = *reinterpret_cast<MlaWgSmem*>(smem_raw);
  GridDependentsLaunch();
  const int split = blockIdx.x, ht = blockIdx.y, tok = blockIdx.z;
  const int tid = threadIdx.x, wg = tid >> 7, ww = (tid >> 5) & 3, lane = tid & 31;
  const int g = lane >> 2, t4 = lane & 3;
  const MlaSplitRange range = MlaRange(kv_len, ntok, tok, split, tiles_per_split, kWgRows);
  const int my_len = range.my_len, tile0 = range.tile0, ntiles = range.ntiles;

  // A 16-byte piece's bank group is set by r % 8 alone (row groups and
  // chunks are 128-byte multiples apart), so each 8 lanes of a warp take 8
  // consecutive rows and the warp's 4 lane groups 4 consecutive chunks: every
  // shared-memory wavefront is conflict-free and each row segment read from
  // global memory is 64 contiguous bytes. (Lanes walking the chunks of one
  // row wrote with 16-way conflicts: ~6.7 us per tile at 128 heads / 32k.)
  const int r_lo = lane & 7, cq = lane >> 3, warp8 = tid >> 5;
  auto load_tile = [&](int j) {  // one commit group per call (empty past the end)
    if (j < ntiles) {
      const int tile = tile0 + j;
      u8* dst = sm.k[j & 1];
      for (int it = warp8; it < 8 * 18; it += 8) {  // 8 row groups x 18 groups of 4 chunks
        const int r = 8 * (it & 7) + r_lo, c = 4 * (it >> 3) + cq;
        const int row = tile * kWgRows + r;
        const bool ok = row < my_len;  // past the end: zeros (P is 0 there; 0 * garbage could be NaN)
        CpAsync16(dst + (r >> 3) * kWgSbo + c * kWgLbo + (r & 7) * 16,
                  cache + static_cast<long long>(ok ? row : 0) * kMlaDk + 8 * c, ok ? 16 : 0);
      }
    }
    CpAsyncCommit();
  };
  const bool early = ntiles > 0 && (tile0 + 1) * kWgRows <= kv_len - ntok;
  if (early) load_tile(0);
  GridDependencyWait();
  if (!early) load_tile(0);
  for (int it = warp8; it < 8 * 36; it += 8) {  // q: 8 row groups x 36 groups of 16 values, lanes as above
    const int r = 8 * (it & 7) + r_lo, c = 16 * (it >> 3) + 4 * cq, h = ht * kWgRows + r;
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (h < heads) v = __ldg(reinterpret_cast<const float4*>(q + (static_cast<long long>(tok) * heads + h) * kMlaDk + c));
    *reinterpret_cast<uint2*>(sm.q + WgOffset(r, c)) = make_uint2(PackBf16(v.x, v.y), PackBf16(v.z, v.w));
  }

  float o[128];
#pragma unroll
  for (int i = 0; i < 128; ++i) o[i] = 0.0f;
  float m_run[2] = {-KT_CUDA_INF, -KT_CUDA_INF}, l_run[2] = {0.0f, 0.0f};  // rows 16 ww + g, + 8

  for (int j = 0; j < ntiles; ++j) {
    const int tile = tile0 + j;
    const u8* kt = sm.k[j & 1];
    CpAsyncWait<0>();
    FenceProxyAsync();  // this thread's cp.async / q stores -> visible to wgmma
    __syncthreads();    // ... everyone's; and every warpgroup is done with tile j - 1
    load_tile(j + 1);

    float s[32];
    WgmmaFence();
#pragma unroll
    for (int kk = 0; kk < kMlaDk / 16; ++kk)
      WgmmaM64N64K16SS(s, WgmmaDesc(sm.q + kk * 256, kWgLbo, kWgSbo), WgmmaDesc(kt + kk * 256, kWgLbo, kWgSbo),
                       kk > 0);
    WgmmaCommit();
    WgmmaWait<0>();

    float alpha[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float mx = -KT_CUDA_INF;
#pragma unroll
      for (int jn = 0; jn < 8; ++jn) {
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
      for (int jn = 0; jn < 8; ++jn) {
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
    for (int jn = 0; jn < 32; ++jn) {
      o[4 * jn] *= alpha[0]; o[4 * jn + 1] *= alpha[0];
      o[4 * jn + 2] *= alpha[1]; o[4 * jn + 3] *= alpha[1];
    }
    u32 pa[4][4];  // P as A fragments: k16 chunk kc = cache rows 16 kc .. 16 kc + 15
#pragma unroll
    for (int kc = 0; kc < 4; ++kc) {
      pa[kc][0] = PackBf16(s[8 * kc], s[8 * kc + 1]);
      pa[kc][1] = PackBf16(s[8 * kc + 2], s[8 * kc + 3]);
      pa[kc][2] = PackBf16(s[8 * kc + 4], s[8 * kc + 5]);
      pa[kc][3] = PackBf16(s[8 * kc + 6], s[8 * kc + 7]);
    }
    WgmmaFence();
#pragma unroll
    for (int kc = 0; kc < 4; ++kc) {
      // V = rows 16 kc .. +15 (two row groups) x columns 256 wg .. +255 (32
      // chunks), an MN-major operand: its leading byte offset is the stride
      // between core matrices along K (rows, kWgSbo), the stride byte offset
      // the one along N (kWgLbo). (Checked on the H200: the other assignment
      // reads past shared memory.)
      const u8* v = kt + 2 * kc * kWgSbo + 32 * wg * kWgLbo;
      WgmmaM64N256K16RS<1>(o, pa[kc], WgmmaDesc(v, kWgSbo, kWgLbo));
    }
    WgmmaCommit();
    WgmmaWait<0>();
  }

  const int nsplit = gridDim.x;
  const long long part = (static_cast<long long>(tok) * heads) * nsplit;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int head = ht * kWgRows + 16 * ww + g + 8 * h;
    if (head >= heads) continue;
    float* dst = part_o + (part + static_cast<long long>(head) * nsplit + split) * kMlaDv + 256 * wg + 2 * t4;
#pragma unroll
    for (int jn = 0; jn < 32; ++jn)
      *reinterpret_cast<float2*>(dst + 8 * jn) = make_float2(o[4 * jn + 2 * h], o[4 * jn + 2 * h + 1]);
    if (wg == 0 && t4 == 0) {
      float* ml = part_ml + (part + static_cast<long long>(head) * nsplit + split) * 2;
      ml[0] = m_run[h];
      ml[1] = l_run[h];
    }
  }
#else
  __trap();  // built for a target without wgmma; the launcher does not pick this kernel there
#endif
}

}  // namespace kt_cuda
