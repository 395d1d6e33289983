// MLA decode attention, warp-specialised (sm_90): 16 heads per block, a
// producer warp and two consumer groups that take alternate cache tiles.
//
// Why: the lockstep kernel (mla_decode.cuh) stops every warp at three block
// barriers per tile, and its 2-stage ring of 64-row tiles (all that fits
// next to q) keeps one tile in flight. ncu at 16 heads / 32k on the H200:
// DRAM 36% busy, 28% of warp samples waiting at the barrier after S = Q·Kᵀ.
// Here nothing but a 4-warp named barrier sits in the loop:
//  * the producer warp streams 32-row tiles into a 5-stage ring by bulk
//    copies (full barrier per stage) and refills a stage once the 4 warps
//    that used it have arrived on its empty barrier;
//  * q is read once per block, as bf16 into shared memory, and each warp
//    keeps the A fragments of its quarter of the 576-deep product in
//    registers for the whole kernel (reading q straight into every warp's
//    registers cost 0.6 us more at 16 heads / 32k);
//  * consumer group G (4 warps) takes tiles G, G + 2, ...; warp w of a group
//    computes its depth quarter of the 16 x 32 scores, and the 4 partial
//    tiles meet in shared memory (the one barrier); every warp then runs the
//    same online softmax in registers (P stays in registers as the A
//    operand) and updates its 128 of the 512 latent output columns;
//  * the groups' (max, sum, O) states merge in shared memory at the end,
//    each group finalising half of the heads, and the split's partial
//    result goes out as MlaDecodeKernel's does, for MlaCombineKernel.
// Multi-token decode is causal as in MlaDecodeKernel (MlaRange).
//
// What limits it now (H200, 16 heads / 32k, session 9): the call takes
// 16.7-16.8 us (57% of the copy ceiling); the decode kernel alone, in a
// chain of launches, 14.0-14.3 us (68%), so the merge step costs ~2.7 us of
// every call. Merging in this kernel through a grid-wide barrier (every
// block resident, the last to arrive releases the others, then each block
// merges a share of the columns) was correct but 0.5 us slower at 32k and
// 1.5 us at 4k (session 5), and was not kept. Fewer, longer splits are slower: one SM streams at most ~30
// GB/s this way (64 splits: 21 us for the kernel alone).
#pragma once

#include "kernels/cuda/bulk.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mla_decode.cuh"
#include "kernels/cuda/mma.cuh"
#include "kernels/cuda/trace.cuh"

namespace kt_cuda {

constexpr int kMwsRows = 32;                                // cache rows per tile
constexpr int kMwsStages = 5;                               // ring depth
constexpr int kMwsPrewait = 2;                              // tiles copied before griddepcontrol.wait
constexpr int kMwsGroupWarps = 4;                           // warps per consumer group
constexpr int kMwsThreads = (2 * kMwsGroupWarps + 1) * 32;  // two groups + the producer warp
constexpr int kMwsOLd = kMlaDv + 8;                         // merge buffer row (floats)

struct MlaWsSmem {
  alignas(16) u16 k[kMwsStages][kMwsRows][kMlaLd];  // bulk copy destinations, rows padded to kMlaLd
  float4 s[2][2][kMwsGroupWarps][4][32];            // [group][buffer][warp][n8 tile][lane] partial scores
  unsigned long long full[kMwsStages], empty[kMwsStages];
};
static_assert(sizeof(float4) * 2 * 2 * kMwsGroupWarps * 4 * 32 >= sizeof(u16) * 16 * kMlaLd,
              "q is staged where the score buffers will be");
static_assert(sizeof(u16) * kMwsStages * kMwsRows * kMlaLd >= sizeof(float) * (16 * kMwsOLd + 32),
              "the merge buffer reuses the ring");

__global__ void __launch_bounds__(kMwsThreads, 1)
    MlaDecodeWsKernel(const float* __restrict__ q, const u16* __restrict__ cache, int ntok, int heads, int kv_len,
                      int tiles_per_split, float scale_log2, float* __restrict__ part_o,
                      float* __restrict__ part_ml) {
#if KT_CUDA_HAS_BULK
  constexpr int kDepthSteps = kMlaDk / 16 / kMwsGroupWarps;  // k16 steps of q per warp (9)
  extern __shared__ __align__(16) unsigned char smem_raw[];
  MlaWsSmem& sm = *reinterpret_cast<MlaWsSmem*>(smem_raw);
  GridDependentsLaunch();  // the combine kernel may be scheduled; it waits for us before reading
  const int split = blockIdx.x, nsplit = gridDim.x, ht = blockIdx.y, tok = blockIdx.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const MlaSplitRange range = MlaRange(kv_len, ntok, tok, split, tiles_per_split, kMwsRows);
  const int my_len = range.my_len, tile0 = range.tile0, ntiles = range.ntiles;
  if (threadIdx.x == 0)
    for (int i = 0; i < kMwsStages; ++i) {
      MbarInitCount(&sm.full[i], 1);
      MbarInitCount(&sm.empty[i], kMwsGroupWarps);
    }
  __syncthreads();

  if (warp == 2 * kMwsGroupWarps) {  // producer
    bool waited = false;
    for (int j = 0; j < ntiles; ++j) {
      const int st = j % kMwsStages, tile = tile0 + j;
      if (j >= kMwsStages) MbarWait(&sm.empty[st], (j / kMwsStages - 1) & 1);  // its last user is done
      // Tiles holding rows of this step's tokens may still be being appended
      // by the previous kernel; the ones before need not wait for it. Only
      // the first kMwsPrewait are copied before the wait: more compete with
      // the previous call's merge and this block's q load (H200, 16 heads /
      // 32k, session 9: 17.7 us with all 5 stages, 17.3 with 3, 17.0 with 2
      // or 1, 17.8 with none).
      if (!waited && (j >= kMwsPrewait || (tile + 1) * kMwsRows > kv_len - ntok)) {
        GridDependencyWait();
        waited = true;
      }
      const int rows = min(kMwsRows, my_len - tile * kMwsRows);
      if (rows < kMwsRows) {  // rows past the end are not copied: zero them (P is 0 there, but 0 * NaN is NaN)
        for (int i = rows * (kMlaDk / 8) + lane; i < kMwsRows * (kMlaDk / 8); i += 32)
          *reinterpret_cast<uint4*>(&sm.k[st][i / (kMlaDk / 8)][(i % (kMlaDk / 8)) * 8]) = make_uint4(0, 0, 0, 0);
        FenceProxyAsyncShared();  // before a later bulk copy reuses these bytes
      }
      __syncwarp();
      if (lane == 0) MbarExpectTx(&sm.full[st], static_cast<u32>(rows) * kMlaDk * 2);  // releases the zeroes too
      __syncwarp();
      for (int r = lane; r < rows; r += 32)
        BulkG2S(&sm.k[st][r][0], cache + static_cast<long long>(tile * kMwsRows + r) * kMlaDk, kMlaDk * 2,
                &sm.full[st]);
    }
    return;
  }

  KT_TRACE(0, 0);
  const int grp = warp / kMwsGroupWarps, w = warp % kMwsGroupWarps;
  const int g = lane >> 2, t4 = lane & 3;
  GridDependencyWait();  // q comes from the previous kernel
  KT_TRACE(1, 0);

  // q's A fragments for k16 steps kDepthSteps * w .. + kDepthSteps - 1, in
  // registers for the whole kernel. The block reads q once (bf16 in shared
  // memory, where the score buffers will be; both groups use the same
  // fragments), then every warp takes its fragments with ldmatrix.
  u32 qa[kDepthSteps][4];
  constexpr int kConsumers = 2 * kMwsGroupWarps * 32;
  {
    u16(*qs)[kMlaLd] = reinterpret_cast<u16(*)[kMlaLd]>(&sm.s[0][0][0][0][0]);
#pragma unroll
    for (int idx = threadIdx.x; idx < 16 * kMlaDk / 4; idx += kConsumers) {
      const int r = idx / (kMlaDk / 4), c = 4 * (idx % (kMlaDk / 4)), h = ht * 16 + r;
      float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
      if (h < heads) v = __ldg(reinterpret_cast<const float4*>(q + (static_cast<long long>(tok) * heads + h) * kMlaDk + c));
      *reinterpret_cast<uint2*>(&qs[r][c]) = make_uint2(PackBf16(v.x, v.y), PackBf16(v.z, v.w));
    }
    NamedBarrierSync(3, kConsumers);
    const int a_row = (lane & 7) + 8 * ((lane >> 3) & 1), a_col = 8 * (lane >> 4) + 16 * kDepthSteps * w;
#pragma unroll
    for (int kk = 0; kk < kDepthSteps; ++kk) LdMatrixX4(qa[kk], &qs[a_row][a_col + 16 * kk]);
    NamedBarrierSync(3, kConsumers);  // every warp has its fragments before the score buffers are written
  }
  KT_TRACE(2, 0);

  float o[16][4];  // rows g, g + 8; columns 128 w + 8 j + 2 t4 (+1)
#pragma unroll
  for (int j = 0; j < 16; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m_lo = -KT_CUDA_INF, m_hi = -KT_CUDA_INF;  // running max (log2 units) of rows g, g + 8
  float l_lo = 0.0f, l_hi = 0.0f;                  // this thread's part of the running sums

  // ldmatrix row addresses: K rows (B of S, n8 tiles 0-1; +16 rows: 2-3), V rows (B of P·V, transposed).
  const int b_row = (lane & 7) + 8 * (lane >> 4), b_col = 8 * ((lane >> 3) & 1) + 16 * kDepthSteps * w;
  const int v_row = (lane & 7) + 8 * ((lane >> 3) & 1), v_col = 128 * w + 8 * (lane >> 4);

  int it = 0;
  for (int j = grp; j < ntiles; j += 2, ++it) {
    const int st = j % kMwsStages, tile = tile0 + j;
    MbarWait(&sm.full[st], (j / kMwsStages) & 1);
    const u16* kt = &sm.k[st][0][0];

    float sc[4][4];
#pragma unroll
    for (int n = 0; n < 4; ++n) sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kDepthSteps; ++kk) {
      u32 b[4], b2[4];
      LdMatrixX4(b, kt + b_row * kMlaLd + b_col + 16 * kk);
      LdMatrixX4(b2, kt + (b_row + 16) * kMlaLd + b_col + 16 * kk);
      MmaBf16(sc[0], qa[kk], b[0], b[1]);
      MmaBf16(sc[1], qa[kk], b[2], b[3]);
      MmaBf16(sc[2], qa[kk], b2[0], b2[1]);
      MmaBf16(sc[3], qa[kk], b2[2], b2[3]);
    }
    // The group's 4 depth parts meet in shared memory (double-buffered: a
    // warp can only write a buffer again after the next barrier, which every
    // warp reaches after reading it).
    const int buf = it & 1;
#pragma unroll
    for (int n = 0; n < 4; ++n) sm.s[grp][buf][w][n][lane] = make_float4(sc[n][0], sc[n][1], sc[n][2], sc[n][3]);
    NamedBarrierSync(1 + grp, 32 * kMwsGroupWarps);
    float s[4][4];
#pragma unroll
    for (int n = 0; n < 4; ++n) {
      float4 acc = sm.s[grp][buf][0][n][lane];  // the same order in every warp: identical scores
#pragma unroll
      for (int ww = 1; ww < kMwsGroupWarps; ++ww) {
        const float4 v = sm.s[grp][buf][ww][n][lane];
        acc.x += v.x; acc.y += v.y; acc.z += v.z; acc.w += v.w;
      }
      const int row = tile * kMwsRows + 8 * n + 2 * t4;  // cache row of column 0 of this thread's pair
      s[n][0] = row < my_len ? acc.x * scale_log2 : -KT_CUDA_INF;
      s[n][1] = row + 1 < my_len ? acc.y * scale_log2 : -KT_CUDA_INF;
      s[n][2] = row < my_len ? acc.z * scale_log2 : -KT_CUDA_INF;
      s[n][3] = row + 1 < my_len ? acc.w * scale_log2 : -KT_CUDA_INF;
    }
    // Online softmax of rows g (lo) and g + 8 (hi).
    float al[2], ps[2];
    SoftmaxTile<4>(s, m_lo, m_hi, al, ps);
    l_lo = l_lo * al[0] + ps[0];
    l_hi = l_hi * al[1] + ps[1];
#pragma unroll
    for (int jj = 0; jj < 16; ++jj) {
      o[jj][0] *= al[0]; o[jj][1] *= al[0]; o[jj][2] *= al[1]; o[jj][3] *= al[1];
    }
    // O[:, 128 w ..] += P · V, P as the A operand straight from the scores.
#pragma unroll
    for (int kk = 0; kk < kMwsRows / 16; ++kk) {
      const u32 pa[4] = {PackBf16(s[2 * kk][0], s[2 * kk][1]), PackBf16(s[2 * kk][2], s[2 * kk][3]),
                         PackBf16(s[2 * kk + 1][0], s[2 * kk + 1][1]), PackBf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int np = 0; np < 8; ++np) {
        u32 b[4];
        LdMatrixX4Trans(b, kt + (16 * kk + v_row) * kMlaLd + v_col + 16 * np);
        MmaBf16(o[2 * np], pa, b[0], b[1]);
        MmaBf16(o[2 * np + 1], pa, b[2], b[3]);
      }
    }
    __syncwarp();
    if (lane == 0) MbarArrive(&sm.empty[st]);  // this warp is done with the stage
  }
#pragma unroll
  for (int off = 1; off < 4; off <<= 1) {
    l_lo += __shfl_xor_sync(0xffffffffu, l_lo, off);
    l_hi += __shfl_xor_sync(0xffffffffu, l_hi, off);
  }

  KT_TRACE(5, 0);
  KT_TRACE(6, 128);
  // The block's partial result: the two groups' (max, sum, O) states
  // merged through the (now idle) ring. Each group finalises half of the
  // block's heads (group 0 rows g, group 1 rows g + 8) and first hands the
  // other group the rows that one finalises, so all 8 warps write the
  // result (H200, 16 heads / 32k: 17.0 -> 16.7 us against group 0 merging
  // and writing everything).
  float* xo = reinterpret_cast<float*>(&sm.k[0][0][0]);
  float* xml = xo + 16 * kMwsOLd;
  NamedBarrierSync(3, kConsumers);  // both groups have used every stage
  const int give = grp == 0 ? 8 : 0, keep = 8 - give;
#pragma unroll
  for (int jj = 0; jj < 16; ++jj) {
    const int c = 128 * w + 8 * jj + 2 * t4;
    *reinterpret_cast<float2*>(&xo[(g + give) * kMwsOLd + c]) =
        grp == 0 ? make_float2(o[jj][2], o[jj][3]) : make_float2(o[jj][0], o[jj][1]);
  }
  if (w == 0 && t4 == 0) {
    xml[2 * (g + give)] = grp == 0 ? m_hi : m_lo;
    xml[2 * (g + give) + 1] = grp == 0 ? l_hi : l_lo;
  }
  NamedBarrierSync(3, kConsumers);
  const float m0 = grp == 0 ? m_lo : m_hi, l0 = grp == 0 ? l_lo : l_hi;
  const float m1 = xml[2 * (g + keep)], l1 = xml[2 * (g + keep) + 1];
  const float mm = fmaxf(m0, m1);
  const float a0 = m0 == -KT_CUDA_INF ? 0.0f : exp2f(m0 - mm);
  const float a1 = m1 == -KT_CUDA_INF ? 0.0f : exp2f(m1 - mm);
  const int h = ht * 16 + g + keep;
  if (h < heads) {
    const long long row = (static_cast<long long>(tok) * heads + h) * nsplit + split;
    float* dst = part_o + row * kMlaDv;
#pragma unroll
    for (int jj = 0; jj < 16; ++jj) {
      const int c = 128 * w + 8 * jj + 2 * t4;
      const float2 x = *reinterpret_cast<const float2*>(&xo[(g + keep) * kMwsOLd + c]);
      const float2 v = grp == 0 ? make_float2(o[jj][0], o[jj][1]) : make_float2(o[jj][2], o[jj][3]);
      *reinterpret_cast<float2*>(dst + c) = make_float2(a0 * v.x + a1 * x.x, a0 * v.y + a1 * x.y);
    }
    if (w == 0 && t4 == 0) {
      part_ml[row * 2] = mm;
      part_ml[row * 2 + 1] = a0 * l0 + a1 * l1;
    }
  }
  KT_TRACE(7, 0);
#endif
}

}  // namespace kt_cuda
