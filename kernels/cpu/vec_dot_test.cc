// Every dot kernel of every ISA this machine has, against the generic kernel
// (same integer arithmetic, so only float summation order may differ) and the
// generic kernel against a double-precision dot of the dequantised operands.
#include "kernels/cpu/vec_dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant/fp16.h"
#include "kernels/quant/quant.h"

namespace kt::cpu {
namespace {

using quant::GgmlType;

// Random but valid blocks: random bytes, then every f16 scale field set to a
// small finite value so no NaN/inf sneaks in.
std::vector<uint8_t> RandomRow(GgmlType type, int64_t n, std::mt19937& rng) {
  const auto& info = quant::GgmlTypeInfoOf(type);
  std::vector<uint8_t> row(*quant::RowBytes(type, n));
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  if (type == GgmlType::kF32) {
    for (int64_t i = 0; i < n; ++i) {
      float v = normal(rng);
      std::memcpy(row.data() + 4 * i, &v, 4);
    }
    return row;
  }
  if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h = type == GgmlType::kF16 ? quant::FloatToFp16(normal(rng))
                                          : quant::FloatToBf16(normal(rng));
      std::memcpy(row.data() + 2 * i, &h, 2);
    }
    return row;
  }
  for (uint8_t& b : row) b = static_cast<uint8_t>(byte(rng));
  const int64_t blocks = n / info.block_elems;
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* blk = row.data() + b * info.block_bytes;
    auto put = [&](size_t offset) {
      uint16_t h = quant::FloatToFp16(scale(rng));
      std::memcpy(blk + offset, &h, 2);
    };
    switch (type) {
      case GgmlType::kQ4_K:
      case GgmlType::kQ5_K: put(0); put(2); break;
      case GgmlType::kQ6_K: put(208); break;
      default: put(0); break;  // Q4_0, Q5_0, Q8_0: d first
    }
  }
  return row;
}

std::vector<float> DequantizeActivation(ActFormat format, const void* act, int64_t n) {
  std::vector<float> out(n);
  if (format == ActFormat::kQ8_32) {
    const auto* b = static_cast<const ActQ8_32*>(act);
    for (int64_t i = 0; i < n; ++i) out[i] = b[i / 32].d * b[i / 32].qs[i % 32];
  } else if (format == ActFormat::kQ8_256) {
    const auto* b = static_cast<const quant::BlockQ8_K*>(act);
    for (int64_t i = 0; i < n; ++i) out[i] = b[i / 256].d * b[i / 256].qs[i % 256];
  } else {
    std::memcpy(out.data(), act, n * sizeof(float));
  }
  return out;
}

struct Case {
  GgmlType type;
  int64_t n;
};

class VecDotTest : public ::testing::TestWithParam<Case> {};

TEST_P(VecDotTest, AllIsasMatchReference) {
  const Case c = GetParam();
  std::mt19937 rng(1234 + static_cast<int>(c.type) * 7 + static_cast<int>(c.n));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int trial = 0; trial < 8; ++trial) {
    const std::vector<uint8_t> row = RandomRow(c.type, c.n, rng);
    std::vector<float> x(c.n);
    for (float& v : x) v = normal(rng);
    const ActFormat format = ActFormatFor(c.type);
    std::vector<uint8_t> act(ActBytes(format, c.n));
    QuantizeActivation(format, x.data(), c.n, act.data());

    std::vector<float> w(c.n);
    ASSERT_TRUE(quant::DequantizeRow(c.type, row.data(), w.data(), c.n));
    const std::vector<float> xq = DequantizeActivation(format, act.data(), c.n);
    double exact = 0, magnitude = 0, unquantized = 0;
    for (int64_t i = 0; i < c.n; ++i) {
      exact += double(w[i]) * xq[i];
      magnitude += std::fabs(double(w[i]) * xq[i]);
      unquantized += double(w[i]) * x[i];
    }
    ASSERT_GT(magnitude, 0.0);

    const VecDotFn generic = GetVecDotGeneric(c.type);
    ASSERT_NE(generic, nullptr);
    const float ref = generic(c.n, row.data(), act.data());
    ASSERT_TRUE(std::isfinite(ref));
    EXPECT_LE(std::fabs(ref - exact), 1e-5 * magnitude) << "generic vs exact";
    // Activation quantisation error stays small relative to the terms.
    EXPECT_LE(std::fabs(ref - unquantized), 2e-2 * magnitude) << "generic vs float activations";

    for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
      if (!HostSupports(isa)) continue;
      const VecDotFn fn = GetVecDot(c.type, isa);
      const float got = fn(c.n, row.data(), act.data());
      ASSERT_TRUE(std::isfinite(got)) << IsaName(isa);
      EXPECT_LE(std::fabs(got - ref), 1e-5 * magnitude) << IsaName(isa) << " vs generic";
    }
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return std::string(quant::GgmlTypeInfoOf(info.param.type).name) + "_" +
         std::to_string(info.param.n);
}

INSTANTIATE_TEST_SUITE_P(
    Types, VecDotTest,
    ::testing::Values(Case{GgmlType::kF32, 1000}, Case{GgmlType::kF16, 1000},
                      Case{GgmlType::kBF16, 1000}, Case{GgmlType::kQ8_0, 1408},
                      Case{GgmlType::kQ8_0, 7168}, Case{GgmlType::kQ4_0, 1408},
                      Case{GgmlType::kQ5_0, 1408}, Case{GgmlType::kQ5_0, 1376}, Case{GgmlType::kQ5_0, 2048},
                      Case{GgmlType::kQ4_K, 256}, Case{GgmlType::kQ4_K, 7168},
                      Case{GgmlType::kQ5_K, 2048}, Case{GgmlType::kQ6_K, 256},
                      Case{GgmlType::kQ6_K, 2048}),
    CaseName);

TEST(CpuFeaturesTest, DescribesHost) {
  EXPECT_TRUE(HostSupports(Isa::kGeneric));
  EXPECT_FALSE(DescribeHostCpu().empty());
  Isa parsed;
  EXPECT_TRUE(ParseIsa("avx2", &parsed));
  EXPECT_EQ(parsed, Isa::kAvx2);
  EXPECT_FALSE(ParseIsa("sse9", &parsed));
}

}  // namespace
}  // namespace kt::cpu
