// Packed ggml block layouts, byte for byte as they sit in a GGUF file.
//
// Every quantised tensor is cut along ne[0] (the contiguous dimension) into
// blocks; block b of a row holds elements [b * kElems, (b + 1) * kElems) of
// that row, so ne[0] must be a multiple of kElems. All multi-byte fields are
// little-endian (kt only targets little-endian hosts); f16 fields are IEEE
// half bits (see fp16.h). The structs have no padding, so a memcpy of
// sizeof(Block*) bytes from any address yields a valid block; the reference
// code does exactly that so it never depends on the source's alignment.
#pragma once

#include <cstdint>
#include <cstring>

namespace kt::quant {

inline constexpr int kQK = 32;   // elements per legacy block
inline constexpr int kQK_K = 256;  // elements per K-quant super-block

// x[j] = d * (q[j] - 8); q[j] = qs[j] & 15 for j < 16, qs[j - 16] >> 4 for j >= 16.
struct BlockQ4_0 {
  static constexpr int kElems = kQK;
  uint16_t d;           // f16 scale
  uint8_t qs[kQK / 2];  // nibbles: low = first half of the block, high = second half
};
static_assert(sizeof(BlockQ4_0) == 18);

// x[j] = d * q[j] + m, nibble order as BlockQ4_0.
struct BlockQ4_1 {
  static constexpr int kElems = kQK;
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 minimum (added, not subtracted)
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x[j] = d * (q[j] - 16); q[j] = nibble (as Q4_0) | bit j of qh (as a LE u32) << 4.
struct BlockQ5_0 {
  static constexpr int kElems = kQK;
  uint16_t d;     // f16 scale
  uint8_t qh[4];  // fifth bits, element j is bit (j % 8) of qh[j / 8]
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x[j] = d * q[j] + m, q[j] as Q5_0.
struct BlockQ5_1 {
  static constexpr int kElems = kQK;
  uint16_t d;  // f16 scale
  uint16_t m;  // f16 minimum
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x[j] = d * qs[j].
struct BlockQ8_0 {
  static constexpr int kElems = kQK;
  uint16_t d;  // f16 scale
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// 8 sub-blocks of 32 elements; sub-block s has a 6-bit scale sc[s] and 6-bit
// min m[s] (unpacked by GetScaleMinK4 in k_scales.h) and
// x = (d * sc[s]) * q - (dmin * m[s]). Each 64 elements (sub-blocks 2k, 2k+1)
// use qs[32k .. 32k+31]: element l of sub-block 2k is the low nibble of
// qs[32k + l], element l of sub-block 2k+1 its high nibble.
struct BlockQ4_K {
  static constexpr int kElems = kQK_K;
  uint16_t d;      // f16 super-block scale for the sub-block scales
  uint16_t dmin;   // f16 super-block scale for the sub-block mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// As Q4_K with a fifth bit per element: element l (0..31) of sub-block s takes
// bit s of qh[l] as bit 4 of q.
struct BlockQ5_K {
  static constexpr int kElems = kQK_K;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16 elements with signed 8-bit scales; x = (d * scales[e / 16]) * (q - 32).
// Two halves of 128 elements; in half h, element e = 32c + l (c = 0..3,
// l = 0..31) has low bits ql[64h + l + 32 (c & 1)] nibble (c >> 1) (low nibble
// for c < 2, high for c >= 2) and high bits (qh[32h + l] >> 2c) & 3.
struct BlockQ6_K {
  static constexpr int kElems = kQK_K;
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // f16
};
static_assert(sizeof(BlockQ6_K) == 210);

// The intermediate format llama.cpp quantises activations to for K-quant dot
// products. Not stored in model files; listed so the dot kernels share it.
struct BlockQ8_K {
  static constexpr int kElems = kQK_K;
  float d;  // f32 (not f16) scale
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];  // sums of qs per 16 elements
};
static_assert(sizeof(BlockQ8_K) == 292);

// Block `b` of a row at `src`, copied out so `src` may have any alignment.
template <typename Block>
Block LoadBlock(const void* src, int64_t b) {
  Block block;
  std::memcpy(&block, static_cast<const uint8_t*>(src) + b * sizeof(Block), sizeof(Block));
  return block;
}

template <typename Block>
void StoreBlock(void* dst, int64_t b, const Block& block) {
  std::memcpy(static_cast<uint8_t*>(dst) + b * sizeof(Block), &block, sizeof(Block));
}

}  // namespace kt::quant
