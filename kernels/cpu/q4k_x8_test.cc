// The 8-row interleaved Q4_K layout: repack/unrepack round trips, and every
// GEMV kernel of every ISA this machine has equals the per-row Q4_K dot on
// the original ggml rows up to float summation order.
#include "kernels/cpu/q4k_x8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/vec_dot.h"
#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/quant.h"

namespace kt::cpu {
namespace {

using quant::GgmlType;

// Random ggml Q4_K rows with small finite f16 scales.
std::vector<uint8_t> RandomRows(int64_t rows, int64_t cols, std::mt19937& rng) {
  const int64_t nb = cols / 256;
  std::vector<uint8_t> bytes(rows * nb * sizeof(quant::BlockQ4_K));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(rng));
  for (int64_t i = 0; i < rows * nb; ++i) {
    uint8_t* blk = bytes.data() + i * sizeof(quant::BlockQ4_K);
    for (int off : {0, 2}) {
      const uint16_t h = quant::FloatToFp16(scale(rng));
      std::memcpy(blk + off, &h, 2);
    }
  }
  return bytes;
}

std::vector<Isa> HostIsas() {
  std::vector<Isa> isas = {Isa::kGeneric};
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (HostSupports(isa)) isas.push_back(isa);
  return isas;
}

GemvQ4KX8Fn KernelOf(Isa isa) { return isa == Isa::kGeneric ? GemvQ4KX8Generic() : GetGemvQ4KX8(isa); }

void CheckAgainstPerRow(const std::vector<uint8_t>& rows, int64_t n_rows, int64_t cols,
                        const std::vector<float>& x) {
  const size_t row_bytes = cols / 256 * sizeof(quant::BlockQ4_K);
  std::vector<uint8_t> x8(rows.size());
  RepackQ4KX8(rows.data(), n_rows / 8, cols, x8.data());
  std::vector<uint8_t> act(ActBytes(ActFormat::kQ8_256, cols));
  QuantizeActivation(ActFormat::kQ8_256, x.data(), cols, act.data());
  const VecDotFn dot = GetVecDotGeneric(GgmlType::kQ4_K);
  const auto* xb = reinterpret_cast<const quant::BlockQ8_K*>(act.data());
  std::vector<float> w(cols);
  for (Isa isa : HostIsas()) {
    const GemvQ4KX8Fn gemv = KernelOf(isa);
    for (int64_t g = 0; g < n_rows / 8; ++g) {
      float y[8];
      gemv(cols, x8.data() + g * 8 * row_bytes, act.data(), y);
      for (int r = 0; r < 8; ++r) {
        const uint8_t* row = rows.data() + (8 * g + r) * row_bytes;
        ASSERT_TRUE(quant::DequantizeRow(GgmlType::kQ4_K, row, w.data(), cols));
        double magnitude = 0;
        for (int64_t i = 0; i < cols; ++i) magnitude += std::fabs(double(w[i]) * xb[i / 256].d * xb[i / 256].qs[i % 256]);
        const float ref = dot(cols, row, act.data());
        ASSERT_TRUE(std::isfinite(y[r])) << IsaName(isa);
        EXPECT_LE(std::fabs(y[r] - ref), 1e-5 * magnitude + 1e-6)
            << IsaName(isa) << " group " << g << " row " << r << " cols " << cols;
      }
    }
  }
}

TEST(Q4KX8Test, RepackRoundTrips) {
  std::mt19937 rng(7);
  for (int64_t cols : {256, 512, 2048}) {
    for (int64_t rows : {8, 24}) {
      const std::vector<uint8_t> src = RandomRows(rows, cols, rng);
      std::vector<uint8_t> x8(src.size()), back(src.size());
      RepackQ4KX8(src.data(), rows / 8, cols, x8.data());
      EXPECT_NE(x8, src);
      UnrepackQ4KX8(x8.data(), rows / 8, cols, back.data());
      EXPECT_EQ(back, src);
      const size_t row_bytes = cols / 256 * sizeof(quant::BlockQ4_K);
      std::vector<uint8_t> one(row_bytes);
      for (int64_t r = 0; r < rows; ++r) {
        UnpackRowQ4KX8(x8.data() + (r / 8) * 8 * row_bytes, cols, static_cast<int>(r % 8), one.data());
        EXPECT_EQ(0, std::memcmp(one.data(), src.data() + r * row_bytes, row_bytes)) << "row " << r;
      }
    }
  }
}

TEST(Q4KX8Test, LayoutPlacesFieldsAsDocumented) {
  std::mt19937 rng(3);
  const std::vector<uint8_t> src = RandomRows(8, 256, rng);
  std::vector<uint8_t> x8(src.size());
  RepackQ4KX8(src.data(), 1, 256, x8.data());
  for (int r = 0; r < 8; ++r) {
    const uint8_t* blk = src.data() + r * 144;
    EXPECT_EQ(0, std::memcmp(x8.data() + 2 * r, blk, 2));
    EXPECT_EQ(0, std::memcmp(x8.data() + 16 + 2 * r, blk + 2, 2));
    EXPECT_EQ(0, std::memcmp(x8.data() + 32 + 12 * r, blk + 4, 12));
    for (int u = 0; u < 32; ++u) EXPECT_EQ(0, std::memcmp(x8.data() + 128 + 4 * (8 * u + r), blk + 16 + 4 * u, 4));
  }
}

// The SIMD kernels do the same integer sums and the same float operations in
// the same order, so they agree bit for bit.
TEST(Q4KX8Test, SimdKernelsAgreeExactly) {
  if (!HostSupports(Isa::kAvx512)) GTEST_SKIP() << "needs AVX2 and AVX-512";
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t cols = 2048;
  const std::vector<uint8_t> src = RandomRows(8, cols, rng);
  std::vector<uint8_t> x8(src.size());
  RepackQ4KX8(src.data(), 1, cols, x8.data());
  std::vector<float> x(cols);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> act(ActBytes(ActFormat::kQ8_256, cols));
  QuantizeActivation(ActFormat::kQ8_256, x.data(), cols, act.data());
  float a[8], b[8];
  GetGemvQ4KX8(Isa::kAvx2)(cols, x8.data(), act.data(), a);
  GetGemvQ4KX8(Isa::kAvx512)(cols, x8.data(), act.data(), b);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(a[r], b[r]) << "row " << r;
}

TEST(Q4KX8Test, GemvMatchesPerRowDot) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t cols : {256, 1536, 2048}) {
    for (int64_t rows : {8, 32}) {
      const std::vector<uint8_t> src = RandomRows(rows, cols, rng);
      std::vector<float> x(cols);
      for (float& v : x) v = normal(rng);
      CheckAgainstPerRow(src, rows, cols, x);
    }
  }
}

// All nibbles 15, all scales and mins 63, activations at the int8 extreme:
// the largest intermediate sums the kernels can see.
TEST(Q4KX8Test, GemvExtremeValuesDoNotOverflow) {
  for (float sign : {1.0f, -1.0f}) {
    const int64_t rows = 8, cols = 2048;
    std::vector<uint8_t> src(rows * cols / 256 * 144, 0xff);
    for (size_t b = 0; b < src.size(); b += 144) {
      const uint16_t h = quant::FloatToFp16(0.01f);
      std::memcpy(src.data() + b, &h, 2);
      std::memcpy(src.data() + b + 2, &h, 2);
    }
    std::vector<float> x(cols, sign);
    CheckAgainstPerRow(src, rows, cols, x);
  }
}

}  // namespace
}  // namespace kt::cpu
