// Prefill GEMM through cuBLAS on a transient bf16 copy of the weights.
//
// At prefill sizes (hundreds to thousands of tokens) a GEMM is compute-bound:
// turning the quantised matrix into bf16 once costs one pass over it (~2.6
// bytes per weight of traffic), after which cuBLAS runs at its full tensor-
// core rate. The fused kernel (gemm_prefill.h) decodes every weight tile once
// per 128 token rows instead and, on mma.sync, reaches ~30% of cuBLAS; this
// path reaches most of cuBLAS for m >= 256. The price is scratch memory:
// 2 * k * rows bytes for `rows` weight rows at a time (the matrix is done in
// row chunks that fit the scratch).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

namespace kt_cuda {

// Bytes of scratch for bf16 x (m * k) plus at least one chunk of `min_rows`
// weight rows; more scratch means fewer, larger cuBLAS calls.
size_t GemmCublasScratchBytes(int k, int m, int min_rows);

// y[m][n] = sum_k x[m][k] W[n][k]; x f32 [m][k], y f32 [m][n]; W GGUF rows of
// any type GemmSupports() accepts. `scratch` (16-byte aligned) holds
// `scratch_bytes` >= GemmCublasScratchBytes(k, m, 64). cuBLAS failures are
// returned as cudaErrorUnknown; the handle's stream is set to `stream`.
cudaError_t GemmCublas(cublasHandle_t handle, int type, const void* w, long long row_bytes, int k, int n,
                       const float* x, int m, float* y, void* scratch, size_t scratch_bytes, cudaStream_t stream);

}  // namespace kt_cuda
