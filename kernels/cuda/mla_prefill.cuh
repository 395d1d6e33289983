// MLA prefill attention, non-absorbed form: per head, q = [q_nope 128 | q_pe
// 64], k = [k_nope 128 (this head, from kv_b) | k_pe 64 (shared by all heads)],
// v = 128 wide; causal. For a prompt the non-absorbed form costs 2·(192+128)
// flops per (query, key, head) against 2·(576+512) absorbed, so prefill
// expands the latent through W_kv_b first and decode does not.
//
// FlashAttention-2 layout: a block = 4 warps = 64 queries of one head, each
// warp 16 queries; key tiles of 64 come through shared memory (cp.async); S
// and the online softmax stay in registers (the m16n8 C layout of S is reused
// as the A operand of P·V), O is 16 x 128 per warp in registers.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

constexpr int kPfDk = 192, kPfDn = 128, kPfDr = 64, kPfDv = 128, kPfBQ = 64, kPfBK = 64;
constexpr int kPfLdK = kPfDk + 8, kPfLdV = kPfDv + 8;  // padded rows: conflict-free ldmatrix
constexpr int kPfThreads = 128;

struct MlaPrefillSmem {
  u16 q[kPfBQ][kPfLdK];
  u16 k[kPfBK][kPfLdK];
  u16 v[kPfBK][kPfLdV];
};

// q: [T][H][192] bf16; k_nope: [S][H][128] bf16; k_pe: [S][64] bf16;
// v: [S][H][128] bf16; out: [T][H][128] f32. Query t sits at position
// (S - T) + t and sees keys 0 .. (S - T) + t.
__global__ void __launch_bounds__(kPfThreads)
    MlaPrefillKernel(const u16* __restrict__ q, const u16* __restrict__ k_nope, const u16* __restrict__ k_pe,
                     const u16* __restrict__ v, int T, int S, int H, float scale_log2, float* __restrict__ out) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  MlaPrefillSmem& sm = *reinterpret_cast<MlaPrefillSmem*>(smem_raw);
  const int q0 = blockIdx.x * kPfBQ, h = blockIdx.y;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t4 = lane & 3;
  const int past = S - T;

  for (int i = threadIdx.x; i < kPfBQ * (kPfDk / 8); i += kPfThreads) {
    const int r = i / (kPfDk / 8), c = (i % (kPfDk / 8)) * 8;
    const bool ok = q0 + r < T;
    CpAsync16(&sm.q[r][c], q + (static_cast<long long>(ok ? q0 + r : 0) * H + h) * kPfDk + c, ok ? 16 : 0);
  }
  CpAsyncCommit();

  float o[16][4];
#pragma unroll
  for (int j = 0; j < 16; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m_lo = -KT_CUDA_INF, m_hi = -KT_CUDA_INF, l_lo = 0.0f, l_hi = 0.0f;  // rows g and g+8
  const int qrow_lo = q0 + 16 * warp + g, qrow_hi = qrow_lo + 8;
  const int last_key = min(S - 1, past + min(T - 1, q0 + kPfBQ - 1));
  const int ntiles = last_key / kPfBK + 1;

  for (int kt = 0; kt < ntiles; ++kt) {
    __syncthreads();  // previous tile fully consumed
    for (int i = threadIdx.x; i < kPfBK * (kPfDk / 8); i += kPfThreads) {
      const int r = i / (kPfDk / 8), c = (i % (kPfDk / 8)) * 8, key = kt * kPfBK + r;
      const bool ok = key < S;
      const int kk = ok ? key : 0;
      const u16* src = c < kPfDn ? k_nope + (static_cast<long long>(kk) * H + h) * kPfDn + c
                                 : k_pe + static_cast<long long>(kk) * kPfDr + (c - kPfDn);
      CpAsync16(&sm.k[r][c], src, ok ? 16 : 0);
    }
    for (int i = threadIdx.x; i < kPfBK * (kPfDv / 8); i += kPfThreads) {
      const int r = i / (kPfDv / 8), c = (i % (kPfDv / 8)) * 8, key = kt * kPfBK + r;
      const bool ok = key < S;
      CpAsync16(&sm.v[r][c], v + (static_cast<long long>(ok ? key : 0) * H + h) * kPfDv + c, ok ? 16 : 0);
    }
    CpAsyncCommit();
    CpAsyncWait<0>();
    __syncthreads();

    float s[8][4];
#pragma unroll
    for (int j = 0; j < 8; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kPfDk / 16; ++kk) {
      u32 a[4];
      LdMatrixX4(a, &sm.q[16 * warp + (lane & 7) + ((lane >> 3) & 1) * 8][16 * kk + (lane >> 4) * 8]);
#pragma unroll
      for (int jp = 0; jp < 4; ++jp) {
        u32 b[4];
        LdMatrixX4(b, &sm.k[16 * jp + (lane & 7) + (lane >> 4) * 8][16 * kk + ((lane >> 3) & 1) * 8]);
        MmaBf16(s[2 * jp], a, b[0], b[1]);
        MmaBf16(s[2 * jp + 1], a, b[2], b[3]);
      }
    }
    // Scale, mask, online softmax (a row lives in the 4 lanes of a quad).
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = kt * kPfBK + 8 * j + 2 * t4 + (e & 1);
        const int qr = e < 2 ? qrow_lo : qrow_hi;
        const bool ok = key < S && key <= past + qr;
        s[j][e] = ok ? s[j][e] * scale_log2 : -KT_CUDA_INF;
      }
    float al[2], ps[2];
    SoftmaxTile<8>(s, m_lo, m_hi, al, ps);
    const float al_lo = al[0], al_hi = al[1];
    float sum_lo = ps[0], sum_hi = ps[1];
#pragma unroll
    for (int off = 1; off <= 2; off <<= 1) {
      sum_lo += __shfl_xor_sync(0xffffffffu, sum_lo, off);
      sum_hi += __shfl_xor_sync(0xffffffffu, sum_hi, off);
    }
    l_lo = l_lo * al_lo + sum_lo;
    l_hi = l_hi * al_hi + sum_hi;
#pragma unroll
    for (int j = 0; j < 16; ++j) { o[j][0] *= al_lo; o[j][1] *= al_lo; o[j][2] *= al_hi; o[j][3] *= al_hi; }
    // O += P · V; P's C fragments of key tiles 2kk, 2kk+1 are the A fragment of step kk.
#pragma unroll
    for (int kk = 0; kk < kPfBK / 16; ++kk) {
      u32 a[4];
      a[0] = PackBf16(s[2 * kk][0], s[2 * kk][1]);
      a[1] = PackBf16(s[2 * kk][2], s[2 * kk][3]);
      a[2] = PackBf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
      a[3] = PackBf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
      const int krow = 16 * kk + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
      for (int np = 0; np < 8; ++np) {
        u32 b[4];
        LdMatrixX4Trans(b, &sm.v[krow][16 * np + (lane >> 4) * 8]);
        MmaBf16(o[2 * np], a, b[0], b[1]);
        MmaBf16(o[2 * np + 1], a, b[2], b[3]);
      }
    }
  }
  const float inv_lo = l_lo > 0.0f ? 1.0f / l_lo : 0.0f, inv_hi = l_hi > 0.0f ? 1.0f / l_hi : 0.0f;
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    const int c = 8 * j + 2 * t4;
    if (qrow_lo < T)
      *reinterpret_cast<float2*>(out + (static_cast<long long>(qrow_lo) * H + h) * kPfDv + c) =
          make_float2(o[j][0] * inv_lo, o[j][1] * inv_lo);
    if (qrow_hi < T)
      *reinterpret_cast<float2*>(out + (static_cast<long long>(qrow_hi) * H + h) * kPfDv + c) =
          make_float2(o[j][2] * inv_hi, o[j][3] * inv_hi);
  }
}

}  // namespace kt_cuda
