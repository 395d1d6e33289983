// Prefill GEMM on tensor cores reading GGUF-quantised weights:
//   y[m][n] = sum_k x[m][k] W[n][k]   (x already bf16, y f32).
//
// Why dequantise-to-shared-memory rather than a Marlin-style repack: the
// weights stay in the GGUF block layout the decode GEMV reads, so one copy of
// each tensor serves both paths (VRAM holds the whole non-expert half of the
// model), and every K type needs only a 64-value decoder. The cost is decode
// work per tile, amortised over the 128 token rows of a block tile.
//
// Block tile 128 (m) x 128 (n) x 128 (k), 8 warps as 2 x 4, warp tile 64 x 32,
// mma.sync m16n8k16 bf16 -> f32 fed by ldmatrix. x tiles arrive by cp.async;
// the next W tile's raw bytes are loaded into registers before the current
// tile's MMAs and decoded into the other shared-memory stage after them.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/gemv_quant.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

constexpr int kGemmBM = 128, kGemmBN = 128, kGemmBK = 128, kGemmLd = kGemmBK + 8;
constexpr int kGemmThreads = 256;

struct GemmSmem {
  u16 x[2][kGemmBM][kGemmLd];
  u16 w[2][kGemmBN][kGemmLd];
};

// 64 consecutive values of one weight row starting at k0 (k0 % 64 == 0).
template <int kType> struct Tile64;

template <> struct Tile64<kQ4_K> {
  struct Raw { uint4 hdr, q0, q1; };
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int k0, Raw& r) {
    const u8* b = row + (k0 >> 8) * 144;
    const int j = (k0 & 255) >> 6;
    r.hdr = __ldg(reinterpret_cast<const uint4*>(b));
    r.q0 = __ldg(reinterpret_cast<const uint4*>(b + 16 + 32 * j));
    r.q1 = __ldg(reinterpret_cast<const uint4*>(b + 32 + 32 * j));
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int k0, float* v) {
    const int j = (k0 & 255) >> 6;
    const float d = HalfToFloat(r.hdr.x & 0xffff), dmin = HalfToFloat(r.hdr.x >> 16);
    float sc0, m0, sc1, m1;
    ScaleMinK4(2 * j, r.hdr.y, r.hdr.z, r.hdr.w, sc0, m0);
    ScaleMinK4(2 * j + 1, r.hdr.y, r.hdr.z, r.hdr.w, sc1, m1);
    const float a0 = d * sc0, b0 = dmin * m0, a1 = d * sc1, b1 = dmin * m1;
    const u32 q[8] = {r.q0.x, r.q0.y, r.q0.z, r.q0.w, r.q1.x, r.q1.y, r.q1.z, r.q1.w};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const u32 lo = q[i] & 0x0F0F0F0Fu, hi = (q[i] >> 4) & 0x0F0F0F0Fu;
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        v[4 * i + b] = ByteToFloat(lo, b, 8388608.0f) * a0 - b0;
        v[32 + 4 * i + b] = ByteToFloat(hi, b, 8388608.0f) * a1 - b1;
      }
    }
  }
};

// Generic: decode to f32, round pairs to bf16.
template <int kType>
KT_CUDA_FORCEINLINE void DecodeTile64Packed(const typename Tile64<kType>::Raw& raw, int k0, u32* out) {
  float v[64];
  Tile64<kType>::Decode(raw, k0, v);
#pragma unroll
  for (int i = 0; i < 32; ++i) out[i] = PackBf16(v[2 * i], v[2 * i + 1]);
}

// Q4_K straight to bf16x2: 0x43qq is exactly 128 + q; one bf16x2 FMA removes
// the 128 exactly, a second applies scale and min (both rounded to bf16 once:
// still inside the bf16-operand tolerance). Half the instructions of the f32 path.
template <>
KT_CUDA_FORCEINLINE void DecodeTile64Packed<kQ4_K>(const Tile64<kQ4_K>::Raw& r, int k0, u32* out) {
  const int j = (k0 & 255) >> 6;
  const float d = HalfToFloat(r.hdr.x & 0xffff), dmin = HalfToFloat(r.hdr.x >> 16);
  float sc0, m0, sc1, m1;
  ScaleMinK4(2 * j, r.hdr.y, r.hdr.z, r.hdr.w, sc0, m0);
  ScaleMinK4(2 * j + 1, r.hdr.y, r.hdr.z, r.hdr.w, sc1, m1);
  const u32 a0 = PackBf16(d * sc0, d * sc0), b0 = PackBf16(-dmin * m0, -dmin * m0);
  const u32 a1 = PackBf16(d * sc1, d * sc1), b1 = PackBf16(-dmin * m1, -dmin * m1);
  const u32 q[8] = {r.q0.x, r.q0.y, r.q0.z, r.q0.w, r.q1.x, r.q1.y, r.q1.z, r.q1.w};
  const u32 one = 0x3F803F80u, m128 = 0xC300C300u;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const u32 lo = q[i] & 0x0F0F0F0Fu, hi = (q[i] >> 4) & 0x0F0F0F0Fu;
    out[2 * i] = Bf16x2Fma(Bf16x2Fma(__byte_perm(lo, 0x43u, 0x4140), one, m128), a0, b0);
    out[2 * i + 1] = Bf16x2Fma(Bf16x2Fma(__byte_perm(lo, 0x43u, 0x4342), one, m128), a0, b0);
    out[16 + 2 * i] = Bf16x2Fma(Bf16x2Fma(__byte_perm(hi, 0x43u, 0x4140), one, m128), a1, b1);
    out[16 + 2 * i + 1] = Bf16x2Fma(Bf16x2Fma(__byte_perm(hi, 0x43u, 0x4342), one, m128), a1, b1);
  }
}

template <> struct Tile64<kQ5_K> {
  struct Raw { uint4 hdr, q0, q1, h0, h1; };
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int k0, Raw& r) {
    const u8* b = row + (k0 >> 8) * 176;
    const int j = (k0 & 255) >> 6;
    r.hdr = __ldg(reinterpret_cast<const uint4*>(b));
    r.h0 = __ldg(reinterpret_cast<const uint4*>(b + 16));
    r.h1 = __ldg(reinterpret_cast<const uint4*>(b + 32));
    r.q0 = __ldg(reinterpret_cast<const uint4*>(b + 48 + 32 * j));
    r.q1 = __ldg(reinterpret_cast<const uint4*>(b + 64 + 32 * j));
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int k0, float* v) {
    const int j = (k0 & 255) >> 6;
    const float d = HalfToFloat(r.hdr.x & 0xffff), dmin = HalfToFloat(r.hdr.x >> 16);
    float sc0, m0, sc1, m1;
    ScaleMinK4(2 * j, r.hdr.y, r.hdr.z, r.hdr.w, sc0, m0);
    ScaleMinK4(2 * j + 1, r.hdr.y, r.hdr.z, r.hdr.w, sc1, m1);
    const float a0 = d * sc0, b0 = dmin * m0, a1 = d * sc1, b1 = dmin * m1;
    const u32 q[8] = {r.q0.x, r.q0.y, r.q0.z, r.q0.w, r.q1.x, r.q1.y, r.q1.z, r.q1.w};
    const u32 h[8] = {r.h0.x, r.h0.y, r.h0.z, r.h0.w, r.h1.x, r.h1.y, r.h1.z, r.h1.w};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const u32 lo = (q[i] & 0x0F0F0F0Fu) | (((h[i] >> (2 * j)) & 0x01010101u) << 4);
      const u32 hi = ((q[i] >> 4) & 0x0F0F0F0Fu) | (((h[i] >> (2 * j + 1)) & 0x01010101u) << 4);
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        v[4 * i + b] = ByteToFloat(lo, b, 8388608.0f) * a0 - b0;
        v[32 + 4 * i + b] = ByteToFloat(hi, b, 8388608.0f) * a1 - b1;
      }
    }
  }
};

template <> struct Tile64<kQ6_K> {
  // Values 64*part .. +63 of half n: ql bytes 64n .. 64n+63 (low or high
  // nibbles), qh bytes 32n .. 32n+31, scales 8n + {0..3} + 4*part.
  struct Raw { u32 ql[16]; u32 qh[8]; float s[4]; };
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int k0, Raw& r) {
    const u8* b = row + (k0 >> 8) * 210;
    const int n = (k0 & 255) >> 7, part = (k0 & 127) >> 6;
#pragma unroll
    for (int i = 0; i < 16; ++i) r.ql[i] = LoadU32A2(b + 64 * n + 4 * i);
#pragma unroll
    for (int i = 0; i < 8; ++i) r.qh[i] = LoadU32A2(b + 128 + 32 * n + 4 * i);
    const float d = HalfToFloat(__ldg(reinterpret_cast<const u16*>(b + 208)));
#pragma unroll
    for (int i = 0; i < 4; ++i) r.s[i] = d * static_cast<float>(static_cast<i8>(__ldg(b + 192 + 8 * n + 4 * part + i)));
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int k0, float* v) {
    const int part = (k0 & 127) >> 6;
    const int nib = 4 * part, qsh = 4 * part;  // high nibbles and qh bits 4..7 for part 1
#pragma unroll
    for (int i = 0; i < 16; ++i) {  // value l = 4i + b (0..63); l < 32 uses qh bits +0, else +2
      const u32 qh = r.qh[i & 7] >> (qsh + (i >= 8 ? 2 : 0));
      const u32 q = ((r.ql[i] >> nib) & 0x0F0F0F0Fu) | ((qh & 0x03030303u) << 4);
      const float s = r.s[(i >= 8 ? 2 : 0) + ((i & 7) >= 4 ? 1 : 0)];
#pragma unroll
      for (int b = 0; b < 4; ++b) v[4 * i + b] = ByteToFloat(q, b, 8388640.0f) * s;
    }
  }
};

template <> struct Tile64<kQ8_0> {
  struct Raw { u32 q[16]; float d[2]; };
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int k0, Raw& r) {
#pragma unroll
    for (int blk = 0; blk < 2; ++blk) {
      const u8* b = row + ((k0 >> 5) + blk) * 34;
      r.d[blk] = HalfToFloat(__ldg(reinterpret_cast<const u16*>(b)));
#pragma unroll
      for (int i = 0; i < 8; ++i) r.q[8 * blk + i] = LoadU32A2(b + 2 + 4 * i) ^ 0x80808080u;
    }
  }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int, float* v) {
#pragma unroll
    for (int i = 0; i < 16; ++i)
#pragma unroll
      for (int b = 0; b < 4; ++b) v[4 * i + b] = ByteToFloat(r.q[i], b, 8388736.0f) * r.d[i >> 3];
  }
};

template <int kT> struct Tile64Half {
  struct Raw { uint4 q[8]; };
  static KT_CUDA_FORCEINLINE void Load(const u8* row, int k0, Raw& r) {
#pragma unroll
    for (int i = 0; i < 8; ++i) r.q[i] = __ldg(reinterpret_cast<const uint4*>(row + 2 * k0) + i);
  }
  static KT_CUDA_FORCEINLINE float One(u32 h) { return kT == kBF16 ? Bf16ToFloat(h) : HalfToFloat(h); }
  static KT_CUDA_FORCEINLINE void Decode(const Raw& r, int, float* v) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const u32 w[4] = {r.q[i].x, r.q[i].y, r.q[i].z, r.q[i].w};
#pragma unroll
      for (int j = 0; j < 4; ++j) { v[8 * i + 2 * j] = One(w[j] & 0xffff); v[8 * i + 2 * j + 1] = One(w[j] >> 16); }
    }
  }
};
template <> struct Tile64<kBF16> : Tile64Half<kBF16> {};
template <> struct Tile64<kF16> : Tile64Half<kF16> {};

// Requires K % 128 == 0, rows 16-byte aligned for K types and 16-bit floats.
template <int kType>
__global__ void __launch_bounds__(kGemmThreads, 1)
    GemmKernel(const u8* __restrict__ w, long long row_bytes, int K, int N, const u16* __restrict__ xb, int M,
               float* __restrict__ y) {
  typedef Tile64<kType> T;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  GemmSmem& sm = *reinterpret_cast<GemmSmem*>(smem_raw);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int n0 = blockIdx.x * kGemmBN, m0 = blockIdx.y * kGemmBM;
  const int wm = warp >> 2, wn = warp & 3;  // warp tile rows 64*wm, cols 32*wn
  const int ktiles = K / kGemmBK;
  // W decode assignment: row tid/2, values 64*(tid&1) .. +63 of the k tile.
  const int wr = tid >> 1, wh = tid & 1;
  const u8* wrow = w + static_cast<long long>(min(n0 + wr, N - 1)) * row_bytes;

  auto load_x = [&](int kt, int st) {
    for (int i = tid; i < kGemmBM * (kGemmBK / 8); i += kGemmThreads) {
      const int r = i / (kGemmBK / 8), c = (i % (kGemmBK / 8)) * 8;
      const bool ok = m0 + r < M;
      CpAsync16(&sm.x[st][r][c], xb + static_cast<long long>(ok ? m0 + r : 0) * K + kt * kGemmBK + c, ok ? 16 : 0);
    }
    CpAsyncCommit();
  };
  auto store_w = [&](const typename T::Raw& raw, int kt, int st) {
    u32 v[32];
    DecodeTile64Packed<kType>(raw, kt * kGemmBK + 64 * wh, v);
    uint4* dst = reinterpret_cast<uint4*>(&sm.w[st][wr][64 * wh]);
#pragma unroll
    for (int i = 0; i < 8; ++i) dst[i] = make_uint4(v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]);
  };

  float acc[4][4][4];
#pragma unroll
  for (int a = 0; a < 4; ++a)
#pragma unroll
    for (int b = 0; b < 4; ++b) acc[a][b][0] = acc[a][b][1] = acc[a][b][2] = acc[a][b][3] = 0.0f;

  typename T::Raw raw;
  load_x(0, 0);
  T::Load(wrow, 64 * wh, raw);
  store_w(raw, 0, 0);
  CpAsyncWait<0>();
  __syncthreads();

  for (int kt = 0; kt < ktiles; ++kt) {
    const int st = kt & 1;
    const bool more = kt + 1 < ktiles;
    if (more) {
      load_x(kt + 1, st ^ 1);
      T::Load(wrow, (kt + 1) * kGemmBK + 64 * wh, raw);
    }
#pragma unroll
    for (int kk = 0; kk < kGemmBK / 16; ++kk) {
      u32 a[4][4], b[4][2];
#pragma unroll
      for (int im = 0; im < 4; ++im) {
        const int r = 64 * wm + 16 * im + (lane & 7) + ((lane >> 3) & 1) * 8;
        LdMatrixX4(a[im], &sm.x[st][r][16 * kk + (lane >> 4) * 8]);
      }
#pragma unroll
      for (int jp = 0; jp < 2; ++jp) {
        const int r = 32 * wn + 16 * jp + (lane & 7) + (lane >> 4) * 8;
        u32 t[4];
        LdMatrixX4(t, &sm.w[st][r][16 * kk + ((lane >> 3) & 1) * 8]);
        b[2 * jp][0] = t[0]; b[2 * jp][1] = t[1]; b[2 * jp + 1][0] = t[2]; b[2 * jp + 1][1] = t[3];
      }
#pragma unroll
      for (int im = 0; im < 4; ++im)
#pragma unroll
        for (int jn = 0; jn < 4; ++jn) MmaBf16(acc[im][jn], a[im], b[jn][0], b[jn][1]);
    }
    if (more) store_w(raw, kt + 1, st ^ 1);
    CpAsyncWait<0>();
    __syncthreads();
  }
  const int g = lane >> 2, t4 = lane & 3;
#pragma unroll
  for (int im = 0; im < 4; ++im)
#pragma unroll
    for (int jn = 0; jn < 4; ++jn) {
      const int n = n0 + 32 * wn + 8 * jn + 2 * t4;
#pragma unroll
      for (int hh = 0; hh < 2; ++hh) {
        const int m = m0 + 64 * wm + 16 * im + g + 8 * hh;
        if (m >= M) continue;
        float* dst = y + static_cast<long long>(m) * N + n;
        if (n + 1 < N && !(N & 1)) {
          *reinterpret_cast<float2*>(dst) = make_float2(acc[im][jn][2 * hh], acc[im][jn][2 * hh + 1]);
        } else {
          if (n < N) dst[0] = acc[im][jn][2 * hh];
          if (n + 1 < N) dst[1] = acc[im][jn][2 * hh + 1];
        }
      }
    }
}

__global__ void F32ToBf16Kernel(const float* __restrict__ x, u16* __restrict__ y, long long n) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    y[i] = FloatToBf16(x[i]);
}

}  // namespace kt_cuda
