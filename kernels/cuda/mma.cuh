// Warp-level tensor-core helpers (mma.sync m16n8k16 bf16 -> f32, ldmatrix,
// cp.async). Fragment layouts are the PTX ISA's: with g = lane / 4 and
// t = lane % 4, A regs hold (g, 2t..2t+1), (g+8, 2t..), (g, 2t+8..), (g+8, 2t+8..);
// B regs hold (k = 2t..2t+1, n = g), (k = 2t+8.., n = g); C holds (g, 2t..2t+1),
// (g+8, 2t..2t+1).
#pragma once

#include "kernels/cuda/common.cuh"

namespace kt_cuda {

KT_CUDA_FORCEINLINE void MmaBf16(float* d, const u32* a, u32 b0, u32 b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

KT_CUDA_FORCEINLINE u32 SmemAddr(const void* p) {
  return static_cast<u32>(__cvta_generic_to_shared(p));
}

// Four 8x8 b16 matrices, transposed: lane supplies the row address of row
// lane % 8 of matrix lane / 8.
KT_CUDA_FORCEINLINE void LdMatrixX4Trans(u32* r, const void* row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SmemAddr(row_addr)));
}
KT_CUDA_FORCEINLINE void LdMatrixX2(u32* r, const void* row_addr) {  // lanes 0..15 give addresses
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(SmemAddr(row_addr)));
}
KT_CUDA_FORCEINLINE void LdMatrixX4(u32* r, const void* row_addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SmemAddr(row_addr)));
}

// 16-byte async copy; src_bytes = 0 writes zeros (rows past the end).
KT_CUDA_FORCEINLINE void CpAsync16(void* dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(SmemAddr(dst)), "l"(src),
               "r"(src_bytes));
}
KT_CUDA_FORCEINLINE void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
KT_CUDA_FORCEINLINE void CpAsyncWait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// a * b + c on two bf16 lanes, rounded once.
KT_CUDA_FORCEINLINE u32 Bf16x2Fma(u32 a, u32 b, u32 c) {
  u32 d;
  asm("fma.rn.bf16x2 %0, %1, %2, %3;\n" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

KT_CUDA_FORCEINLINE u32 PackBf16(float lo, float hi) {  // lo in bits 0..15
  u32 d;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(d) : "f"(hi), "f"(lo));
  return d;
}

// One online-softmax step over an m16 x 8·NT tile of scores in the C layout
// above (rows g and g+8; a row's values in the 4 lanes of a quad), in log2
// units, already scaled and masked to -inf: folds the tile's row maxima into
// the running maxima (m_lo, m_hi), replaces s by exp2(s − max), and gives the
// factors for the previous state (al) and this thread's part of the two row
// sums (ps). A row that is still all -inf keeps exponent base 0.
template <int NT>
KT_CUDA_FORCEINLINE void SoftmaxTile(float (&s)[NT][4], float& m_lo, float& m_hi, float (&al)[2], float (&ps)[2]) {
  float mx_lo = fmaxf(s[0][0], s[0][1]), mx_hi = fmaxf(s[0][2], s[0][3]);
#pragma unroll
  for (int n = 1; n < NT; ++n) {
    mx_lo = fmaxf(mx_lo, fmaxf(s[n][0], s[n][1]));
    mx_hi = fmaxf(mx_hi, fmaxf(s[n][2], s[n][3]));
  }
#pragma unroll
  for (int off = 1; off < 4; off <<= 1) {
    mx_lo = fmaxf(mx_lo, __shfl_xor_sync(0xffffffffu, mx_lo, off));
    mx_hi = fmaxf(mx_hi, __shfl_xor_sync(0xffffffffu, mx_hi, off));
  }
  const float mn_lo = fmaxf(m_lo, mx_lo), mn_hi = fmaxf(m_hi, mx_hi);
  const float base_lo = mn_lo == -KT_CUDA_INF ? 0.0f : mn_lo, base_hi = mn_hi == -KT_CUDA_INF ? 0.0f : mn_hi;
  al[0] = exp2f(m_lo - base_lo);
  al[1] = exp2f(m_hi - base_hi);
  m_lo = mn_lo;
  m_hi = mn_hi;
  ps[0] = ps[1] = 0.0f;
#pragma unroll
  for (int n = 0; n < NT; ++n) {
    s[n][0] = exp2f(s[n][0] - base_lo);
    s[n][1] = exp2f(s[n][1] - base_lo);
    s[n][2] = exp2f(s[n][2] - base_hi);
    s[n][3] = exp2f(s[n][3] - base_hi);
    ps[0] += s[n][0] + s[n][1];
    ps[1] += s[n][2] + s[n][3];
  }
}

}  // namespace kt_cuda
