// Q4_K weights repacked eight rows at a time ("cpu_row_interleaved", 8 rows),
// the layout `ktc compile` writes for CPU Q4_K matrices so that the per-block
// scalar work of the dot product (scale unpacking, f16 conversion) is done
// for eight rows at once in SIMD lanes. docs/artifact.md defines the layout:
// for rows 8g..8g+7 and block b, one 1152-byte super-block at
// (g * nb + b) * 1152 holding
//   d[8] (f16) | dmin[8] (f16) | scales[8][12] | qs[1024]
// where bytes 4u..4u+3 of row r's 128 qs bytes lie at 4 * (8u + r).
// The byte size equals the GGUF size, and group g starts where row 8g would.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace kt::cpu {

inline constexpr int kQ4KX8Rows = 8;
inline constexpr size_t kQ4KX8BlockBytes = 8 * 144;

// Repacks `groups` groups of 8 ggml Q4_K rows of `cols` elements (cols % 256
// == 0) from `src` (groups * 8 rows) to `dst` (same size). No overlap.
void RepackQ4KX8(const void* src, int64_t groups, int64_t cols, void* dst);
// The inverse of RepackQ4KX8.
void UnrepackQ4KX8(const void* src, int64_t groups, int64_t cols, void* dst);
// Copies row `r` (0..7) of the group at `group` back to a ggml Q4_K row.
void UnpackRowQ4KX8(const void* group, int64_t cols, int r, void* dst_row);

// y[0..7] = the dot products of the 8 rows of the group at `group` with the
// Q8_K activation `act` (QuantizeActivation(kQ8_256, ...)) over `n` elements.
using GemvQ4KX8Fn = void (*)(int64_t n, const void* group, const void* act, float* y);

// The kernel for `isa` or the best lower family that has one; never null.
GemvQ4KX8Fn GetGemvQ4KX8(Isa isa);

GemvQ4KX8Fn GemvQ4KX8Generic();
GemvQ4KX8Fn GemvQ4KX8Avx2();
GemvQ4KX8Fn GemvQ4KX8Avx512();

}  // namespace kt::cpu
