// Deterministic pseudo-random weights. Every value is a pure function of
// (seed, tensor name, row, column), so rows can be generated in any order, in
// parallel, and give the same bytes on every machine: only integer arithmetic
// and one exact IEEE multiply are involved (no libm log/cos as in Box-Muller,
// whose last bits differ between C libraries).
#pragma once

#include <cstdint>
#include <string_view>

namespace kt::gen {

// splitmix64's output function: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// FNV-1a, used only to turn a tensor name into a stream key.
inline uint64_t HashName(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// The stream of one row: splitmix64 seeded from (seed, name, row).
class RowRng {
 public:
  RowRng(uint64_t seed, uint64_t name_hash, uint64_t row)
      : state_(Mix64(Mix64(seed ^ name_hash) + row)) {}

  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Approximately standard normal: the Irwin-Hall sum of four 16-bit
  // uniforms, centred and scaled to unit variance. Bounded by about ±3.46,
  // which suits weights (no rare huge outliers).
  float Normal() {
    const uint64_t r = Next();
    const int64_t sum = static_cast<int64_t>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) +
                                             ((r >> 32) & 0xFFFF) + (r >> 48));
    // Var of one uniform on {0..65535} is (65536^2 - 1) / 12; four of them
    // sum to (65536^2 - 1) / 3, so 1/std = sqrt(3 / (65536^2 - 1)).
    constexpr double kInvStd = 2.6428997921303018e-05;
    return static_cast<float>(static_cast<double>(sum - 131070) * kInvStd);
  }

 private:
  uint64_t state_;
};

}  // namespace kt::gen
