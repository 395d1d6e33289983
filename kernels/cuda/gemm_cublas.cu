#include "kernels/cuda/gemm_cublas.h"

#include "kernels/cuda/gemm_prefill.h"
#include "kernels/cuda/kt_cuda.h"

namespace kt_cuda {

namespace {
size_t Align16(size_t b) { return (b + 15) & ~static_cast<size_t>(15); }
}  // namespace

size_t GemmCublasScratchBytes(int k, int m, int min_rows) {
  if (k <= 0 || m <= 0 || min_rows <= 0) return 0;
  return Align16(2ull * k * m) + 2ull * k * min_rows;
}

cudaError_t GemmCublas(cublasHandle_t h, int type, const void* w, long long row_bytes, int k, int n, const float* x,
                       int m, float* y, void* scratch, size_t scratch_bytes, cudaStream_t s) {
  if (!h || !GemmSupports(type) || k <= 0 || n <= 0 || m <= 0 || k % 64 || !scratch ||
      (reinterpret_cast<size_t>(scratch) & 15) || scratch_bytes < GemmCublasScratchBytes(k, m, 64))
    return cudaErrorInvalidValue;
  unsigned short* xb = static_cast<unsigned short*>(scratch);
  unsigned short* wb = reinterpret_cast<unsigned short*>(static_cast<char*>(scratch) + Align16(2ull * k * m));
  const long long rows = static_cast<long long>((scratch_bytes - Align16(2ull * k * m)) / (2ull * k));
  const int chunk = static_cast<int>(rows < n ? rows : n);
  cudaError_t e = F32ToBf16(x, xb, static_cast<long long>(m) * k, s);
  if (e != cudaSuccess) return e;
  if (cublasSetStream(h, s) != CUBLAS_STATUS_SUCCESS) return cudaErrorUnknown;
  const float one = 1.0f, zero = 0.0f;
  for (int n0 = 0; n0 < n; n0 += chunk) {
    const int nc = n - n0 < chunk ? n - n0 : chunk;
    e = DequantizeBf16(type, static_cast<const char*>(w) + n0 * row_bytes, row_bytes, k, nc, wb, s);
    if (e != cudaSuccess) return e;
    // Column-major view: y is n x m (ld n), W chunk is k x nc (ld k), x is k x m (ld k).
    if (cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, nc, m, k, &one, wb, CUDA_R_16BF, k, xb, CUDA_R_16BF, k, &zero,
                     y + n0, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS)
      return cudaErrorUnknown;
  }
  return cudaSuccess;
}

}  // namespace kt_cuda
