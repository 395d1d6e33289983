#include "kernels/cpu/attend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace kt::cpu {
namespace {

// Every family against a double-precision loop, over head counts that do
// and do not fill a group, dims with and without a 16-float tail, and a row
// stride wider than dim (the cache rows carry k_pe after the latent).
TEST(AttendKernelsTest, MatchDoubleReference) {
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t dim : {576, 512, 100, 7}) {
    for (int64_t n_pos : {1, 3, 257}) {
      for (int n_q : {1, 3, 4, 8}) {
        const int64_t stride = dim + 64;
        std::vector<float> rows(n_pos * stride), q(n_q * dim), w(n_q * n_pos);
        for (float& v : rows) v = normal(rng);
        for (float& v : q) v = normal(rng);
        for (float& v : w) v = normal(rng);
        std::vector<double> want_s(n_q * n_pos), want_o(n_q * dim, 0.0);
        double mag_s = 0, mag_o = 0;
        for (int g = 0; g < n_q; ++g)
          for (int64_t p = 0; p < n_pos; ++p) {
            double s = 0;
            for (int64_t i = 0; i < dim; ++i) {
              s += double(q[g * dim + i]) * rows[p * stride + i];
              want_o[g * dim + i] += double(w[g * n_pos + p]) * rows[p * stride + i];
              mag_o = std::max(mag_o, std::fabs(double(w[g * n_pos + p]) * rows[p * stride + i]));
            }
            want_s[g * n_pos + p] = s;
            mag_s = std::max(mag_s, std::fabs(s));
          }
        for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
          if (!HostSupports(isa)) continue;
          const AttendKernels k = GetAttendKernels(isa);
          std::vector<float> s(n_q * n_pos, NAN), o(n_q * dim, NAN);
          k.multi_dot(rows.data(), n_pos, stride, dim, q.data(), n_q, s.data());
          k.weighted_sum(rows.data(), n_pos, stride, dim, w.data(), n_q, o.data());
          for (size_t i = 0; i < s.size(); ++i)
            ASSERT_NEAR(s[i], want_s[i], 1e-4 * (mag_s + dim)) << IsaName(isa) << " score " << i;
          for (size_t i = 0; i < o.size(); ++i)
            ASSERT_NEAR(o[i], want_o[i], 1e-4 * mag_o * n_pos) << IsaName(isa) << " out " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace kt::cpu
