// Format constants and helpers shared by the GGUF reader and writer; not part
// of the public API.
#pragma once

#include <cstdint>

#include "compiler/gguf/gguf.h"

namespace kt::gguf {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;
// gguf-py nests arrays without limit and llama.cpp not at all; a bound keeps
// the recursive parser's stack small on hostile input.
inline constexpr int kMaxArrayDepth = 8;
// llama.cpp rejects tensor names of 64 bytes or more (GGML_MAX_NAME).
inline constexpr uint64_t kMaxTensorNameBytes = 63;

inline bool IsUnsignedType(GgufType t) {
  return t == GgufType::kUint8 || t == GgufType::kUint16 || t == GgufType::kUint32 ||
         t == GgufType::kUint64;
}
inline bool IsSignedType(GgufType t) {
  return t == GgufType::kInt8 || t == GgufType::kInt16 || t == GgufType::kInt32 ||
         t == GgufType::kInt64;
}
inline bool IsFloatType(GgufType t) { return t == GgufType::kFloat32 || t == GgufType::kFloat64; }
inline bool IsKnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

// Encoded size of a fixed-size scalar type, 0 for string and array.
inline uint64_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
    case GgufType::kUint16: case GgufType::kInt16: return 2;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: return 8;
    case GgufType::kString: case GgufType::kArray: return 0;
  }
  return 0;
}

// Smallest possible encoding of one value of type t (an empty string is its
// u64 length; an empty array is its u32 type and u64 count).
inline uint64_t MinEncodedSize(GgufType t) {
  if (t == GgufType::kString) return 8;
  if (t == GgufType::kArray) return 12;
  return ScalarSize(t);
}

inline bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace kt::gguf
