// The 12-byte packing of eight 6-bit scales and eight 6-bit mins shared by
// Q4_K and Q5_K. Bytes 0-3 hold scales 0-3 in their low 6 bits, bytes 4-7
// mins 0-3; scales/mins 4-7 keep their low nibbles in bytes 8-11 (scale low,
// min high) and their top two bits in the spare top bits of bytes 0-3 / 4-7.
#pragma once

#include <cstdint>
#include <cstring>

namespace kt::quant {

struct ScaleMin {
  uint8_t scale;
  uint8_t min;
};

inline ScaleMin GetScaleMinK4(int j, const uint8_t* s) {
  if (j < 4) return {static_cast<uint8_t>(s[j] & 63), static_cast<uint8_t>(s[j + 4] & 63)};
  return {static_cast<uint8_t>((s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4)),
          static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4))};
}

// All eight scales and mins at once with 32-bit word operations (the same
// values as GetScaleMinK4 for j = 0..7): scales 0-3 and mins 0-3 are the low
// six bits of words 0 and 1; scales/mins 4-7 take their low nibbles from
// word 2 and their top two bits from the spare bits of words 0 and 1.
inline void UnpackScalesMinsK4(const uint8_t* s, uint8_t scale[8], uint8_t min[8]) {
  uint32_t w[3];
  std::memcpy(w, s, 12);
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
  const uint32_t scales[2] = {w[0] & low6, (w[2] & low4) | (((w[0] >> 6) & low2) << 4)};
  const uint32_t mins[2] = {w[1] & low6, ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4)};
  std::memcpy(scale, scales, 8);
  std::memcpy(min, mins, 8);
}

// Inverse of GetScaleMinK4 for values 0..63.
inline void PackScalesMinsK4(const uint8_t scale[8], const uint8_t min[8], uint8_t s[12]) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((min[j] & 63) | ((min[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((scale[j + 4] & 0xf) | ((min[j + 4] & 0xf) << 4));
  }
}

}  // namespace kt::quant
