// Prefill GEMM entry point (tensor cores, GGUF weights dequantised in tiles).
#pragma once

#include <cuda_runtime.h>

namespace kt_cuda {

bool GemmSupports(int type);
// y[m][n] = sum_k x[m][k] W[n][k] for m < M tokens. x is f32 [M][K]; it is
// rounded to bf16 into `x_bf16` (M*K elements of scratch) first.
cudaError_t Gemm(int type, const void* w, long long row_bytes, int k, int n, const float* x, int m, float* y,
                 unsigned short* x_bf16, cudaStream_t stream);

}  // namespace kt_cuda
