// Two-level int8 quantisation of activations for the dp4a decode GEMV
// (gemv_i8.cuh): the workspace layout, the per-32-value quantiser every
// producer shares, and the stand-alone quantiser kernel. Producers that
// already hold the values (RMSNorm, SiLU-gated product: ops.cuh) quantise in
// their own epilogue through QuantizeBlock32, so that no separate kernel
// launch sits between them and the GEMV.
#pragma once

#include "kernels/cuda/common.cuh"

namespace kt_cuda {

// Activation layout in the workspace (GemvI8WorkspaceBytes): per token t < 8,
// hi[t][Kp] and lo[t][Kp] int8 (Kp = K rounded up to 2048), then
// ds[t][K/32] = (d, exact sum of the 32 x), then s16[t][K/16] = exact sums of
// 16 x (Q6_K's scale blocks). hi/lo are permuted so that the GEMV's loads are
// coalesced: in a 2048-value step, GEMV lane L's piece i of 16 values is
// stored at 512 * i + 16 * L. Which values a lane's pieces hold depends on
// the weight type's lane mapping (I8Pos):
//   Q4_K: lane 4q + c takes values 256q + 64c + 16i + e (i < 4);
//   Q8_0: 1024-value steps, lane L takes 32L + 16i + e (i < 2);
//   Q6_K: lane 4q + 2n + p takes 256q + 128n + 32i + 16p + e (i < 4).
enum I8Layout : int { kI8LayoutQ4K = 0, kI8LayoutQ80 = 1, kI8LayoutQ6K = 2 };

struct I8Act {
  const i8* hi;
  const i8* lo;
  const float2* ds;
  const float* s16;
  long long kp;  // per-token stride of hi and lo
};

KT_CUDA_FORCEINLINE long long I8Pos(int v, int layout) {
  const int e = v & 15;
  if (layout == kI8LayoutQ80) {
    const int s = v >> 10, r = v & 1023;
    return (static_cast<long long>(s) << 10) + 512 * ((r >> 4) & 1) + 16 * (r >> 5) + e;
  }
  const int s = v >> 11, r = v & 2047, q = r >> 8, w = r & 255;
  int L, i;
  if (layout == kI8LayoutQ4K) {
    L = 4 * q + (w >> 6);
    i = (w >> 4) & 3;
  } else {
    L = 4 * q + 2 * (w >> 7) + ((w >> 4) & 1);
    i = (w >> 5) & 3;
  }
  return (static_cast<long long>(s) << 11) + 512 * i + 16 * L + e;
}

// Where a producer writes quantised values (hi == nullptr: nowhere).
struct I8Dst {
  i8* hi;
  i8* lo;
  float2* ds;
  float* s16;
  long long kp;  // per-token stride of hi and lo
  int layout;    // I8Layout
};

// Quantises block b (values 32 b .. 32 b + 31, one per lane: v) of token t
// into dst; every lane of the warp calls it. x ~= d * (hi + lo / 254) with
// d = max|x| / 127. NaN in the block makes d NaN (fmaxf would drop it), so
// it reaches the GEMV's output instead of vanishing.
KT_CUDA_FORCEINLINE void QuantizeBlock32(float v, int lane, int t, int b, int nb, const I8Dst& dst) {
  const float amax = WarpMax(fabsf(v));
  const float sum = WarpSum(v);
  const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
  float d = amax / 127.0f;
  if (sum != sum) d = sum;
  const float qh = fminf(fmaxf(rintf(v * id), -127.0f), 127.0f);
  const float r = v - d * qh;
  const float ql = fminf(fmaxf(rintf(r * id * 254.0f), -127.0f), 127.0f);
  const long long o = static_cast<long long>(t) * dst.kp + I8Pos(32 * b + lane, dst.layout);
  dst.hi[o] = static_cast<i8>(static_cast<int>(qh));
  dst.lo[o] = static_cast<i8>(static_cast<int>(ql));
  float half = v;  // sum of this lane's 16
#pragma unroll
  for (int off = 8; off > 0; off >>= 1) half += __shfl_xor_sync(0xffffffffu, half, off);
  if (lane == 0) dst.ds[static_cast<long long>(t) * nb + b] = make_float2(d, sum);
  if ((lane & 15) == 0) dst.s16[static_cast<long long>(t) * 2 * nb + 2 * b + (lane >> 4)] = half;
}

// One warp per 32 values of one token.
__global__ void __launch_bounds__(256) QuantizeX2Kernel(const float* __restrict__ x, long long ldx, int ntok, int K,
                                                        int layout, long long kp, i8* __restrict__ hi,
                                                        i8* __restrict__ lo, float2* __restrict__ ds,
                                                        float* __restrict__ s16) {
  GridDependentsLaunch();  // the GEMV may start streaming weights now
  GridDependencyWait();    // x (and the workspace's last reader) are done
  const int lane = threadIdx.x & 31;
  const int gw = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int nb = K >> 5;
  if (gw >= nb * ntok) return;  // whole warps leave together
  const int t = gw / nb, b = gw - t * nb;
  QuantizeBlock32(x[t * ldx + 32 * b + lane], lane, t, b, nb, I8Dst{hi, lo, ds, s16, kp, layout});
}

}  // namespace kt_cuda
