// Shared device helpers for kt's CUDA kernels. Self-contained on purpose: the
// same text is compiled by nvcc (tests, benchmarks) and by NVRTC at model
// compile time, where no CUDA headers are on the include path.
#pragma once

#ifndef KT_CUDA_FORCEINLINE
#define KT_CUDA_FORCEINLINE __device__ __forceinline__
#endif

namespace kt_cuda {

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef signed char i8;

// ggml type ids (FORMATS.md); used as template parameters.
enum WeightType : int {
  kF32 = 0, kF16 = 1, kQ8_0 = 8, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kBF16 = 30
};

// math.h's INFINITY is not available under NVRTC.
#define KT_CUDA_INF __int_as_float(0x7f800000)

KT_CUDA_FORCEINLINE float HalfToFloat(u16 h) {
  float f;
  asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
  return f;
}
KT_CUDA_FORCEINLINE float Bf16ToFloat(u16 h) { return __uint_as_float(static_cast<u32>(h) << 16); }
KT_CUDA_FORCEINLINE u16 FloatToBf16(float f) {  // round to nearest even (one instruction on sm_80+)
  u16 h;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

// Byte i of `w` as an exact float, without I2F (a quarter-rate instruction):
// 0x4B0000bb is the float 2^23 + bb.
KT_CUDA_FORCEINLINE float ByteToFloat(u32 w, int i, float bias) {
  return __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7540 | i)) - bias;
}

// Programmatic dependent launch (sm_90+; no-ops before): wait until the grid
// this one depends on has finished and its writes are visible / let the
// grid that depends on this one be scheduled now.
KT_CUDA_FORCEINLINE void GridDependencyWait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
KT_CUDA_FORCEINLINE void GridDependentsLaunch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Starts pulling [p, p + bytes) into L2, one 128-byte line per thread per
// step: a kernel's weights before griddepcontrol.wait (the weights are not
// written by the kernel it waits for), so that its loads after the wait hit
// L2 instead of waiting ~1 us for DRAM on the decode step's critical path.
KT_CUDA_FORCEINLINE void PrefetchL2(const void* p, long long bytes) {
  const char* c = static_cast<const char*>(p);
  for (long long o = 128LL * threadIdx.x; o < bytes; o += 128LL * blockDim.x)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(c + o));
}

KT_CUDA_FORCEINLINE float WarpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
KT_CUDA_FORCEINLINE float WarpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over a whole block; `scratch` holds >= 32 floats. All threads get it.
KT_CUDA_FORCEINLINE float BlockSum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = (blockDim.x + 31) >> 5;
  v = WarpSum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nwarps ? scratch[lane] : 0.0f;
  return WarpSum(v);
}
KT_CUDA_FORCEINLINE float BlockMax(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = (blockDim.x + 31) >> 5;
  v = WarpMax(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nwarps ? scratch[lane] : -3.402823466e38f;
  return WarpMax(v);
}

}  // namespace kt_cuda
