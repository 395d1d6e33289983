// ggml tensor element types as stored in GGUF files: ids, block geometry and
// names. The table covers every id the GGUF format defines so that a reader
// can compute the byte size of any tensor, including types kt cannot
// dequantize; `dequantizable` says which ones kt's kernels implement.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kt::quant {

enum class GgmlType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8,
  kQ8_1 = 9, kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14,
  kQ8_K = 15, kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19,
  kIQ4_NL = 20, kIQ3_S = 21, kIQ2_S = 22, kIQ4_XS = 23, kI8 = 24, kI16 = 25,
  kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29, kBF16 = 30, kTQ1_0 = 34,
  kTQ2_0 = 35, kMXFP4 = 39,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;    // lower case, as llama.cpp prints it ("q4_K")
  uint32_t block_elems;     // elements per block along ne[0]
  uint32_t block_bytes;     // bytes per block
  bool dequantizable;       // kt has a reference dequantizer for it
  bool quantizable;         // kt has a reference quantizer for it
};

// nullptr when `id` is not a ggml type id (for example 4, 5 or 31).
const GgmlTypeInfo* FindGgmlType(uint32_t id);
const GgmlTypeInfo& GgmlTypeInfoOf(GgmlType type);
// Case-insensitive lookup by name ("q4_k", "Q8_0", "bf16").
std::optional<GgmlType> ParseGgmlType(std::string_view name);

// Bytes of a row of `n` elements, or nullopt when n is not a multiple of the
// block size or the size overflows.
std::optional<uint64_t> RowBytes(GgmlType type, uint64_t n);

}  // namespace kt::quant
