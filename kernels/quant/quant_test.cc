#include "kernels/quant/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"

namespace kt::quant {
namespace {

const GgmlType kQuantizable[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16,
                                 GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0,
                                 GgmlType::kQ4_K, GgmlType::kQ6_K};
const GgmlType kDequantizable[] = {
    GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0,
    GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
    GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};

std::vector<float> RoundTrip(GgmlType type, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> blocks(*RowBytes(type, n));
  EXPECT_TRUE(QuantizeRow(type, x.data(), blocks.data(), n));
  std::vector<float> y(x.size());
  EXPECT_TRUE(DequantizeRow(type, blocks.data(), y.data(), n));
  return y;
}

double RelativeRmsError(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    ref += double(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

std::vector<float> Gaussian(size_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(QuantTest, FlagsMatchImplementedKernels) {
  for (uint32_t id = 0; id < 64; ++id) {
    const GgmlTypeInfo* info = FindGgmlType(id);
    if (info == nullptr) continue;
    std::vector<uint8_t> blocks(info->block_bytes, 0);
    std::vector<float> values(info->block_elems, 0.0f);
    const int64_t n = info->block_elems;
    EXPECT_EQ(DequantizeRow(info->type, blocks.data(), values.data(), n), info->dequantizable)
        << info->name;
    EXPECT_EQ(QuantizeRow(info->type, values.data(), blocks.data(), n), info->quantizable)
        << info->name;
  }
  for (GgmlType t : kQuantizable) EXPECT_TRUE(GgmlTypeInfoOf(t).quantizable);
  for (GgmlType t : kDequantizable) EXPECT_TRUE(GgmlTypeInfoOf(t).dequantizable);
}

TEST(QuantTest, RejectsPartialBlocksWithoutWriting) {
  for (GgmlType type : kDequantizable) {
    const GgmlTypeInfo& info = GgmlTypeInfoOf(type);
    if (info.block_elems == 1) continue;
    std::vector<uint8_t> blocks(2 * info.block_bytes, 0x11);
    std::vector<float> values(2 * info.block_elems, 7.0f);
    for (int64_t n : {int64_t{1}, int64_t{info.block_elems - 1}, int64_t{info.block_elems + 1},
                      int64_t{-int64_t(info.block_elems)}}) {
      EXPECT_FALSE(DequantizeRow(type, blocks.data(), values.data(), n)) << info.name << " " << n;
      if (info.quantizable) {
        EXPECT_FALSE(QuantizeRow(type, values.data(), blocks.data(), n)) << info.name << " " << n;
      }
    }
    for (float v : values) ASSERT_EQ(v, 7.0f) << info.name;
    for (uint8_t b : blocks) ASSERT_EQ(b, 0x11) << info.name;
  }
  float f = 0;
  EXPECT_TRUE(DequantizeRow(GgmlType::kQ4_K, nullptr, &f, 0));
  EXPECT_FALSE(DequantizeRow(GgmlType::kQ2_K, nullptr, &f, 0));
  EXPECT_FALSE(QuantizeRow(GgmlType::kQ5_K, &f, nullptr, 0));
}

// The bounds hold with margin for N(0, 1) data; they fail if a layout or a
// scale search is broken (random codes give errors near 1 or above).
TEST(QuantTest, GaussianRoundTripError) {
  const struct {
    GgmlType type;
    double bound;
  } kCases[] = {{GgmlType::kF32, 0.0},    {GgmlType::kF16, 1e-3},  {GgmlType::kBF16, 5e-3},
                {GgmlType::kQ8_0, 0.01},  {GgmlType::kQ5_0, 0.05}, {GgmlType::kQ4_0, 0.1},
                {GgmlType::kQ4_K, 0.1},   {GgmlType::kQ6_K, 0.02}};
  const std::vector<float> x = Gaussian(256 * 64, 1.0f, 42);
  for (const auto& c : kCases) {
    const double err = RelativeRmsError(x, RoundTrip(c.type, x));
    EXPECT_LE(err, c.bound) << GgmlTypeInfoOf(c.type).name;
    std::printf("[ info ] %-5s relative RMS error %.5f\n",
                std::string(GgmlTypeInfoOf(c.type).name).c_str(), err);
  }
}

TEST(QuantTest, ZeroRowsStayZero) {
  for (GgmlType type : kQuantizable) {
    const std::vector<float> x(512, 0.0f);
    for (float v : RoundTrip(type, x)) ASSERT_EQ(v, 0.0f) << GgmlTypeInfoOf(type).name;
  }
}

TEST(QuantTest, ConstantRowsAreClose) {
  for (GgmlType type : kQuantizable) {
    for (float c : {1.0f, -3.25f, 0.01f}) {
      const std::vector<float> x(512, c);
      for (float v : RoundTrip(type, x))
        ASSERT_NEAR(v, c, std::fabs(c) * 0.02f) << GgmlTypeInfoOf(type).name << " c=" << c;
    }
  }
}

// Magnitudes well inside f16's range keep their relative accuracy; ones far
// outside it may lose everything but must not crash or produce garbage codes.
TEST(QuantTest, MagnitudesAndNonFiniteInput) {
  for (GgmlType type : kQuantizable) {
    const char* name = GgmlTypeInfoOf(type).name.data();
    for (float sigma : {1e-2f, 1e2f, 1e3f}) {
      const std::vector<float> x = Gaussian(512, sigma, 7);
      EXPECT_LE(RelativeRmsError(x, RoundTrip(type, x)), 0.1) << name << " sigma " << sigma;
    }
    for (float sigma : {1e-30f, 1e-12f, 1e12f, 1e30f}) {
      const std::vector<float> x = Gaussian(512, sigma, 9);
      RoundTrip(type, x);  // any output is acceptable; reaching here is the test
    }
    std::vector<float> x = Gaussian(512, 1.0f, 11);
    x[3] = NAN;
    x[300] = INFINITY;
    x[301] = -INFINITY;
    RoundTrip(type, x);
  }
}

TEST(QuantTest, SourceAlignmentDoesNotMatter) {
  const std::vector<float> x = Gaussian(512, 1.0f, 3);
  for (GgmlType type : kQuantizable) {
    const uint64_t bytes = *RowBytes(type, 512);
    std::vector<uint8_t> aligned(bytes), shifted(bytes + 1);
    ASSERT_TRUE(QuantizeRow(type, x.data(), aligned.data(), 512));
    ASSERT_TRUE(QuantizeRow(type, x.data(), shifted.data() + 1, 512));
    ASSERT_EQ(std::memcmp(aligned.data(), shifted.data() + 1, bytes), 0);
    std::vector<float> a(512), b(512);
    ASSERT_TRUE(DequantizeRow(type, aligned.data(), a.data(), 512));
    ASSERT_TRUE(DequantizeRow(type, shifted.data() + 1, b.data(), 512));
    ASSERT_EQ(std::memcmp(a.data(), b.data(), 512 * sizeof(float)), 0);
  }
}

TEST(QuantTest, K4ScalePackingRoundTrips) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 1000; ++trial) {
    uint8_t sc[8], mn[8], packed[12];
    for (int j = 0; j < 8; ++j) {
      sc[j] = static_cast<uint8_t>(rng() & 63);
      mn[j] = static_cast<uint8_t>(rng() & 63);
    }
    PackScalesMinsK4(sc, mn, packed);
    for (int j = 0; j < 8; ++j) {
      const ScaleMin sm = GetScaleMinK4(j, packed);
      ASSERT_EQ(sm.scale, sc[j]);
      ASSERT_EQ(sm.min, mn[j]);
    }
  }
}

// Hand-built blocks pin down element order (the peer test checks the rest).
TEST(QuantTest, LegacyElementOrder) {
  BlockQ4_0 q4{};
  q4.d = FloatToFp16(0.5f);
  for (int j = 0; j < 16; ++j) q4.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  ASSERT_TRUE(DequantizeRow(GgmlType::kQ4_0, &q4, y, 32));
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * (j - 8));
    EXPECT_EQ(y[j + 16], 0.5f * (7 - j));
  }
  BlockQ5_0 q5{};
  q5.d = FloatToFp16(1.0f);
  q5.qh[0] = 0x01;  // element 0
  q5.qh[3] = 0x80;  // element 31
  ASSERT_TRUE(DequantizeRow(GgmlType::kQ5_0, &q5, y, 32));
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[31], 0.0f);
  EXPECT_EQ(y[1], -16.0f);
}

TEST(QuantTest, KElementOrder) {
  BlockQ6_K q6{};
  q6.d = FloatToFp16(1.0f);
  for (int s = 0; s < 16; ++s) q6.scales[s] = static_cast<int8_t>(s + 1);
  // Element 200 = half 1, chunk 2, l = 8: high nibble of ql[64 + 8], bits 4-5 of qh[32 + 8].
  q6.ql[72] = 0x50;
  q6.qh[40] = 0x30;
  float y[256];
  ASSERT_TRUE(DequantizeRow(GgmlType::kQ6_K, &q6, y, 256));
  EXPECT_EQ(y[200], float(200 / 16 + 1) * float(0x35 - 32));
  EXPECT_EQ(y[199], float(199 / 16 + 1) * -32.0f);

  BlockQ5_K q5{};
  q5.d = FloatToFp16(1.0f);
  q5.dmin = FloatToFp16(0.25f);
  uint8_t sc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mn[8] = {8, 7, 6, 5, 4, 3, 2, 1};
  PackScalesMinsK4(sc, mn, q5.scales);
  q5.qs[32 * 2 + 3] = 0x70;  // sub-block 5, element 3: low bits 7
  q5.qh[3] = 1 << 5;         // sub-block 5, element 3: fifth bit
  ASSERT_TRUE(DequantizeRow(GgmlType::kQ5_K, &q5, y, 256));
  EXPECT_EQ(y[5 * 32 + 3], 6.0f * 23 - 0.25f * 3);
  EXPECT_EQ(y[4 * 32 + 3], -0.25f * 4);
}

}  // namespace
}  // namespace kt::quant
