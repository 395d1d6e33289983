#include "kernels/cuda/dequant.cuh"
#include "kernels/cuda/gemm_prefill.cuh"
#include "kernels/cuda/gemm_prefill.h"
#include "kernels/cuda/kt_cuda.h"
#include "kernels/cuda/launch.h"

namespace kt_cuda {

bool GemmSupports(int type) {
  return type == kQ4_K || type == kQ5_K || type == kQ6_K || type == kQ8_0 || type == kBF16 || type == kF16;
}

namespace {
template <int kType>
cudaError_t LaunchGemm(const void* w, long long row_bytes, int k, int n, const u16* xb, int m, float* y,
                       cudaStream_t s) {
  const int smem = static_cast<int>(sizeof(GemmSmem));
  cudaError_t e = cudaFuncSetAttribute(GemmKernel<kType>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  if (e != cudaSuccess) return e;
  dim3 grid((n + kGemmBN - 1) / kGemmBN, (m + kGemmBM - 1) / kGemmBM);
  GemmKernel<kType><<<grid, kGemmThreads, smem, s>>>(static_cast<const u8*>(w), row_bytes, k, n, xb, m, y);
  return cudaGetLastError();
}
}  // namespace

cudaError_t Gemm(int type, const void* w, long long row_bytes, int k, int n, const float* x, int m, float* y,
                 unsigned short* x_bf16, cudaStream_t s) {
  if (!GemmSupports(type) || k <= 0 || n <= 0 || m <= 0 || k % kGemmBK || row_bytes < RowBytes(type, k) ||
      ((type != kQ8_0 && type != kQ6_K) && ((row_bytes & 15) || (reinterpret_cast<size_t>(w) & 15))))
    return cudaErrorInvalidValue;
  const long long total = static_cast<long long>(m) * k;
  F32ToBf16Kernel<<<static_cast<int>(total / 256 + 1 < 8192 ? total / 256 + 1 : 8192), 256, 0, s>>>(x, x_bf16, total);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  switch (type) {
    case kQ4_K: return LaunchGemm<kQ4_K>(w, row_bytes, k, n, x_bf16, m, y, s);
    case kQ5_K: return LaunchGemm<kQ5_K>(w, row_bytes, k, n, x_bf16, m, y, s);
    case kQ6_K: return LaunchGemm<kQ6_K>(w, row_bytes, k, n, x_bf16, m, y, s);
    case kQ8_0: return LaunchGemm<kQ8_0>(w, row_bytes, k, n, x_bf16, m, y, s);
    case kBF16: return LaunchGemm<kBF16>(w, row_bytes, k, n, x_bf16, m, y, s);
    case kF16: return LaunchGemm<kF16>(w, row_bytes, k, n, x_bf16, m, y, s);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t F32ToBf16(const float* x, unsigned short* y, long long n, cudaStream_t s) {
  if (n <= 0) return cudaErrorInvalidValue;
  return LaunchOverlapped(F32ToBf16Kernel, dim3(static_cast<unsigned>(n / 256 + 1 < 8192 ? n / 256 + 1 : 8192)),
                          dim3(256), s, 0, x, y, n);
}

namespace {
template <int kType>
cudaError_t LaunchDequant(const void* w, long long row_bytes, int k, int n, u16* out, cudaStream_t s) {
  const long long threads = static_cast<long long>(n) * (k / 64);
  DequantBf16Kernel<kType><<<static_cast<unsigned>((threads + 255) / 256), 256, 0, s>>>(static_cast<const u8*>(w),
                                                                                       row_bytes, k, n, out);
  return cudaGetLastError();
}
}  // namespace

cudaError_t DequantizeBf16(int type, const void* w, long long row_bytes, int k, int n, unsigned short* out,
                           cudaStream_t s) {
  if (!GemmSupports(type) || k <= 0 || n <= 0 || k % 64 || RowBytes(type, k) == 0 || row_bytes < RowBytes(type, k) ||
      (reinterpret_cast<size_t>(out) & 15) ||
      ((type != kQ8_0 && type != kQ6_K) && ((row_bytes & 15) || (reinterpret_cast<size_t>(w) & 15))))
    return cudaErrorInvalidValue;
  switch (type) {
    case kQ4_K: return LaunchDequant<kQ4_K>(w, row_bytes, k, n, out, s);
    case kQ5_K: return LaunchDequant<kQ5_K>(w, row_bytes, k, n, out, s);
    case kQ6_K: return LaunchDequant<kQ6_K>(w, row_bytes, k, n, out, s);
    case kQ8_0: return LaunchDequant<kQ8_0>(w, row_bytes, k, n, out, s);
    case kBF16: return LaunchDequant<kBF16>(w, row_bytes, k, n, out, s);
    case kF16: return LaunchDequant<kF16>(w, row_bytes, k, n, out, s);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace kt_cuda
