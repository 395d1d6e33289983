#include "runtime/reference/rope.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace kt::reference {
namespace {

model::DeepseekConfig V3Rope() {
  model::DeepseekConfig c;
  c.qk_nope_dim = 128;
  c.qk_rope_dim = 64;
  c.rope_theta = 10000.0f;
  c.yarn_factor = 40.0f;
  c.yarn_orig_ctx = 4096;
  c.yarn_log_mul = 0.1f;  // DeepSeek-V3: mscale_all_dim = 1
  return c;
}

// YaRN as the paper and HF's DeepseekV3YarnRotaryEmbedding define it, in
// double and written independently of rope.cc: per pair i the angle blends
// interpolation (pos·f_i / s) and extrapolation (pos·f_i) with a linear ramp
// that is 1 below `low` and 0 above `high`.
double ExpectedAngle(double pos, int i, int n_dims, double base, double factor, double orig_ctx) {
  const double freq = std::pow(base, -2.0 * i / n_dims);
  auto corr = [&](double rotations) {
    return n_dims * std::log(orig_ctx / (rotations * 2.0 * M_PI)) / (2.0 * std::log(base));
  };
  const double low = std::max(0.0, std::floor(corr(32.0)));
  const double high = std::min(n_dims - 1.0, std::ceil(corr(1.0)));
  const double t = std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
  const double extrapolate = 1.0 - t;
  return pos * freq / factor * (1.0 - extrapolate) + pos * freq * extrapolate;
}

TEST(RopeTest, CorrectionDimsOfDeepseekV3) {
  // 64·ln(4096/(32·2π))/(2·ln 10000) = 10.47 -> 10; with 1 rotation: 22.52 -> 23.
  float dims[2];
  YarnCorrDims(DeepseekRopeParams(V3Rope()), dims);
  EXPECT_EQ(dims[0], 10.0f);
  EXPECT_EQ(dims[1], 23.0f);
}

TEST(RopeTest, CosSinMatchIndependentYarnFormula) {
  const model::DeepseekConfig c = V3Rope();
  const RopeParams p = DeepseekRopeParams(c);
  std::vector<float> cos(32), sin(32);
  for (int64_t pos : {0, 1, 7, 100, 4095, 20000}) {
    RopeCosSin(p, pos, cos, sin);
    for (int i = 0; i < 32; ++i) {
      const double angle = ExpectedAngle(pos, i, 64, 10000.0, 40.0, 4096.0);
      // float angles lose ~1e-7 relative per multiplication step.
      const double tol = 2e-6 + 1e-6 * std::abs(angle);
      EXPECT_NEAR(cos[i], std::cos(angle), tol) << "pos " << pos << " pair " << i;
      EXPECT_NEAR(sin[i], std::sin(angle), tol) << "pos " << pos << " pair " << i;
    }
  }
}

TEST(RopeTest, WithoutYarnIsPlainRope) {
  model::DeepseekConfig c = V3Rope();
  c.yarn_factor = 1.0f;
  const RopeParams p = DeepseekRopeParams(c);
  std::vector<float> cos(32), sin(32);
  RopeCosSin(p, 9, cos, sin);
  for (int i = 0; i < 32; ++i) {
    const double angle = 9.0 * std::pow(10000.0, -2.0 * i / 64);
    EXPECT_NEAR(cos[i], std::cos(angle), 1e-5);
    EXPECT_NEAR(sin[i], std::sin(angle), 1e-5);
  }
}

TEST(RopeTest, RotatesConsecutivePairsAndKeepsNorm) {
  const RopeParams p = DeepseekRopeParams(V3Rope());
  std::vector<float> cos(32), sin(32);
  RopeCosSin(p, 3, cos, sin);
  for (int pair : {0, 5, 31}) {
    std::vector<float> x(64, 0.0f);
    x[2 * pair] = 1.0f;
    ApplyRope(p, 3, x);
    EXPECT_FLOAT_EQ(x[2 * pair], cos[pair]);
    EXPECT_FLOAT_EQ(x[2 * pair + 1], sin[pair]);
    for (int j = 0; j < 64; ++j) {
      if (j / 2 != pair) {
        EXPECT_EQ(x[j], 0.0f);
      }
    }
    EXPECT_NEAR(x[2 * pair] * x[2 * pair] + x[2 * pair + 1] * x[2 * pair + 1], 1.0f, 1e-6);
  }
}

TEST(RopeTest, KqScaleCarriesYarnTemperature) {
  const model::DeepseekConfig c = V3Rope();
  const double mscale = 1.0 + 0.1 * std::log(40.0);
  EXPECT_NEAR(c.KqScale(), mscale * mscale / std::sqrt(192.0), 1e-6);
  model::DeepseekConfig plain = c;
  plain.yarn_factor = 1.0f;
  EXPECT_NEAR(plain.KqScale(), 1.0 / std::sqrt(192.0), 1e-7);
}

}  // namespace
}  // namespace kt::reference
