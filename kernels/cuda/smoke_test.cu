// Build smoke test: one kernel compiled by the normal CMake build. On a machine
// with a GPU it runs and checks the result; without one it exits 77 so that
// ctest reports SKIPPED instead of a pass that proves nothing.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

__global__ void Saxpy(int n, float a, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

bool Ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "kt_cuda_smoke_test: %s failed: %s\n", what, cudaGetErrorString(e));
  return false;
}

}  // namespace

int main() {
  int devices = 0;
  cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no usable CUDA device (%s)\n",
                e == cudaSuccess ? "device count 0" : cudaGetErrorString(e));
    return 77;
  }
  const int n = 1000003;  // odd size: the tail block must be handled
  std::vector<float> x(n), y(n), out(n);
  uint32_t s = 12345;
  for (int i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = static_cast<float>(s >> 8) / 16777216.0f - 0.5f;
    y[i] = static_cast<float>(i % 97) * 0.25f;
  }
  float *dx = nullptr, *dy = nullptr;
  if (!Ok(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc x")) return 1;
  if (!Ok(cudaMalloc(&dy, n * sizeof(float)), "cudaMalloc y")) return 1;
  if (!Ok(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "copy x")) return 1;
  if (!Ok(cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice), "copy y")) return 1;
  Saxpy<<<(n + 255) / 256, 256>>>(n, 3.0f, dx, dy);
  if (!Ok(cudaGetLastError(), "launch")) return 1;
  if (!Ok(cudaDeviceSynchronize(), "synchronize")) return 1;
  if (!Ok(cudaMemcpy(out.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost), "copy back")) return 1;
  cudaFree(dx);
  cudaFree(dy);
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    float want = 3.0f * x[i] + y[i];
    if (!(std::fabs(out[i] - want) <= 1e-6f * (1.0f + std::fabs(want)))) ++bad;
  }
  std::printf("%s: %d of %d elements wrong\n", bad ? "FAILED" : "PASSED", bad, n);
  return bad ? 1 : 0;
}
