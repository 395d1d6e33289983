// Phase timestamps for kernel timelines (kernels/cuda/mla_timeline.cu).
// Compiled out unless KT_CUDA_TRACE is defined: then KT_TRACE(event, thread)
// records the global timer (ns) when thread `thread` of a block passes it,
// per block (blockIdx.x + gridDim.x * blockIdx.y), and KT_TRACE_COMBINE
// does the same for thread 0 of each block of the MLA merge (one token).
#pragma once

#ifdef KT_CUDA_TRACE
namespace kt_cuda {
constexpr int kTraceBlocks = 1024, kTraceEvents = 8, kTraceCombineEvents = 3;
__device__ unsigned long long g_trace[kTraceBlocks][kTraceEvents];
__device__ unsigned long long g_trace_combine[kTraceBlocks][kTraceCombineEvents];
__device__ __forceinline__ unsigned long long TraceNow() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
}  // namespace kt_cuda
#define KT_TRACE(event, thread)                                                                  \
  do {                                                                                           \
    const unsigned b_ = blockIdx.x + gridDim.x * blockIdx.y;                                     \
    if (threadIdx.x == (thread) && b_ < kt_cuda::kTraceBlocks)                                   \
      kt_cuda::g_trace[b_][event] = kt_cuda::TraceNow();                                         \
  } while (0)
#define KT_TRACE_COMBINE(event)                                                                  \
  do {                                                                                           \
    const unsigned b_ = blockIdx.x + gridDim.x * blockIdx.z;                                     \
    if (threadIdx.x == 0 && b_ < kt_cuda::kTraceBlocks)                                          \
      kt_cuda::g_trace_combine[b_][event] = kt_cuda::TraceNow();                                 \
  } while (0)
#else
#define KT_TRACE(event, thread) \
  do {                          \
  } while (0)
#define KT_TRACE_COMBINE(event) \
  do {                          \
  } while (0)
#endif
