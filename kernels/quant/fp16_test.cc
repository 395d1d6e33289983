// Exhaustive checks of fp16.h against a plain reference built from ldexp and
// exact rounding-boundary arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"

namespace kt::quant {
namespace {

// Value of a finite half, computed without any bit tricks.
double HalfValue(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
  return (h & 0x8000) ? -mag : mag;
}

bool IsFiniteHalf(uint16_t h) { return ((h >> 10) & 0x1f) != 0x1f; }

TEST(Fp16Test, ToFloatAllHalves) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const float f = Fp16ToFloat(h);
    const uint32_t sign = (i & 0x8000u) << 16;
    if (IsFiniteHalf(h)) {
      ASSERT_EQ(static_cast<double>(f), HalfValue(h)) << "half 0x" << std::hex << i;
      ASSERT_EQ(FloatToBits(f) & 0x80000000u, sign) << "sign of half 0x" << std::hex << i;
    } else {
      // inf and NaN keep sign and payload, like a hardware conversion.
      ASSERT_EQ(FloatToBits(f), sign | 0x7f800000u | ((i & 0x3ffu) << 13)) << std::hex << i;
    }
  }
}

TEST(Fp16Test, FromFloatRoundTripsEveryFiniteHalf) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    if (!IsFiniteHalf(h)) continue;
    ASSERT_EQ(FloatToFp16(Fp16ToFloat(h)), h) << "half 0x" << std::hex << i;
  }
}

// Between every pair of neighbouring halves (and between the largest half
// and the overflow threshold) the midpoint must round to the even one, and
// the floats just beside it to the nearer one.
TEST(Fp16Test, FromFloatRoundsToNearestEvenAtEveryBoundary) {
  for (uint32_t lo = 0; lo < 0x7c00; ++lo) {
    for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
      const uint16_t a = static_cast<uint16_t>(lo | sign), b = static_cast<uint16_t>((lo + 1) | sign);
      // For lo = 0x7bff the "next" value is 65536, whose midpoint 65520 must go to inf.
      const double va = HalfValue(a);
      const double vb = lo + 1 == 0x7c00 ? (sign ? -65536.0 : 65536.0) : HalfValue(b);
      const float mid = static_cast<float>((va + vb) / 2);  // exact: 12 significant bits
      ASSERT_EQ(static_cast<double>(mid), (va + vb) / 2);
      const uint16_t even = (lo & 1) ? b : a;
      ASSERT_EQ(FloatToFp16(mid), even) << "midpoint above half 0x" << std::hex << a;
      const float toward_a = std::nextafter(mid, static_cast<float>(va));
      const float toward_b = std::nextafter(mid, static_cast<float>(vb));
      ASSERT_EQ(FloatToFp16(toward_a), a) << "just beside half 0x" << std::hex << a;
      ASSERT_EQ(FloatToFp16(toward_b), b) << "just beside half 0x" << std::hex << b;
    }
  }
}

TEST(Fp16Test, FromFloatSpecials) {
  EXPECT_EQ(FloatToFp16(INFINITY), 0x7c00);
  EXPECT_EQ(FloatToFp16(-INFINITY), 0xfc00);
  EXPECT_EQ(FloatToFp16(1e30f), 0x7c00);
  EXPECT_EQ(FloatToFp16(-0.0f), 0x8000);
  EXPECT_EQ(FloatToFp16(1e-30f), 0x0000);
  EXPECT_EQ(FloatToFp16(-1e-30f), 0x8000);
  const uint16_t nan = FloatToFp16(NAN);
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x3ff, 0);
  EXPECT_EQ(FloatToFp16(-NAN) & 0x8000, 0x8000);
  // A NaN whose payload lives only in the low float bits must stay a NaN.
  EXPECT_TRUE(std::isnan(Fp16ToFloat(FloatToFp16(BitsToFloat(0x7f800001u)))));
}

// Random floats of every magnitude against a slow nearest-half search.
TEST(Fp16Test, FromFloatMatchesNearestHalfOnRandomFloats) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> log_mag(-30.0f, 17.0f);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::exp2(log_mag(rng)) * ((rng() & 1) ? -1.0f : 1.0f);
    // Binary search over the ordered magnitudes 0x0000..0x7bff.
    const double target = std::fabs(static_cast<double>(f));
    uint32_t lo = 0, hi = 0x7bff;
    while (lo < hi) {
      const uint32_t m = (lo + hi + 1) / 2;
      if (HalfValue(static_cast<uint16_t>(m)) <= target) lo = m; else hi = m - 1;
    }
    uint16_t expect;
    if (lo == 0x7bff) {
      expect = target >= 65520.0 ? 0x7c00 : 0x7bff;
    } else {
      const double da = target - HalfValue(static_cast<uint16_t>(lo));
      const double db = HalfValue(static_cast<uint16_t>(lo + 1)) - target;
      expect = static_cast<uint16_t>(da < db ? lo : db < da ? lo + 1 : ((lo & 1) ? lo + 1 : lo));
    }
    if (f < 0) expect |= 0x8000;
    ASSERT_EQ(FloatToFp16(f), expect) << "float bits 0x" << std::hex << FloatToBits(f);
  }
}

TEST(Bf16Test, RoundTripAndRounding) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t b = static_cast<uint16_t>(i);
    const float f = Bf16ToFloat(b);
    ASSERT_EQ(FloatToBits(f), i << 16);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(f))));
      continue;
    }
    ASSERT_EQ(FloatToBf16(f), b);
    if ((i & 0x7fff) >= 0x7f80) continue;  // no finite neighbour above
    // Midpoint to the next bf16 (away from zero) ties to even.
    const uint32_t mid = (i << 16) | 0x8000u;
    const uint16_t even = static_cast<uint16_t>((i & 1) ? i + 1 : i);
    ASSERT_EQ(FloatToBf16(BitsToFloat(mid)), even) << std::hex << i;
    ASSERT_EQ(FloatToBf16(BitsToFloat(mid - 1)), b) << std::hex << i;
    ASSERT_EQ(FloatToBf16(BitsToFloat(mid + 1)), static_cast<uint16_t>(i + 1)) << std::hex << i;
  }
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x7f800001u)) & 0x7f80, 0x7f80);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(BitsToFloat(0x7f800001u)))));
}

}  // namespace
}  // namespace kt::quant

namespace kt::quant {
namespace {

TEST(KScalesTest, WordUnpackMatchesPerIndexUnpack) {
  uint32_t state = 12345;
  for (int trial = 0; trial < 10000; ++trial) {
    uint8_t s[12];
    for (uint8_t& b : s) {
      state = state * 1664525u + 1013904223u;
      b = static_cast<uint8_t>(state >> 24);
    }
    uint8_t sc[8], mn[8];
    UnpackScalesMinsK4(s, sc, mn);
    for (int j = 0; j < 8; ++j) {
      const ScaleMin ref = GetScaleMinK4(j, s);
      ASSERT_EQ(sc[j], ref.scale) << "trial " << trial << " j " << j;
      ASSERT_EQ(mn[j], ref.min) << "trial " << trial << " j " << j;
    }
  }
}

}  // namespace
}  // namespace kt::quant
