#include "runtime/cpu/matvec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/quant/quant.h"

namespace kt::cpu {
namespace {

using quant::GgmlType;

std::vector<uint8_t> QuantizeMatrix(GgmlType type, const std::vector<float>& w, int64_t rows,
                                    int64_t cols) {
  const uint64_t row_bytes = *quant::RowBytes(type, cols);
  std::vector<uint8_t> out(rows * row_bytes);
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_TRUE(quant::QuantizeRow(type, w.data() + r * cols, out.data() + r * row_bytes, cols));
  return out;
}

std::vector<float> Dequantize(GgmlType type, const std::vector<uint8_t>& q, int64_t rows,
                              int64_t cols) {
  const uint64_t row_bytes = *quant::RowBytes(type, cols);
  std::vector<float> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    EXPECT_TRUE(quant::DequantizeRow(type, q.data() + r * row_bytes, out.data() + r * cols, cols));
  return out;
}

class MatVecTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatVecTest, MatchesDequantisedReferenceOnEveryIsa) {
  const GgmlType type = GetParam();
  const int64_t rows = 37, cols = 512;
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols), x(cols);
  for (float& v : w) v = normal(rng);
  for (float& v : x) v = normal(rng);
  const std::vector<uint8_t> q = QuantizeMatrix(type, w, rows, cols);
  const std::vector<float> wd = Dequantize(type, q, rows, cols);
  auto pool = ThreadPool::Create({3, false});
  ASSERT_TRUE(pool.ok());
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (!HostSupports(isa)) continue;
    CpuKernels kernels(isa);
    QuantMatrix m{type, q.data(), rows, cols, *quant::RowBytes(type, cols)};
    std::vector<float> y(rows, NAN);
    ASSERT_TRUE(MatVec(**pool, kernels, m, x.data(), y.data()).ok());
    for (int64_t r = 0; r < rows; ++r) {
      double ref = 0, mag = 0;
      for (int64_t c = 0; c < cols; ++c) {
        ref += double(wd[r * cols + c]) * x[c];
        mag += std::fabs(double(wd[r * cols + c]) * x[c]);
      }
      ASSERT_TRUE(std::isfinite(y[r])) << IsaName(isa) << " row " << r;
      EXPECT_LE(std::fabs(y[r] - ref), 1e-2 * mag) << IsaName(isa) << " row " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, MatVecTest,
                         ::testing::Values(GgmlType::kF32, GgmlType::kQ8_0, GgmlType::kQ4_0,
                                           GgmlType::kQ5_0, GgmlType::kQ4_K, GgmlType::kQ6_K));

// Q4_K interleaved by 8 rows gives the ggml-layout results (same integer
// arithmetic, float summation order aside); a bad interleave is an error.
TEST(MatVecTest, InterleavedQ4KMatchesGgmlLayout) {
  const int64_t rows = 48, cols = 768;
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols), x(cols);
  for (float& v : w) v = normal(rng);
  for (float& v : x) v = normal(rng);
  const std::vector<uint8_t> q = QuantizeMatrix(GgmlType::kQ4_K, w, rows, cols);
  std::vector<uint8_t> qx(q.size());
  RepackQ4KX8(q.data(), rows / 8, cols, qx.data());
  const uint64_t row_bytes = *quant::RowBytes(GgmlType::kQ4_K, cols);
  auto pool = ThreadPool::Create({2, false});
  ASSERT_TRUE(pool.ok());
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (!HostSupports(isa)) continue;
    CpuKernels kernels(isa);
    QuantMatrix plain{GgmlType::kQ4_K, q.data(), rows, cols, row_bytes};
    QuantMatrix inter{GgmlType::kQ4_K, qx.data(), rows, cols, row_bytes, 8};
    std::vector<float> y0(rows, NAN), y1(rows, NAN);
    ASSERT_TRUE(MatVec(**pool, kernels, plain, x.data(), y0.data()).ok());
    ASSERT_TRUE(MatVec(**pool, kernels, inter, x.data(), y1.data()).ok());
    for (int64_t r = 0; r < rows; ++r) EXPECT_NEAR(y1[r], y0[r], 1e-4f * (1 + std::fabs(y0[r]))) << IsaName(isa) << " row " << r;
  }
  QuantMatrix odd{GgmlType::kQ4_K, qx.data(), rows - 4, cols, row_bytes, 8};
  std::vector<float> y(rows);
  EXPECT_EQ(MatVec(**pool, CpuKernels(Isa::kGeneric), odd, x.data(), y.data()).code(), StatusCode::kInvalidArgument);
}

TEST(RoutedExpertsTest, MatchesScalarFloatFfn) {
  const int64_t hidden = 256, ff = 96, n_experts = 5;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  auto random = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = normal(rng);
    return v;
  };
  const GgmlType gate_t = GgmlType::kQ4_K, up_t = GgmlType::kQ4_K, down_t = GgmlType::kQ8_0;
  std::vector<float> gate = random(n_experts * ff * hidden), up = random(n_experts * ff * hidden),
                     down = random(n_experts * hidden * ff), x = random(hidden);
  auto gq = QuantizeMatrix(gate_t, gate, n_experts * ff, hidden);
  auto uq = QuantizeMatrix(up_t, up, n_experts * ff, hidden);
  auto dq = QuantizeMatrix(down_t, down, n_experts * hidden, ff);
  auto gd = Dequantize(gate_t, gq, n_experts * ff, hidden);
  auto ud = Dequantize(up_t, uq, n_experts * ff, hidden);
  auto dd = Dequantize(down_t, dq, n_experts * hidden, ff);

  const std::vector<int32_t> ids = {3, 0, 4};
  const std::vector<float> weights = {0.5f, 0.3f, 0.2f};
  std::vector<double> ref(hidden, 0.0);
  for (size_t k = 0; k < ids.size(); ++k) {
    const int64_t e = ids[k];
    std::vector<double> h(ff);
    for (int64_t r = 0; r < ff; ++r) {
      double g = 0, u = 0;
      for (int64_t c = 0; c < hidden; ++c) {
        g += gd[(e * ff + r) * hidden + c] * double(x[c]);
        u += ud[(e * ff + r) * hidden + c] * double(x[c]);
      }
      h[r] = g / (1 + std::exp(-g)) * u;
    }
    for (int64_t r = 0; r < hidden; ++r) {
      double o = 0;
      for (int64_t c = 0; c < ff; ++c) o += dd[(e * hidden + r) * ff + c] * h[c];
      ref[r] += weights[k] * o;
    }
  }
  double max_ref = 0;
  for (double v : ref) max_ref = std::max(max_ref, std::fabs(v));
  ASSERT_GT(max_ref, 0.0);

  auto pool = ThreadPool::Create({2, false});
  ASSERT_TRUE(pool.ok());
  ExpertStack stack{gate_t, up_t, down_t, gq.data(), uq.data(), dq.data(), hidden, ff, n_experts};
  // The same experts with gate and up interleaved by 8 rows.
  std::vector<uint8_t> gx(gq.size()), ux(uq.size());
  RepackQ4KX8(gq.data(), n_experts * ff / 8, hidden, gx.data());
  RepackQ4KX8(uq.data(), n_experts * ff / 8, hidden, ux.data());
  ExpertStack interleaved = stack;
  interleaved.gate = gx.data();
  interleaved.up = ux.data();
  interleaved.gate_layout_rows = interleaved.up_layout_rows = 8;
  for (const ExpertStack* s : {&stack, &interleaved}) {
    for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
      if (!HostSupports(isa)) continue;
      std::vector<float> y(hidden, 1.0f);  // accumulates onto what is there
      MoeScratch scratch;
      ASSERT_TRUE(RoutedExperts(**pool, CpuKernels(isa), *s, x.data(), ids, weights, y.data(), scratch).ok());
      for (int64_t r = 0; r < hidden; ++r)
        EXPECT_NEAR(y[r] - 1.0f, ref[r], 3e-2 * max_ref)
            << IsaName(isa) << " row " << r << " layout_rows " << s->gate_layout_rows;
    }
  }

  std::vector<int32_t> bad_ids = {7};
  std::vector<float> one = {1.0f};
  std::vector<float> y(hidden);
  MoeScratch scratch;
  Status s = RoutedExperts(**pool, CpuKernels(Isa::kGeneric), stack, x.data(), bad_ids, one, y.data(), scratch);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
}


// Experts of different widths and weight types in one call (routed experts
// plus a shared one, as the executor passes them), against float math.
TEST(ExpertFfnsTest, MixedExpertsMatchScalarFloatFfn) {
  const int64_t hidden = 512;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  struct Spec {
    int64_t ff;
    GgmlType gate_up, down;
    float weight;
  };
  const Spec specs[] = {{96, GgmlType::kQ4_K, GgmlType::kQ8_0, 0.6f},
                        {64, GgmlType::kQ4_K, GgmlType::kQ5_0, 0.3f},
                        {256, GgmlType::kQ4_K, GgmlType::kQ6_K, 1.0f},
                        {32, GgmlType::kQ8_0, GgmlType::kF32, 0.5f}};
  std::vector<float> x(hidden);
  for (float& v : x) v = normal(rng);
  std::vector<std::vector<uint8_t>> storage;
  std::vector<ExpertFfn> experts;
  std::vector<double> ref(hidden, 0.0);
  for (const Spec& sp : specs) {
    auto random = [&](int64_t n) {
      std::vector<float> v(n);
      for (float& f : v) f = normal(rng);
      return v;
    };
    const std::vector<float> g = random(sp.ff * hidden), u = random(sp.ff * hidden), d = random(hidden * sp.ff);
    storage.push_back(QuantizeMatrix(sp.gate_up, g, sp.ff, hidden));
    storage.push_back(QuantizeMatrix(sp.gate_up, u, sp.ff, hidden));
    storage.push_back(QuantizeMatrix(sp.down, d, hidden, sp.ff));
    const auto gd = Dequantize(sp.gate_up, storage[storage.size() - 3], sp.ff, hidden);
    const auto ud = Dequantize(sp.gate_up, storage[storage.size() - 2], sp.ff, hidden);
    const auto dd = Dequantize(sp.down, storage.back(), hidden, sp.ff);
    ExpertFfn e;
    e.gate = {sp.gate_up, storage[storage.size() - 3].data(), sp.ff, hidden, *quant::RowBytes(sp.gate_up, hidden)};
    e.up = {sp.gate_up, storage[storage.size() - 2].data(), sp.ff, hidden, *quant::RowBytes(sp.gate_up, hidden)};
    e.down = {sp.down, storage.back().data(), hidden, sp.ff, *quant::RowBytes(sp.down, sp.ff)};
    e.weight = sp.weight;
    experts.push_back(e);
    std::vector<double> h(sp.ff);
    for (int64_t r = 0; r < sp.ff; ++r) {
      double gs = 0, us = 0;
      for (int64_t c = 0; c < hidden; ++c) {
        gs += gd[r * hidden + c] * double(x[c]);
        us += ud[r * hidden + c] * double(x[c]);
      }
      h[r] = gs / (1 + std::exp(-gs)) * us;
    }
    for (int64_t r = 0; r < hidden; ++r) {
      double o = 0;
      for (int64_t c = 0; c < sp.ff; ++c) o += dd[r * sp.ff + c] * h[c];
      ref[r] += sp.weight * o;
    }
  }
  double max_ref = 0;
  for (double v : ref) max_ref = std::max(max_ref, std::fabs(v));
  ASSERT_GT(max_ref, 0.0);
  auto pool = ThreadPool::Create({2, false});
  ASSERT_TRUE(pool.ok());
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (!HostSupports(isa)) continue;
    std::vector<float> y(hidden, -2.0f);
    MoeScratch scratch;
    ASSERT_TRUE(ExpertFfns(**pool, CpuKernels(isa), experts, x.data(), y.data(), scratch).ok());
    for (int64_t r = 0; r < hidden; ++r)
      EXPECT_NEAR(y[r] + 2.0f, ref[r], 3e-2 * max_ref) << IsaName(isa) << " row " << r;
  }
  // Shapes that do not chain are an error, not a wrong read.
  std::vector<ExpertFfn> bad = {experts[0]};
  bad[0].down.cols = 32;
  std::vector<float> y(hidden);
  MoeScratch scratch;
  EXPECT_EQ(ExpertFfns(**pool, CpuKernels(Isa::kGeneric), bad, x.data(), y.data(), scratch).code(),
            StatusCode::kInvalidArgument);
}

TEST(MatVecsTest, MatchesOneMatVecPerMatrix) {
  const int64_t cols = 512;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(cols);
  for (float& v : x) v = normal(rng);
  const std::pair<GgmlType, int64_t> specs[] = {
      {GgmlType::kQ4_K, 40}, {GgmlType::kQ5_0, 19}, {GgmlType::kF32, 7}, {GgmlType::kQ6_K, 33}};
  std::vector<std::vector<uint8_t>> storage;
  std::vector<QuantMatrix> ws;
  for (const auto& [type, rows] : specs) {
    std::vector<float> w(rows * cols);
    for (float& v : w) v = normal(rng);
    storage.push_back(QuantizeMatrix(type, w, rows, cols));
    ws.push_back({type, storage.back().data(), rows, cols, *quant::RowBytes(type, cols)});
  }
  auto pool = ThreadPool::Create({2, false});
  ASSERT_TRUE(pool.ok());
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (!HostSupports(isa)) continue;
    CpuKernels kernels(isa);
    std::vector<std::vector<float>> one(ws.size()), all(ws.size());
    std::vector<float*> outs;
    for (size_t i = 0; i < ws.size(); ++i) {
      one[i].resize(ws[i].rows);
      all[i].assign(ws[i].rows, NAN);
      ASSERT_TRUE(MatVec(**pool, kernels, ws[i], x.data(), one[i].data()).ok());
      outs.push_back(all[i].data());
    }
    ASSERT_TRUE(MatVecs(**pool, kernels, ws, x.data(), outs).ok());
    for (size_t i = 0; i < ws.size(); ++i)
      for (int64_t r = 0; r < ws[i].rows; ++r) EXPECT_EQ(all[i][r], one[i][r]) << IsaName(isa) << " matrix " << i;
  }
  QuantMatrix narrow = ws[0];
  narrow.cols = 256;
  std::vector<QuantMatrix> mixed = {ws[0], narrow};
  std::vector<float> a(ws[0].rows), b(ws[0].rows);
  std::vector<float*> outs = {a.data(), b.data()};
  EXPECT_EQ(MatVecs(**pool, CpuKernels(Isa::kGeneric), mixed, x.data(), outs).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kt::cpu
