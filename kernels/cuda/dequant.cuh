// Whole-matrix dequantisation of GGUF rows to bf16, for the prefill path
// that hands a transient bf16 copy of one weight matrix to cuBLAS (see
// gemm_cublas.h). One thread decodes 64 consecutive values of one row with
// the same 64-value decoders the fused prefill GEMM uses, and writes them as
// eight 16-byte stores.
#pragma once

#include "kernels/cuda/gemm_prefill.cuh"

namespace kt_cuda {

// out[r][k] (row stride K) for rows r < rows of w (row stride row_bytes).
// Requires K % 64 == 0 and the decoder's alignment (gemm_prefill.cuh).
template <int kType>
__global__ void __launch_bounds__(256) DequantBf16Kernel(const u8* __restrict__ w, long long row_bytes, int K,
                                                         int rows, u16* __restrict__ out) {
  typedef Tile64<kType> T;
  const long long per_row = K / 64;
  const long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (i >= per_row * rows) return;
  const int r = static_cast<int>(i / per_row), k0 = static_cast<int>(i % per_row) * 64;
  typename T::Raw raw;
  T::Load(w + r * row_bytes, k0, raw);
  float v[64];
  T::Decode(raw, k0, v);
  uint4* dst = reinterpret_cast<uint4*>(out + static_cast<long long>(r) * K + k0);
#pragma unroll
  for (int j = 0; j < 8; ++j)
    dst[j] = make_uint4(PackBf16(v[8 * j], v[8 * j + 1]), PackBf16(v[8 * j + 2], v[8 * j + 3]),
                        PackBf16(v[8 * j + 4], v[8 * j + 5]), PackBf16(v[8 * j + 6], v[8 * j + 7]));
}

}  // namespace kt_cuda
