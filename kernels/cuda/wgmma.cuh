// Hopper warpgroup MMA (wgmma) helpers: shared-memory matrix descriptors,
// fences and the two shapes MLA decode uses. sm_90a only; elsewhere the
// functions are empty and KT_CUDA_HAS_WGMMA is 0 (callers trap or avoid them).
//
// Operand layouts: without swizzle a tile is stored as 8 x 8 "core
// matrices" of 16-bit values, each 8 rows x 16 bytes contiguous (128 bytes);
// for a K-major operand (rows x K), core matrix (row group R, k chunk C) sits
// at R * SBO + C * LBO; the descriptor carries both strides. With 128-byte
// swizzle (WgmmaDescSw128) rows are 128 bytes and chunk c of row r sits at
// chunk c ^ (r % 8).
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mma.cuh"

namespace kt_cuda {

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define KT_CUDA_HAS_WGMMA 1
#else
#define KT_CUDA_HAS_WGMMA 0
#endif

// Shared-memory matrix descriptor: start address, leading and stride byte
// offsets (multiples of 16), no swizzle, base offset 0.
KT_CUDA_FORCEINLINE unsigned long long WgmmaDesc(const void* p, u32 lbo, u32 sbo) {
  const unsigned long long a = SmemAddr(p);
  return ((a & 0x3FFFFull) >> 4) | (static_cast<unsigned long long>((lbo >> 4) & 0x3FFF) << 16) |
         (static_cast<unsigned long long>((sbo >> 4) & 0x3FFF) << 32);
}

// The same for a 128-byte swizzled operand (layout type 1): 8-row groups of
// 128-byte rows, 1024-aligned, as the tensor copy engine writes them with
// CU_TENSOR_MAP_SWIZZLE_128B.
KT_CUDA_FORCEINLINE unsigned long long WgmmaDescSw128(const void* p, u32 lbo, u32 sbo) {
  return WgmmaDesc(p, lbo, sbo) | (1ull << 62);
}

KT_CUDA_FORCEINLINE void WgmmaFence() {
#if KT_CUDA_HAS_WGMMA
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
KT_CUDA_FORCEINLINE void WgmmaCommit() {
#if KT_CUDA_HAS_WGMMA
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
KT_CUDA_FORCEINLINE void WgmmaWait() {
#if KT_CUDA_HAS_WGMMA
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
// Makes generic-proxy writes to shared memory (stores, cp.async) visible to
// the async proxy that wgmma reads through.
KT_CUDA_FORCEINLINE void FenceProxyAsync() {
#if KT_CUDA_HAS_WGMMA
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// D[64 x 64] = (accumulate ? D : 0) + A[64 x 16] B[16 x 64]; A and B K-major in
// shared memory. D: warp w of the warpgroup holds rows 16w + g and 16w + g + 8
// (g = lane / 4): d[4j], d[4j + 1] = row 16w + g, columns 8j + 2(lane % 4) + 0/1;
// d[4j + 2], d[4j + 3] the same columns of row 16w + g + 8.
KT_CUDA_FORCEINLINE void WgmmaM64N64K16SS(float (&d)[32], unsigned long long da, unsigned long long db,
                                         int accumulate) {
#if KT_CUDA_HAS_WGMMA
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "%32, %33, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),
        "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31])
      : "l"(da), "l"(db), "r"(accumulate));
#endif
}

// D[64 x 256] += A[64 x 16] B[16 x 256]; A in registers (the mma.sync A
// fragment layout per warp), B in shared memory, K-major (kTransB = 0) or
// MN-major (kTransB = 1). D as above, j < 32.
template <int kTransB>
KT_CUDA_FORCEINLINE void WgmmaM64N256K16RS(float (&d)[128], const u32 (&a)[4], unsigned long long db) {
#if KT_CUDA_HAS_WGMMA
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
      "{%128, %129, %130, %131}, %132, 1, 1, 1, %133;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),
        "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]),
        "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),
        "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]),
        "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]),
        "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]),
        "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]),
        "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]),
        "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]),
        "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]),
        "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]),
        "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]),
        "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]),
        "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "n"(kTransB));
#endif
}

}  // namespace kt_cuda
