// Prefill GEMM entry point (tensor cores, GGUF weights dequantised in tiles).
#pragma once

#include <cuda_runtime.h>

namespace kt_cuda {

bool GemmSupports(int type);
// y[m][n] = sum_k x[m][k] W[n][k] for m < M tokens. x is f32 [M][K]; it is
// rounded to bf16 into `x_bf16` (M*K elements of scratch) first.
cudaError_t Gemm(int type, const void* w, long long row_bytes, int k, int n, const float* x, int m, float* y,
                 unsigned short* x_bf16, cudaStream_t stream);

// W (GGUF rows) -> bf16 out[n][k]; K % 64 == 0 (K % 256 for K types).
cudaError_t DequantizeBf16(int type, const void* w, long long row_bytes, int k, int n, unsigned short* out,
                           cudaStream_t stream);
// x (f32, n values) -> bf16, round to nearest even.
cudaError_t F32ToBf16(const float* x, unsigned short* y, long long n, cudaStream_t stream);

}  // namespace kt_cuda
