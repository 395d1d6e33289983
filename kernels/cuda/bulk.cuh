// Bulk asynchronous copies global -> shared (sm_90's copy engine, TMA
// without a tensor map) completed through a shared-memory mbarrier.
//
// Why: one bulk copy moves a whole 1152-byte cache row with one instruction
// and is tracked by bytes, where 16-byte cp.async takes 72 per row, spread
// over every thread. (MLA decode measured the same speed either way on the
// H200; the stream probe in gpu_test.cu reaches the copy ceiling with it.)
//
// Protocol for a stage: one thread calls MbarExpectTx(bar, bytes) for the
// bytes the stage will receive, then copies are issued with BulkG2S (any
// threads, after that call in program order or synchronised with it);
// consumers call MbarWait(bar, parity) with parity = (uses of this stage so
// far) & 1. Before sm_90 none of this exists; callers keep a cp.async path.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define KT_CUDA_HAS_BULK 1
#else
#define KT_CUDA_HAS_BULK 0
#endif

// `bar` is an 8-byte aligned shared u64. Count 1: a phase completes when its
// one MbarExpectTx arrival has happened and all expected bytes have landed.
// Call from one thread, then make it visible (fence + __syncthreads).
KT_CUDA_FORCEINLINE void MbarInit(unsigned long long* bar) {
#if KT_CUDA_HAS_BULK
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;\n" ::"r"(SmemAddr(bar)) : "memory");
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

// Count n: a phase completes after n MbarArrive calls (consumer-release
// barriers of a producer/consumer ring).
KT_CUDA_FORCEINLINE void MbarInitCount(unsigned long long* bar, u32 n) {
#if KT_CUDA_HAS_BULK
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(SmemAddr(bar)), "r"(n) : "memory");
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

KT_CUDA_FORCEINLINE void MbarArrive(unsigned long long* bar) {
#if KT_CUDA_HAS_BULK
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(SmemAddr(bar)) : "memory");
#endif
}

// Orders this thread's generic-proxy shared-memory writes before later
// bulk copies (async proxy) into the same bytes.
KT_CUDA_FORCEINLINE void FenceProxyAsyncShared() {
#if KT_CUDA_HAS_BULK
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// Barrier `id` (1..15; 0 is __syncthreads) over the first arrivals of
// `threads` threads (a multiple of 32): syncs a warp group, not the block.
KT_CUDA_FORCEINLINE void NamedBarrierSync(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

KT_CUDA_FORCEINLINE void MbarExpectTx(unsigned long long* bar, u32 bytes) {
#if KT_CUDA_HAS_BULK
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(SmemAddr(bar)), "r"(bytes)
               : "memory");
#endif
}

// dst and src 16-byte aligned, bytes a multiple of 16.
KT_CUDA_FORCEINLINE void BulkG2S(void* dst, const void* src, u32 bytes, unsigned long long* bar) {
#if KT_CUDA_HAS_BULK
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(
          SmemAddr(dst)),
      "l"(src), "r"(bytes), "r"(SmemAddr(bar))
      : "memory");
#endif
}

KT_CUDA_FORCEINLINE void MbarWait(unsigned long long* bar, u32 parity) {
#if KT_CUDA_HAS_BULK
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT_%=;\n"
      "}\n" ::"r"(SmemAddr(bar)),
      "r"(parity)
      : "memory");
#endif
}

}  // namespace kt_cuda
