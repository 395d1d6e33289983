// Host launchers for the kernels in *.cuh (the NVRTC path compiles the same
// headers with shapes fixed at model compile time).
#include <algorithm>
#include <cmath>

#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled (the driver API through the runtime; no libcuda link)

#include "kernels/cuda/gemv_i8.cuh"
#include "kernels/cuda/gemv_mma.cuh"
#include "kernels/cuda/gemv_quant.cuh"
#include "kernels/cuda/gemv_smallk.cuh"
#include "kernels/cuda/gemv_tc.cuh"
#include "kernels/cuda/kt_cuda.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/mla_decode.cuh"
#include "kernels/cuda/mla_decode_wgmma.cuh"
#include "kernels/cuda/mla_decode_ws.cuh"
#include "kernels/cuda/mla_prefill.cuh"
#include "kernels/cuda/ops.cuh"

namespace kt_cuda {

long long RowBytes(int type, int k) {
  switch (type) {
    case kF32: return 4LL * k;
    case kF16: case kBF16: return 2LL * k;
    case kQ8_0: return k % 32 ? 0 : k / 32 * 34LL;
    case kQ4_K: return k % 256 ? 0 : k / 256 * 144LL;
    case kQ5_K: return k % 256 ? 0 : k / 256 * 176LL;
    case kQ6_K: return k % 256 ? 0 : k / 256 * 210LL;
    default: return 0;
  }
}

bool GemvSupports(int type) { return RowBytes(type, 256) != 0; }

namespace {

template <int kType, int NT, int R>
cudaError_t LaunchOne(const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                      float* y, long long ldy, cudaStream_t stream, int batch, long long wbs,
                      long long xbs, long long ybs) {
  dim3 grid((n + R - 1) / R, batch);
  return LaunchOverlapped(GemvKernel<kType, NT, R>, grid, dim3(kGemvWarps * 32), stream, 0, static_cast<const u8*>(w),
                          row_bytes, wbs, k, n, x, ldx, xbs, y, ldy, ybs);
}

template <int kType>
cudaError_t GemvTyped(const void* w, long long row_bytes, int k, int n, const float* x,
                      long long ldx, int ntok, float* y, long long ldy, cudaStream_t s, int batch,
                      long long wbs, long long xbs, long long ybs, int rpb) {
  for (int t0 = 0; t0 < ntok; t0 += 8) {
    const int nt = ntok - t0 < 8 ? ntok - t0 : 8;
    const float* xt = x + t0 * ldx;
    float* yt = y + t0 * ldy;
    cudaError_t e;
    switch (nt) {
      case 1:
        if (rpb == 2) e = LaunchOne<kType, 1, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs);
        else if (rpb == 8) e = LaunchOne<kType, 1, 8>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs);
        else e = LaunchOne<kType, 1, 4>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs);
        break;
      case 2: e = LaunchOne<kType, 2, 4>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
      case 3: e = LaunchOne<kType, 3, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
      case 4: e = LaunchOne<kType, 4, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
      case 5: e = LaunchOne<kType, 5, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
      case 6: e = LaunchOne<kType, 6, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
      case 7: e = LaunchOne<kType, 7, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
      default: e = LaunchOne<kType, 8, 2>(w, row_bytes, k, n, xt, ldx, yt, ldy, s, batch, wbs, xbs, ybs); break;
    }
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

}  // namespace

namespace {

// Short rows (K = 32 * 2^j <= 1024) of 32-value-chunk types go to
// GemvSmallKKernel when the chunks are aligned for its loads.
bool SmallKFits(int type, const void* w, long long row_bytes, int k, long long wbs) {
  const int chunks = k / 32;
  if (k % 32 || chunks > 32 || (chunks & (chunks - 1))) return false;
  const long long align = static_cast<long long>(reinterpret_cast<size_t>(w)) | row_bytes | wbs;
  if (type == kQ8_0) return (align & 1) == 0;
  if (type == kF16 || type == kBF16 || type == kF32) return (align & 15) == 0;
  return false;
}

cudaError_t LaunchSmallK(int type, const u8* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                         int nt, float* y, long long ldy, cudaStream_t s, int batch, long long wbs, long long xbs,
                         long long ybs) {
  int lg = 0;
  while ((32 << lg) < k) ++lg;
  const int rows_per_block = 8 * (32 >> lg);
  const dim3 grid((n + rows_per_block - 1) / rows_per_block, batch);
  if (type == kQ8_0 && row_bytes == static_cast<long long>(k / 32) * 34 &&
      ((reinterpret_cast<size_t>(w) | static_cast<size_t>(wbs)) & 15) == 0)  // rows_per_block * row_bytes = 8704
    return LaunchOverlapped(GemvSmallKQ80SharedKernel, grid, dim3(256), s, SmallKQ80SmemBytes(k, nt), w, row_bytes, n,
                            x, ldx, nt, y, ldy, wbs, xbs, ybs, lg);
  auto kernel = type == kQ8_0 ? GemvSmallKKernel<kQ8_0>
                : type == kF16  ? GemvSmallKKernel<kF16>
                : type == kBF16 ? GemvSmallKKernel<kBF16>
                                : GemvSmallKKernel<kF32>;
  return LaunchOverlapped(kernel, grid, dim3(256), s, 0, w, row_bytes, n, x, ldx, nt, y, ldy, wbs, xbs, ybs, lg);
}

}  // namespace

cudaError_t Gemv(int type, const void* w, long long row_bytes, int k, int n, const float* x,
                 long long ldx, int ntok, float* y, long long ldy, cudaStream_t stream, int batch,
                 long long wbs, long long xbs, long long ybs, int rpb) {
  if (n <= 0 || k <= 0 || ntok <= 0 || batch <= 0 || RowBytes(type, k) == 0 ||
      row_bytes < RowBytes(type, k) || (ldx & 3) || (xbs & 3) ||
      (reinterpret_cast<size_t>(x) & 15) || (k & 3))
    return cudaErrorInvalidValue;
  if ((type == kQ4_K || type == kQ5_K) && ((row_bytes & 15) || (reinterpret_cast<size_t>(w) & 15)))
    return cudaErrorInvalidValue;
  if (rpb == 0 && ntok <= 8 && SmallKFits(type, w, row_bytes, k, wbs))
    return LaunchSmallK(type, static_cast<const u8*>(w), row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs,
                        ybs);
  switch (type) {
    case kQ4_K: return GemvTyped<kQ4_K>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    case kQ5_K: return GemvTyped<kQ5_K>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    case kQ6_K: return GemvTyped<kQ6_K>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    case kQ8_0: return GemvTyped<kQ8_0>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    case kF16: return GemvTyped<kF16>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    case kBF16: return GemvTyped<kBF16>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    case kF32: return GemvTyped<kF32>(w, row_bytes, k, n, x, ldx, ntok, y, ldy, stream, batch, wbs, xbs, ybs, rpb);
    default: return cudaErrorInvalidValue;
  }
}

bool GemvTcSupports(int type) { return type == kQ4_K || type == kQ8_0; }

size_t GemvTcWorkspaceBytes(int k) {
  return k > 0 ? static_cast<size_t>(k) * 8 * 2 * 2 + static_cast<size_t>(k / 32) * 8 * 4 : 0;
}

namespace {
int SmCount() {
  static int sms = 0;
  if (!sms) {
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
      sms = 132;
  }
  return sms;
}

// Blocks split K (atomics into y) when the rows alone give too few blocks to
// keep every SM busy: 2048 rows are only 128 blocks of 16.
int TcKSplit(int k, int n) {
  const int tiles = (n + 15) / 16, nsteps = k / 256;
  const int target = 3 * SmCount();
  int split = target / tiles;
  const int most = (nsteps + kTcWarps - 1) / kTcWarps;  // every warp keeps >= 1 step
  if (split > most) split = most;
  return split < 1 ? 1 : split;
}

template <int kType>
cudaError_t LaunchTc(const void* w, long long row_bytes, int k, int n, const u16* xh, const u16* xl, const float* xs,
                     int nt, float* y, long long ldy, int split, cudaStream_t s) {
  const int smem = GemvTcSmemBytes<kType>(nt);
  cudaError_t e = cudaFuncSetAttribute(GemvTcKernel<kType>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  GemvTcKernel<kType><<<dim3((n + 15) / 16, split), kTcWarps * 32, smem, s>>>(static_cast<const u8*>(w), row_bytes,
                                                                               k, n, xh, xl, xs, nt, y, ldy);
  return cudaGetLastError();
}
}  // namespace

cudaError_t GemvTc(int type, const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                   int ntok, float* y, long long ldy, void* workspace, cudaStream_t s) {
  if (!GemvTcSupports(type) || k <= 0 || n <= 0 || ntok <= 0 || k % 256 || !workspace ||
      row_bytes < RowBytes(type, k) || (row_bytes & 15) || (reinterpret_cast<size_t>(w) & 15) ||
      (reinterpret_cast<size_t>(workspace) & 15))
    return cudaErrorInvalidValue;
  u16* xh = static_cast<u16*>(workspace);
  u16* xl = xh + static_cast<size_t>(k) * 8;
  float* xs = reinterpret_cast<float*>(xl + static_cast<size_t>(k) * 8);
  for (int t0 = 0; t0 < ntok; t0 += 8) {
    const int nt = ntok - t0 < 8 ? ntok - t0 : 8;
    const int split = TcKSplit(k, n);
    GemvTcPrepKernel<<<(k + 255) / 256, 256, 0, s>>>(x + t0 * ldx, ldx, nt, k, xh, xl, xs,
                                                     split > 1 ? y + t0 * ldy : nullptr, n, ldy);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    e = type == kQ4_K ? LaunchTc<kQ4_K>(w, row_bytes, k, n, xh, xl, xs, nt, y + t0 * ldy, ldy, split, s)
                      : LaunchTc<kQ8_0>(w, row_bytes, k, n, xh, xl, xs, nt, y + t0 * ldy, ldy, split, s);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

bool GemvI8Supports(int type) { return type == kQ4_K || type == kQ8_0 || type == kQ6_K; }

namespace {
long long I8Stride(int k) { return (k + 2047LL) / 2048 * 2048; }
}  // namespace

size_t GemvI8WorkspaceBytes(int k) {
  if (k <= 0 || k % 32) return 0;
  const size_t dp4a = static_cast<size_t>(I8Stride(k)) * 8 * 2 + static_cast<size_t>(k / 32) * 8 * sizeof(float2) +
                      static_cast<size_t>(k / 16) * 8 * sizeof(float);
  return std::max(dp4a, GemvMmaWorkspaceBytes(k));  // GemvI8 hands 3+ tokens to GemvMma
}

namespace {


template <int NT, int R, int KS = 1>
cudaError_t LaunchI8(int type, const u8* w, long long rb, int k, int n, const I8Act& xa, float* y, long long ldy,
                     cudaStream_t s) {
  const int block = kI8Warps * 32;
  if (type == kQ4_K) {
    auto kernel = GemvI8Q4KKernel<NT, R, (R >= 4 ? 2 : 3), KS>;  // 4 rows: 2 stages (48 KB of static smem)
    const int sets = kI8Warps / KS;  // row groups per block
    // One block per `sets` row groups. (Capping the grid at one resident
    // wave, with warps looping over groups, was tried: the static split left
    // some warps a group more than others, 7168->18432 went 23.6 -> 27.3 us.)
    const int blocks = static_cast<int>((static_cast<long long>(n + R - 1) / R + sets - 1) / sets);
    return LaunchOverlapped(kernel, dim3(blocks), dim3(block), s, 0, w, rb, k, n, xa, y, ldy);
  }
  if constexpr (R < 4) {  // (4 rows per warp: Q4_K and Q8_0 only; I8ArgsOk)
    if (type == kQ6_K) {  // cp.async chunk: the widest the rows' alignment allows
      const dim3 grid((n + R * kI8Warps / KS - 1) / (R * kI8Warps / KS));
      const size_t align = static_cast<size_t>(rb) | reinterpret_cast<size_t>(w);
      if (align % 16 == 0)
        return LaunchOverlapped(GemvI8Q6KKernel<NT, R, 3, 16, KS>, grid, dim3(block), s, 0, w, rb, k, n, xa, y, ldy);
      if (align % 8 == 0)
        return LaunchOverlapped(GemvI8Q6KKernel<NT, R, 3, 8, KS>, grid, dim3(block), s, 0, w, rb, k, n, xa, y, ldy);
      return LaunchOverlapped(GemvI8Q6KKernel<NT, R, 3, 4, KS>, grid, dim3(block), s, 0, w, rb, k, n, xa, y, ldy);
    }
  }
  const dim3 grid((n + R * kI8Warps - 1) / (R * kI8Warps));
  return LaunchOverlapped(GemvI8Q80Kernel<NT, R, 2>, grid, dim3(block), s, 0, w, rb, k, n, xa, y, ldy);
}

}  // namespace

namespace {

I8Act I8Workspace(void* workspace, int k) {
  const long long kp = I8Stride(k);
  i8* hi = static_cast<i8*>(workspace);
  i8* lo = hi + kp * 8;
  float2* ds = reinterpret_cast<float2*>(lo + kp * 8);
  return I8Act{hi, lo, ds, reinterpret_cast<float*>(ds + static_cast<size_t>(k / 32) * 8), kp};
}

bool I8ArgsOk(int type, const void* w, long long row_bytes, int k, int n, int ntok, const float* y,
              const void* workspace, int rpw) {
  if (!GemvI8Supports(type) || k <= 0 || n <= 0 || ntok <= 0 || !w || !y || !workspace || RowBytes(type, k) == 0 ||
      row_bytes < RowBytes(type, k) || (reinterpret_cast<size_t>(workspace) & 15) ||
      (rpw != 0 && rpw != 1 && rpw != 2 && rpw != 4) || (rpw == 4 && (ntok != 1 || type == kQ6_K)))
    return false;
  if (type == kQ4_K && ((row_bytes & 15) || (reinterpret_cast<size_t>(w) & 15))) return false;
  if (type == kQ8_0 && ((row_bytes & 1) || (reinterpret_cast<size_t>(w) & 1))) return false;
  if (type == kQ6_K && ((row_bytes & 3) || (reinterpret_cast<size_t>(w) & 3))) return false;  // cp.async >= 4 bytes
  return true;
}

// GemvMma stages 16-byte chunks: Q4_K / Q5_K / Q8_0 rows must be 16-byte multiples;
// Q6_K (super-blocks only 2-byte aligned) reads aligned windows around them.
bool MmaRowsOk(int type, const void* w, long long row_bytes) {
  if (reinterpret_cast<size_t>(w) & 15) return false;
  return type == kQ6_K ? (row_bytes & 1) == 0 : (row_bytes & 15) == 0;
}

// The arguments every quantiser of x for the dp4a GEMV takes (GemvI8Quantize,
// RmsNormI8, SiluMulI8): up to 8 tokens, whole blocks, an aligned workspace.
bool I8QuantArgsOk(int type, int ntok, int k, const void* workspace) {
  return GemvI8Supports(type) && ntok > 0 && ntok <= 8 && k > 0 && RowBytes(type, k) != 0 && workspace &&
         (reinterpret_cast<size_t>(workspace) & 15) == 0;
}

// Where the quantisers write x for weight type `type` (I8Workspace's split,
// writable, with the type's lane layout).
I8Dst I8Destination(int type, void* workspace, int k) {
  const I8Act a = I8Workspace(workspace, k);
  const int layout = type == kQ4_K ? kI8LayoutQ4K : type == kQ6_K ? kI8LayoutQ6K : kI8LayoutQ80;
  return I8Dst{const_cast<i8*>(a.hi), const_cast<i8*>(a.lo), const_cast<float2*>(a.ds), const_cast<float*>(a.s16), a.kp,
               layout};
}

cudaError_t QuantizeI8(const float* x, long long ldx, int nt, int k, const I8Dst& q, cudaStream_t s) {
  const long long warps = static_cast<long long>(nt) * (k / 32);
  return LaunchOverlapped(QuantizeX2Kernel, dim3(static_cast<unsigned>((warps * 32 + 255) / 256)), dim3(256), s, 0, x,
                          ldx, nt, k, q.layout, q.kp, q.hi, q.lo, q.ds, q.s16);
}

// The GEMV proper on x already quantised into the workspace (nt <= 8).
cudaError_t RunI8(int type, const u8* wb, long long row_bytes, int k, int n, const I8Act& xa, int nt, float* yt,
                  long long ldy, int rpw, cudaStream_t s) {
  // Q4_K steps are 8 super-blocks (2048 values), staged 2 steps ahead; when
  // the rows alone give few blocks (N = 2048: 256 blocks of 8 rows) the four
  // warps of a block split the steps of the same rows instead (KS = 4). Q8_0
  // steps are 32 blocks (1024 values) and load two steps at a time.
  const bool long_rows = k > 2048;
  const bool split_k = type != kQ8_0 && k >= 3 * 2048 && (n + 8 - 1) / 8 < 4 * SmCount();
  // One token of Q4_K: 4 rows per warp in 2 stages (H200: 7168->2048 5.79
  // -> 5.11 us, 2048->7168 5.12 -> 4.26, 1536->24576 10.08 -> 9.36,
  // 16384->7168 23.97 -> 20.12, 7168->18432 the same; Q8_0 was slower at 3
  // of those 5 shapes), as long as that leaves at least 3 blocks per SM
  // (those shapes have 3.4 or more; V2-Lite's 2048-row matrices would get 1).
  const long long q4k_r4_blocks = split_k ? (n + 3) / 4 : (n + 15) / 16;
  const int r = rpw ? rpw
                : type == kQ8_0 && nt == 1 && long_rows                           ? 1
                : type == kQ4_K && nt == 1 && q4k_r4_blocks >= 3LL * SmCount() ? 4
                                                                                   : 2;
#define KT_I8_CASE(NT)                                                                                   \
  return split_k ? LaunchI8<NT, 2, 4>(type, wb, row_bytes, k, n, xa, yt, ldy, s)                          \
                 : LaunchI8<NT, 2>(type, wb, row_bytes, k, n, xa, yt, ldy, s);
  switch (nt) {
    case 1:
      if (r == 4)
        return split_k ? LaunchI8<1, 4, 4>(type, wb, row_bytes, k, n, xa, yt, ldy, s)
                       : LaunchI8<1, 4>(type, wb, row_bytes, k, n, xa, yt, ldy, s);
      if (r == 1)
        return split_k ? LaunchI8<1, 1, 4>(type, wb, row_bytes, k, n, xa, yt, ldy, s)
                       : LaunchI8<1, 1>(type, wb, row_bytes, k, n, xa, yt, ldy, s);
      KT_I8_CASE(1)
    case 2: KT_I8_CASE(2)
    case 3: KT_I8_CASE(3)
    case 4: KT_I8_CASE(4)
    case 5: KT_I8_CASE(5)
    case 6: KT_I8_CASE(6)
    case 7: KT_I8_CASE(7)
    default: KT_I8_CASE(8)
  }
#undef KT_I8_CASE
}

}  // namespace

cudaError_t GemvI8(int type, const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                   int ntok, float* y, long long ldy, void* workspace, cudaStream_t s, int rpw) {
  if (!x || !I8ArgsOk(type, w, row_bytes, k, n, ntok, y, workspace, rpw)) return cudaErrorInvalidValue;
  // From 3 tokens on the int8 tensor-core GEMV is faster (H200: mixed at 2
  // tokens, 1.3-4x faster at 4-16), where its layout rules allow it.
  if (ntok >= 3 && rpw == 0 && GemvMmaSupports(type) && k % 256 == 0 && MmaRowsOk(type, w, row_bytes) &&
      (reinterpret_cast<size_t>(x) & 15) == 0 && (ldx & 3) == 0) {
    for (int t0 = 0; t0 < ntok; t0 += kMmaMaxTokens) {
      const cudaError_t e = GemvMma(type, w, row_bytes, k, n, x + t0 * ldx, ldx, std::min(kMmaMaxTokens, ntok - t0),
                                    y + t0 * ldy, ldy, workspace, s);
      if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
  }
  const I8Act xa = I8Workspace(workspace, k);
  const I8Dst xq = I8Destination(type, workspace, k);  // the same bytes, written by the quantiser
  for (int t0 = 0; t0 < ntok; t0 += 8) {
    const int nt = ntok - t0 < 8 ? ntok - t0 : 8;
    cudaError_t e = QuantizeI8(x + t0 * ldx, ldx, nt, k, xq, s);
    if (e != cudaSuccess) return e;
    e = RunI8(type, static_cast<const u8*>(w), row_bytes, k, n, xa, nt, y + t0 * ldy, ldy, rpw, s);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

bool GemvMmaSupports(int type) { return type == kQ4_K || type == kQ5_K || type == kQ8_0 || type == kQ6_K; }

size_t GemvMmaWorkspaceBytes(int k) {
  return k > 0 && k % 256 == 0 ? static_cast<size_t>(k / 256) * kMmaXRecord : 0;
}

namespace {
// Blocks also split K until there are about 8 per SM (a block holds at most
// 4 warps' worth of bytes in flight, and an SM fits 3-4 blocks), as long as
// every split keeps >= 3.5 steps on average (measured on the H200: 7168 ->
// 2048 is fastest with 8 splits of 3-4 steps, 1536 -> 24576 with none).
int MmaKSplit(int nsteps, int blocks) {
  int split = 1;
  while (blocks * split < 8 * SmCount() && nsteps >= 7 * split) split *= 2;
  return split;
}

template <int kType, int MT, int NT, int S>
cudaError_t LaunchMmaS(const u8* w, long long row_bytes, int k, int n, const u8* xw, int ntok, float* y, long long ldy,
                       int per, cudaStream_t s) {
  constexpr int smem = MmaSmemBytes<kType, MT, NT, S>();
  auto kernel = GemvMmaKernel<kType, MT, NT, S>;
  static const cudaError_t attr = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (attr != cudaSuccess) return attr;
  const int nsteps = k / 256;
  const int blocks = (n + kMmaWarps * 16 * MT - 1) / (kMmaWarps * 16 * MT);
  return LaunchOverlapped(kernel, dim3(blocks, (nsteps + per - 1) / per), dim3(kMmaWarps * 32), s, smem, w, row_bytes, k,
                          n, xw, ntok, y, ldy, per);
}
template <int kType, int MT, int NT>
cudaError_t LaunchMma(const u8* w, long long row_bytes, int k, int n, const u8* xw, int ntok, float* y, long long ldy,
                      int per, cudaStream_t s) {
  // Few blocks (at most 2 per SM): each keeps 4 steps in flight instead of 2
  // (H200, 7168 -> 2048, 16 tokens, 8 K-splits: 8.3 vs 9.3 us); many blocks:
  // the smaller ring lets 3-4 of them share an SM (7168 -> 18432, 1 token, 4
  // K-splits: 32.4 us with 3 stages, 34.7 with 5).
  const int nsteps = k / 256;
  const int blocks = (n + kMmaWarps * 16 * MT - 1) / (kMmaWarps * 16 * MT) * ((nsteps + per - 1) / per);
  return blocks <= 2 * SmCount() ? LaunchMmaS<kType, MT, NT, 5>(w, row_bytes, k, n, xw, ntok, y, ldy, per, s)
                                 : LaunchMmaS<kType, MT, NT, 3>(w, row_bytes, k, n, xw, ntok, y, ldy, per, s);
}

template <int kType, int MT>
cudaError_t LaunchMmaTokens(const u8* w, long long row_bytes, int k, int n, const u8* xw, int ntok, float* y,
                            long long ldy, int per, cudaStream_t s) {
  return ntok <= 8 ? LaunchMma<kType, MT, 1>(w, row_bytes, k, n, xw, ntok, y, ldy, per, s)
                   : LaunchMma<kType, MT, 2>(w, row_bytes, k, n, xw, ntok, y, ldy, per, s);
}
}  // namespace

cudaError_t GemvMma(int type, const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                    int ntok, float* y, long long ldy, void* workspace, cudaStream_t s, int tiles_per_warp,
                    int ksplit) {
  if (!GemvMmaSupports(type) || !w || !x || !y || !workspace || k <= 0 || k % 256 || n <= 0 || ntok <= 0 ||
      ntok > kMmaMaxTokens || row_bytes < RowBytes(type, k) || !MmaRowsOk(type, w, row_bytes) ||
      (reinterpret_cast<size_t>(x) & 15) || (ldx & 3) ||
      (reinterpret_cast<size_t>(workspace) & 15) || tiles_per_warp < 0 || tiles_per_warp > 2 || ksplit < 0)
    return cudaErrorInvalidValue;
  const int mt = tiles_per_warp ? tiles_per_warp : 1;
  const int nsteps = k / 256;
  const int asked = ksplit ? std::min(ksplit, nsteps) : MmaKSplit(nsteps, (n + 64 * mt - 1) / (64 * mt));
  const int per = (nsteps + asked - 1) / asked;  // steps per split
  const int split = (nsteps + per - 1) / per;    // blocks along K (y is zeroed when > 1)
  u8* xw = static_cast<u8*>(workspace);
  // One warp per (step, token) for the tokens the GEMV stages: 8 or 16.
  const int toks = ntok <= 8 ? 8 : kMmaMaxTokens;
  const int qblocks = (k / 256) * toks / 8;  // 8 warps per block
  cudaError_t e = LaunchOverlapped(QuantizeMmaKernel, dim3(qblocks), dim3(256), s, 0, x, ldx, ntok, toks, k, xw,
                                   split > 1 ? y : nullptr, n, ldy);
  if (e != cudaSuccess) return e;
  const u8* wb = static_cast<const u8*>(w);
  if (type == kQ4_K)
    return mt == 1 ? LaunchMmaTokens<kQ4_K, 1>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s)
                   : LaunchMmaTokens<kQ4_K, 2>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s);
  if (type == kQ5_K)
    return mt == 1 ? LaunchMmaTokens<kQ5_K, 1>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s)
                   : LaunchMmaTokens<kQ5_K, 2>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s);
  if (type == kQ6_K)
    return mt == 1 ? LaunchMmaTokens<kQ6_K, 1>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s)
                   : LaunchMmaTokens<kQ6_K, 2>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s);
  return mt == 1 ? LaunchMmaTokens<kQ8_0, 1>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s)
                 : LaunchMmaTokens<kQ8_0, 2>(wb, row_bytes, k, n, xw, ntok, y, ldy, per, s);
}

cudaError_t GemvI8Quantize(int type, const float* x, long long ldx, int ntok, int k, void* workspace, cudaStream_t s) {
  if (!x || !I8QuantArgsOk(type, ntok, k, workspace)) return cudaErrorInvalidValue;
  return QuantizeI8(x, ldx, ntok, k, I8Destination(type, workspace, k), s);
}

cudaError_t GemvI8Prepared(int type, const void* w, long long row_bytes, int k, int n, int ntok, float* y,
                           long long ldy, const void* workspace, cudaStream_t s, int rpw) {
  if (ntok > 8 || !I8ArgsOk(type, w, row_bytes, k, n, ntok, y, workspace, rpw)) return cudaErrorInvalidValue;
  return RunI8(type, static_cast<const u8*>(w), row_bytes, k, n, I8Workspace(const_cast<void*>(workspace), k), ntok, y,
               ldy, rpw, s);
}

namespace {
__global__ void CopyKernelImpl(const uint4* __restrict__ a, uint4* __restrict__ b, size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    b[i] = a[i];
}
}  // namespace

cudaError_t CopyKernel(const void* src, void* dst, size_t bytes, cudaStream_t s) {
  if (bytes % 16) return cudaErrorInvalidValue;
  CopyKernelImpl<<<132 * 16, 256, 0, s>>>(static_cast<const uint4*>(src), static_cast<uint4*>(dst), bytes / 16);
  return cudaGetLastError();
}

cudaError_t RmsNorm(const float* x, const float* residual, float* h_out, const float* weight,
                    float* y, int ntok, int n, float eps, cudaStream_t stream) {
  if (ntok <= 0 || n <= 0 || (residual && !h_out)) return cudaErrorInvalidValue;
  return LaunchOverlapped(RmsNormKernel, dim3(ntok), dim3(n >= 4096 ? 1024 : 256), stream, 0, x, residual, h_out, weight,
                          y, n, eps);
}

namespace {
RopeParams MakeRope(const Yarn& yr) {
  RopeParams p;
  p.n_dims = yr.n_dims;
  p.freq_base = yr.freq_base;
  p.freq_scale = 1.0f / yr.factor;
  p.ext_factor = yr.factor > 1.0f ? 1.0f : 0.0f;
  p.attn_factor = yr.attn_factor;
  YarnCorrDims(yr, &p.corr_lo, &p.corr_hi);
  return p;
}
}  // namespace

cudaError_t RmsNormI8(const float* x, const float* residual, float* h_out, const float* weight, float* y, int ntok,
                      int n, float eps, int type, void* workspace, cudaStream_t stream) {
  const bool alias = (y && (y == x || y == residual)) || (h_out && (h_out == x || h_out == residual));
  if (!x || !weight || alias || !I8QuantArgsOk(type, ntok, n, workspace)) return cudaErrorInvalidValue;
  const int pieces = n / 32, per_block = 8;  // 256 threads, a 32-value piece per warp
  return LaunchOverlapped(RmsNormI8Kernel, dim3((pieces + per_block - 1) / per_block, ntok), dim3(32 * per_block), stream,
                          0, x, residual, h_out, weight, y, n, eps, I8Destination(type, workspace, n));
}

cudaError_t SiluMulI8(const float* gate, const float* up, long long ld, int ntok, int k, float* out, int type,
                      void* workspace, cudaStream_t stream) {
  if (!gate || !up || ld < k || !I8QuantArgsOk(type, ntok, k, workspace)) return cudaErrorInvalidValue;
  const long long threads = static_cast<long long>(ntok) * k;  // one per value
  return LaunchOverlapped(SiluMulI8Kernel, dim3(static_cast<unsigned>((threads + 255) / 256)), dim3(256), stream, 0,
                          gate, up, ld, ntok, k, out, I8Destination(type, workspace, k));
}

void YarnCorrDims(const Yarn& yr, float* lo, float* hi) {
  const double pi = 3.14159265358979323846;
  auto dim = [&](double beta) {
    return yr.n_dims * std::log(yr.orig_ctx / (beta * 2 * pi)) / (2 * std::log(static_cast<double>(yr.freq_base)));
  };
  *lo = static_cast<float>(std::fmax(0.0, std::floor(dim(yr.beta_fast))));
  *hi = static_cast<float>(std::fmin(yr.n_dims - 1.0, std::ceil(dim(yr.beta_slow))));
}

cudaError_t RopeYarn(float* x, const int* pos, int ntok, int nheads, int head_stride, int offset,
                     const Yarn& yr, cudaStream_t stream, float* y, int y_head_stride, int y_offset) {
  if (!y) {
    y = x;
    y_head_stride = head_stride;
    y_offset = offset;
  }
  if (ntok <= 0 || nheads <= 0 || yr.n_dims <= 0 || (yr.n_dims & 1) || offset < 0 || offset + yr.n_dims > head_stride ||
      y_offset < 0 || y_offset + yr.n_dims > y_head_stride || !(yr.factor >= 1.0f))
    return cudaErrorInvalidValue;
  const RopeParams p = MakeRope(yr);
  const int work = nheads * yr.n_dims / 2;
  dim3 grid((work + 127) / 128, ntok);
  return LaunchOverlapped(RopeYarnKernel, grid, dim3(128), stream, 0, x, pos, nheads, head_stride, offset, p, y,
                          y_head_stride, y_offset);
}

cudaError_t MlaKvAppend(const float* kv, long long ldkv, int ntok, const float* norm_weight, float eps, int n_norm,
                        const int* pos, const Yarn& yarn, unsigned short* rows, cudaStream_t stream,
                        const MlaQRope& q_rope) {
  constexpr int kThreads = 256;
  if (!kv || !norm_weight || !pos || !rows || ntok <= 0 || n_norm <= 0 || yarn.n_dims <= 0 || (yarn.n_dims & 1) ||
      yarn.n_dims / 2 > kThreads || ldkv < n_norm + yarn.n_dims || !(yarn.factor >= 1.0f))
    return cudaErrorInvalidValue;
  const MlaQRope& r = q_rope;
  if (r.q && (!r.out || r.heads <= 0 || r.q_offset < 0 || r.q_offset + yarn.n_dims > r.q_stride || r.out_offset < 0 ||
              r.out_offset + yarn.n_dims > r.out_stride))
    return cudaErrorInvalidValue;
  const int q_blocks = r.q ? (r.heads * yarn.n_dims / 2 + kThreads - 1) / kThreads : 0;
  const MlaQRopeArgs qa{r.q, r.out, r.heads, r.q_stride, r.q_offset, r.out_stride, r.out_offset};
  return LaunchOverlapped(MlaKvAppendKernel, dim3(1 + q_blocks, ntok), dim3(kThreads), stream, 0, kv, ldkv,
                          norm_weight, eps, n_norm, pos, MakeRope(yarn), rows, qa);
}

cudaError_t SiluMul(const float* gate, const float* up, float* out, long long n, cudaStream_t stream) {
  if (n <= 0) return cudaErrorInvalidValue;
  const long long blocks = (n + 255) / 256;
  return LaunchOverlapped(SiluMulKernel, dim3(static_cast<unsigned>(blocks < 4096 ? blocks : 4096)), dim3(256), stream, 0,
                          gate, up, out, n);
}

cudaError_t Add(const float* a, const float* b, float* y, long long n, cudaStream_t stream) {
  if (n <= 0) return cudaErrorInvalidValue;
  const long long blocks = (n + 255) / 256;
  return LaunchOverlapped(AddKernel, dim3(static_cast<unsigned>(blocks < 4096 ? blocks : 4096)), dim3(256), stream, 0, a,
                          b, y, n);
}

cudaError_t Argmax(const float* logits, int ntok, int n, int* index, float* value, cudaStream_t stream) {
  if (ntok <= 0 || n <= 0) return cudaErrorInvalidValue;
  return LaunchOverlapped(ArgmaxKernel, dim3(ntok), dim3(1024), stream, 0, logits, n, index, value);
}

cudaError_t Route(const float* logits, const float* bias, int ntok, const Router& r, int* ids,
                  float* weights, cudaStream_t stream) {
  const int groups = r.n_group < 1 ? 1 : r.n_group;
  if (ntok <= 0 || r.n_expert <= 0 || r.n_expert > kMaxExperts || r.top_k <= 0 || r.top_k > 32 ||
      r.top_k > r.n_expert || groups > 32 || r.n_expert % groups ||
      (groups > 1 && (r.n_group_used < 1 || r.n_group_used > groups ||
                      r.n_group_used * (r.n_expert / groups) < r.top_k)))
    return cudaErrorInvalidValue;
  RouterParams p{r.n_expert, r.top_k, groups, r.n_group_used, r.sigmoid ? 1 : 0, r.norm ? 1 : 0, r.scale};
  // Experts per lane: the smallest power of two that holds them all.
  auto kernel = r.n_expert <= 32    ? RouterKernel<1>
                : r.n_expert <= 64  ? RouterKernel<2>
                : r.n_expert <= 128 ? RouterKernel<4>
                : r.n_expert <= 256 ? RouterKernel<8>
                : r.n_expert <= 512 ? RouterKernel<16>
                                    : RouterKernel<32>;
  return LaunchOverlapped(kernel, dim3(ntok), dim3(32), stream, 0, logits, bias, p, ids, weights);
}

}  // namespace kt_cuda

namespace kt_cuda {
namespace {

// Heads per block, cache rows per tile, stages, blocks per SM; measured on
// the H200 (bench/gpu/2026-11-22-h200-session3.md, KT_BENCH_MLA=all): V3's 128 heads
// take 64 per block at long contexts (each tile read from L2 twice instead
// of 8 times: 32k 111 -> 56 us); at 4k, 16 per block with two blocks per SM
// (17.9 vs 19.2 us). 16 heads: at long contexts the warp-specialised
// kernel (config 6, sm_90+; 32k: 16.8-17.7 vs 19.2-19.7 us with 64-row
// tiles, bench/gpu/2026-11-22-h200-session5.md), 64-row tiles before sm_90;
// 32-row tiles in 5 stages at short ones (more blocks: 4k 7.7 vs 8.1 us; the
// warp-specialised kernel is no faster there).
struct MlaConfig {
  int hb, bn, st, minb, kind;
};
// Which kernel a block shape runs.
enum MlaKind : int { kMlaLockstep = 0, kMlaWgmma = 1, kMlaWarpSpecialised = 2 };
constexpr MlaConfig kMlaConfigs[] = {{0, 0, 0, 0, kMlaLockstep},    {16, 64, 2, 1, kMlaLockstep},
                                     {16, 32, 5, 1, kMlaLockstep},   {64, 32, 3, 1, kMlaLockstep},
                                     {16, 32, 2, 2, kMlaLockstep},   {kWgHeads, kWgRows, kWgStages, 1, kMlaWgmma},
                                     {16, kMwsRows, kMwsStages, 1, kMlaWarpSpecialised}};
constexpr int kMlaConfigCount = sizeof(kMlaConfigs) / sizeof(kMlaConfigs[0]);
static_assert(kMlaConfigCount == kMlaDecodeConfigs, "kt_cuda.h lists the MLA block shapes");

#ifndef KT_CUDA_WGMMA_BUILT
#define KT_CUDA_WGMMA_BUILT 0  // built without sm_90a: the wgmma kernel is a trap
#endif
// The wgmma MLA kernel runs here: built for sm_90a, on a Hopper GPU.
bool MlaWgmmaRuns() { return KT_CUDA_WGMMA_BUILT && CcMajor() == 9; }

MlaConfig MlaPick(int heads, int kv_len, int config) {
  if (config > 0 && config < kMlaConfigCount) return kMlaConfigs[config];
  // 64 heads per block; from 4k rows on the pipelined wgmma kernel with
  // tensor-map copies (H200, 128 heads, session 7: 4k 15.2 vs 17.8 us
  // (config 4), 8k 18.8 vs 26.4, 32k 31.9 vs 56 (config 3); at 2k level
  // with config 4, at 1k 12.0 vs 10.7; mla_decode_wgmma.cuh).
  if (heads >= 64 && kv_len >= 4096 && MlaWgmmaRuns()) return kMlaConfigs[5];
  if (heads >= 64) return kv_len >= 8192 ? kMlaConfigs[3] : kMlaConfigs[4];
  if (kv_len >= 16384) return CcMajor() >= 9 ? kMlaConfigs[6] : kMlaConfigs[1];
  return kMlaConfigs[2];
}

int MlaSplits(int ntok, int heads, int kv_len, const MlaConfig& c) {
  const int tiles = (kv_len + c.bn - 1) / c.bn;
  const int blocks = ((heads + c.hb - 1) / c.hb) * ntok;
  // A block fills its share of an SM's shared memory (minb per SM): never
  // more blocks than fit at once, or a second wave doubles the time.
  int want = c.minb * SmCount() / blocks;
  if (want < 1) want = 1;
  if (want > tiles) want = tiles;
  int per = (tiles + want - 1) / want;
  if (c.kind == kMlaWarpSpecialised && per < 2) per = 2;  // the warp-specialised kernel's two groups each take a tile
  return (tiles + per - 1) / per;
}

// The MLA decode kernels share one signature: launch `kernel` over nsplit
// splits of rows-row cache tiles and head groups of hb, with `smem` bytes.
// (`extra`: arguments after the shared ones, for the kernels that take more.)
template <typename Kernel, typename... Extra>
cudaError_t LaunchMlaKernel(Kernel kernel, size_t smem, int rows, int hb, int threads, const float* q,
                            const unsigned short* cache, int ntok, int heads, int kv_len, float scale, float* part_o,
                            float* part_ml, int nsplit, cudaStream_t stream, Extra... extra) {
  const int tiles = (kv_len + rows - 1) / rows;
  const int per = (tiles + nsplit - 1) / nsplit;
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (e != cudaSuccess) return e;
  return LaunchOverlapped(kernel, dim3(nsplit, (heads + hb - 1) / hb, ntok), dim3(threads), stream, smem, q, cache,
                          ntok, heads, kv_len, per, scale * 1.4426950408889634f, part_o, part_ml, extra...);
}

// The cache as a tensor map for the wgmma kernel's copies: 576 x kv_len
// bf16, 64 x 64 boxes, 128-byte swizzle. The driver's encoder comes through
// the runtime (no libcuda link).
cudaError_t CacheTensorMap(const unsigned short* cache, int kv_len, WgTensorMap* map) {
  static_assert(sizeof(CUtensorMap) == sizeof(WgTensorMap), "a tensor map is 128 bytes");
  static const PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
      p = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  if (!encode) return cudaErrorNotSupported;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(kMlaDk), static_cast<cuuint64_t>(kv_len)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(kMlaDk) * 2};
  const cuuint32_t box[2] = {64, kWgRows};
  const cuuint32_t elem[2] = {1, 1};
  const CUresult r = encode(reinterpret_cast<CUtensorMap*>(map), CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2,
                            const_cast<unsigned short*>(cache), dims, strides, box, elem, CU_TENSOR_MAP_INTERLEAVE_NONE,
                            CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

template <int HB, int BN, int ST, int MINB = 1>
cudaError_t LaunchMla(const float* q, const unsigned short* cache, int ntok, int heads, int kv_len, float scale,
                      float* part_o, float* part_ml, int nsplit, cudaStream_t stream) {
  return LaunchMlaKernel(MlaDecodeKernel<HB, BN, ST, MINB>, sizeof(MlaSmem<HB, BN, ST>), BN, HB, kMlaThreads, q, cache,
                         ntok, heads, kv_len, scale, part_o, part_ml, nsplit, stream);
}

}  // namespace

bool MlaDecodeConfigRuns(int config) {
  if (config < 0 || config >= kMlaConfigCount) return false;
  if (kMlaConfigs[config].kind == kMlaWgmma) return MlaWgmmaRuns();
  if (kMlaConfigs[config].kind == kMlaWarpSpecialised) return CcMajor() >= 9;
  return true;
}

size_t MlaDecodeWorkspaceBytes(int ntok, int heads, int kv_len) {
  if (ntok <= 0 || heads <= 0 || kv_len <= 0) return 0;
  size_t ns = 0;  // enough for every configuration
  for (int i = 1; i < kMlaConfigCount; ++i) ns = std::max<size_t>(ns, MlaSplits(ntok, heads, kv_len, kMlaConfigs[i]));
  return static_cast<size_t>(ntok) * heads * ns * (kMlaDv + 2) * sizeof(float);
}

cudaError_t MlaDecode(const float* q, const unsigned short* cache, int ntok, int heads, int kv_len,
                      float scale, float* out, void* workspace, cudaStream_t stream, int config) {
  if (ntok <= 0 || heads <= 0 || kv_len < ntok || !q || !cache || !out || !workspace || config < 0 ||
      config >= kMlaConfigCount || (reinterpret_cast<size_t>(cache) & 15))
    return cudaErrorInvalidValue;
  const MlaConfig c = MlaPick(heads, kv_len, config);
  if (c.kind == kMlaWgmma && !MlaWgmmaRuns()) return cudaErrorNotSupported;  // wgmma: Hopper (sm_90a) only
  if (c.kind == kMlaWarpSpecialised && CcMajor() < 9) return cudaErrorNotSupported;  // bulk copies, mbarriers: sm_90+
  const int nsplit = MlaSplits(ntok, heads, kv_len, c);
  float* part_o = static_cast<float*>(workspace);
  float* part_ml = part_o + static_cast<size_t>(ntok) * heads * nsplit * kMlaDv;
  cudaError_t e;
  if (c.kind == kMlaWarpSpecialised)
    e = LaunchMlaKernel(MlaDecodeWsKernel, sizeof(MlaWsSmem), kMwsRows, 16, kMwsThreads, q, cache, ntok, heads, kv_len,
                        scale, part_o, part_ml, nsplit, stream);
  else if (c.kind == kMlaWgmma) {
    WgTensorMap map;
    e = CacheTensorMap(cache, kv_len, &map);
    if (e != cudaSuccess) return e;
    e = LaunchMlaKernel(MlaDecodeWgmmaKernel, sizeof(MlaWgSmem), kWgRows, kWgHeads, 256, q, cache, ntok, heads, kv_len,
                        scale, part_o, part_ml, nsplit, stream, map);
  }
  else if (c.hb == 64)
    e = LaunchMla<64, 32, 3>(q, cache, ntok, heads, kv_len, scale, part_o, part_ml, nsplit, stream);
  else if (c.minb == 2)
    e = LaunchMla<16, 32, 2, 2>(q, cache, ntok, heads, kv_len, scale, part_o, part_ml, nsplit, stream);
  else if (c.bn == 64)
    e = LaunchMla<16, 64, 2>(q, cache, ntok, heads, kv_len, scale, part_o, part_ml, nsplit, stream);
  else
    e = LaunchMla<16, 32, 5>(q, cache, ntok, heads, kv_len, scale, part_o, part_ml, nsplit, stream);
  if (e != cudaSuccess) return e;
  // Few heads: 64 columns per block, so more blocks are in flight (16 heads:
  // 0.2-0.4 us faster on the H200); 128 heads keep 128 (about 1 us slower with 64).
  if (heads <= 32)
    return LaunchOverlapped(MlaCombineKernel<2>, dim3(heads, ntok, kMlaDv / 64), dim3(kMlaCombineThreads), stream, 0,
                            static_cast<const float*>(part_o), static_cast<const float*>(part_ml), heads, nsplit, out);
  return LaunchOverlapped(MlaCombineKernel<4>, dim3(heads, ntok, kMlaDv / 128), dim3(kMlaCombineThreads), stream, 0,
                          static_cast<const float*>(part_o), static_cast<const float*>(part_ml), heads, nsplit, out);
}

}  // namespace kt_cuda

namespace kt_cuda {

cudaError_t MlaPrefill(const unsigned short* q, const unsigned short* k_nope, const unsigned short* k_pe,
                       const unsigned short* v, int T, int S, int H, float scale, float* out, cudaStream_t stream) {
  if (T <= 0 || H <= 0 || S < T) return cudaErrorInvalidValue;
  const int smem = static_cast<int>(sizeof(MlaPrefillSmem));
  cudaError_t e = cudaFuncSetAttribute(MlaPrefillKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  MlaPrefillKernel<<<dim3((T + kPfBQ - 1) / kPfBQ, H), kPfThreads, smem, stream>>>(
      q, k_nope, k_pe, v, T, S, H, scale * 1.4426950408889634f, out);
  return cudaGetLastError();
}

}  // namespace kt_cuda
