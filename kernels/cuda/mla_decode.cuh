// MLA decode attention over the compressed latent cache, absorbed form
// (DeepSeek-V2/V3): every head attends over the same [c_kv 512 | k_pe 64] rows.
//
// Per head the work is 2·(576 + 512) flops per cache row, so with 128 heads
// (V3) one 1152-byte row costs ~280 kflop: CUDA cores cannot keep up with HBM
// and the tensor cores must do it. One block = 16 heads (one m16 tile) of one
// token over a contiguous range of 64-row cache tiles (flash-decoding split),
// 8 warps; cache tiles arrive by cp.async, double buffered. S = Q·Kᵀ: each warp
// one n8 column slice; online softmax through shared memory; O += P·V: each
// warp 64 of the 512 latent columns (V = the c_kv part of the same tile, read
// with ldmatrix.trans). A second kernel merges the splits.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

constexpr int kMlaDk = 576, kMlaDv = 512, kMlaBN = 64;
constexpr int kMlaLd = kMlaDk + 8;   // padded row (bf16): rows land 4 banks apart
constexpr int kMlaPLd = kMlaBN + 8;
constexpr int kMlaSLd = kMlaBN + 4;
constexpr int kMlaThreads = 256;

struct MlaSmem {
  u16 q[16][kMlaLd];
  u16 k[2][kMlaBN][kMlaLd];
  float s[16][kMlaSLd];
  u16 p[16][kMlaPLd];
  float alpha[16];
};

// part_o: [ntok][heads][nsplit][512]; part_ml: [ntok][heads][nsplit][2] (max in
// log2 units, sum). scale_log2 = softmax scale · log2(e).
__global__ void __launch_bounds__(kMlaThreads, 1)
    MlaDecodeKernel(const float* __restrict__ q, const u16* __restrict__ cache, int ntok, int heads,
                    int kv_len, int tiles_per_split, float scale_log2, float* __restrict__ part_o,
                    float* __restrict__ part_ml) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  MlaSmem& sm = *reinterpret_cast<MlaSmem*>(smem_raw);
  const int split = blockIdx.x, nsplit = gridDim.x, ht = blockIdx.y, tok = blockIdx.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t4 = lane & 3;
  const int my_len = kv_len - (ntok - 1 - tok);
  const int tile0 = split * tiles_per_split;
  int tile1 = tile0 + tiles_per_split;
  const int my_tiles = (my_len + kMlaBN - 1) / kMlaBN;
  if (tile1 > my_tiles) tile1 = my_tiles;

  // q tile: 9 independent float4 loads per thread, all in flight at once (a
  // scalar loop here cost ~14 us of serial L2 latency per block).
#pragma unroll
  for (int i = 0; i < 16 * kMlaDk / 4 / kMlaThreads; ++i) {
    const int idx = threadIdx.x + i * kMlaThreads;
    const int r = idx / (kMlaDk / 4), c = 4 * (idx % (kMlaDk / 4)), h = ht * 16 + r;
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (h < heads) v = __ldg(reinterpret_cast<const float4*>(q + (static_cast<long long>(tok) * heads + h) * kMlaDk + c));
    *reinterpret_cast<uint2*>(&sm.q[r][c]) = make_uint2(PackBf16(v.x, v.y), PackBf16(v.z, v.w));
  }
  auto load_tile = [&](int tile, int buf) {
    // 64 rows x 72 chunks of 16 bytes.
    for (int i = threadIdx.x; i < kMlaBN * (kMlaDk / 8); i += kMlaThreads) {
      const int r = i / (kMlaDk / 8), c = (i % (kMlaDk / 8)) * 8;
      const int row = tile * kMlaBN + r;
      const bool ok = row < my_len;
      CpAsync16(&sm.k[buf][r][c], cache + static_cast<long long>(ok ? row : 0) * kMlaDk + c, ok ? 16 : 0);
    }
    CpAsyncCommit();
  };

  float o[8][4];
#pragma unroll
  for (int j = 0; j < 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m_run = -KT_CUDA_INF, l_run = 0.0f;  // softmax state of rows 2*warp + (lane >= 16)

  if (tile0 < tile1) load_tile(tile0, 0);
  for (int tile = tile0; tile < tile1; ++tile) {
    const int buf = (tile - tile0) & 1;
    CpAsyncWait<0>();
    __syncthreads();
    if (tile + 1 < tile1) load_tile(tile + 1, buf ^ 1);

    {  // S slice: columns 8*warp .. 8*warp+7
      // Two accumulator chains: 36 dependent MMAs would serialise on latency.
      float s[4] = {0.f, 0.f, 0.f, 0.f}, s2[4] = {0.f, 0.f, 0.f, 0.f};
      const u16* krow = &sm.k[buf][8 * warp + g][0];
#pragma unroll 6
      for (int kk = 0; kk < kMlaDk / 16; kk += 2) {
#pragma unroll
        for (int u = 0; u < 2; ++u) {
          const int c = (kk + u) * 16 + 2 * t4;
          u32 a[4];
          a[0] = *reinterpret_cast<const u32*>(&sm.q[g][c]);
          a[1] = *reinterpret_cast<const u32*>(&sm.q[g + 8][c]);
          a[2] = *reinterpret_cast<const u32*>(&sm.q[g][c + 8]);
          a[3] = *reinterpret_cast<const u32*>(&sm.q[g + 8][c + 8]);
          MmaBf16(u ? s2 : s, a, *reinterpret_cast<const u32*>(krow + c), *reinterpret_cast<const u32*>(krow + c + 8));
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) s[i] += s2[i];
      const int col = 8 * warp + 2 * t4;
      const int row_abs = tile * kMlaBN + col;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const bool ok = row_abs + (i & 1) < my_len;
        sm.s[g + 8 * (i >> 1)][col + (i & 1)] = ok ? s[i] * scale_log2 : -KT_CUDA_INF;
      }
    }
    __syncthreads();
    {  // online softmax: warp handles rows 2*warp and 2*warp+1, 16 lanes each
      const int r = 2 * warp + (lane >> 4), c = (lane & 15) * 4;
      const float4 v = *reinterpret_cast<const float4*>(&sm.s[r][c]);
      float mx = fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w));
#pragma unroll
      for (int off = 8; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
      const float m_new = fmaxf(m_run, mx);
      const float base = m_new == -KT_CUDA_INF ? 0.0f : m_new;
      const float alpha = exp2f(m_run - base);
      const float p0 = exp2f(v.x - base), p1 = exp2f(v.y - base), p2 = exp2f(v.z - base), p3 = exp2f(v.w - base);
      float ps = (p0 + p1) + (p2 + p3);
#pragma unroll
      for (int off = 8; off > 0; off >>= 1) ps += __shfl_xor_sync(0xffffffffu, ps, off);
      l_run = l_run * alpha + ps;
      m_run = m_new;
      *reinterpret_cast<uint2*>(&sm.p[r][c]) = make_uint2(PackBf16(p0, p1), PackBf16(p2, p3));
      if ((lane & 15) == 0) sm.alpha[r] = alpha;
    }
    __syncthreads();
    {  // O[:, 64*warp .. +64] = alpha * O + P · V
      const float a_lo = sm.alpha[g], a_hi = sm.alpha[g + 8];
#pragma unroll
      for (int j = 0; j < 8; ++j) { o[j][0] *= a_lo; o[j][1] *= a_lo; o[j][2] *= a_hi; o[j][3] *= a_hi; }
#pragma unroll
      for (int kk = 0; kk < kMlaBN / 16; ++kk) {
        const int c = kk * 16 + 2 * t4;
        u32 a[4];
        a[0] = *reinterpret_cast<const u32*>(&sm.p[g][c]);
        a[1] = *reinterpret_cast<const u32*>(&sm.p[g + 8][c]);
        a[2] = *reinterpret_cast<const u32*>(&sm.p[g][c + 8]);
        a[3] = *reinterpret_cast<const u32*>(&sm.p[g + 8][c + 8]);
        const int krow = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
        for (int np = 0; np < 4; ++np) {
          u32 b[4];
          LdMatrixX4Trans(b, &sm.k[buf][krow][64 * warp + 16 * np + (lane >> 4) * 8]);
          MmaBf16(o[2 * np], a, b[0], b[1]);
          MmaBf16(o[2 * np + 1], a, b[2], b[3]);
        }
      }
    }
  }
  // Partial results (unnormalised O, running max and sum per head row).
  const long long part = (static_cast<long long>(tok) * heads) * nsplit;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int h = ht * 16 + g + 8 * half;
    if (h >= heads) continue;
    float* dst = part_o + ((part + static_cast<long long>(h) * nsplit + split) * kMlaDv);
#pragma unroll
    for (int j = 0; j < 8; ++j)
      *reinterpret_cast<float2*>(dst + 64 * warp + 8 * j + 2 * t4) = make_float2(o[j][2 * half], o[j][2 * half + 1]);
  }
  if ((lane & 15) == 0) {
    const int h = ht * 16 + 2 * warp + (lane >> 4);
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
