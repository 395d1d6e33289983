#include "runtime/reference/mla.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/reference/test_model.h"

namespace kt::reference {
namespace {

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Fills `n` cache positions of layer 0 with random latents and k_pe and returns
// a random query; then runs MlaAttend in the given form and layout.
class MlaTest : public ::testing::Test {
 protected:
  std::vector<float> Attend(MlaForm form, bool legacy, uint32_t n_keys) {
    testing::TinyModel m(testing::TinyConfig(), /*seed=*/7, legacy);
    auto weights = model::BindDeepseekWeights(m.config, m.table);
    EXPECT_TRUE(weights.ok()) << weights.status().ToString();
    auto cache = kv::MlaKvCache::Create(m.config.n_layer, 64, m.config.kv_lora_rank, m.config.qk_rope_dim);
    EXPECT_TRUE(cache.ok());
    std::mt19937 rng(3);
    std::normal_distribution<float> dist;
    std::vector<float> latent(m.config.kv_lora_rank), k_pe(m.config.qk_rope_dim);
    for (uint32_t p = 0; p < n_keys; ++p) {
      for (float& v : latent) v = dist(rng);
      for (float& v : k_pe) v = dist(rng);
      EXPECT_TRUE(cache->Write(0, p, latent, k_pe).ok());
    }
    std::vector<float> q(m.config.n_head * m.config.head_k_dim());
    for (float& v : q) v = 2.0f * dist(rng);  // large enough for a peaked softmax
    std::vector<uint32_t> keys(n_keys);
    for (uint32_t p = 0; p < n_keys; ++p) keys[p] = p;
    std::vector<float> out(m.config.n_head * m.config.v_head_dim);
    MlaAttend(form, m.config, MlaHeads(m.config, weights->layers[0]), *cache, 0, q, keys, out);
    return out;
  }
};

TEST_F(MlaTest, NaiveAndAbsorbedAgreeInBothLayouts) {
  for (uint32_t n_keys : {1u, 5u, 40u}) {
    const std::vector<float> naive_split = Attend(MlaForm::kNaive, false, n_keys);
    const std::vector<float> absorbed_split = Attend(MlaForm::kAbsorbed, false, n_keys);
    const std::vector<float> naive_legacy = Attend(MlaForm::kNaive, true, n_keys);
    const std::vector<float> absorbed_legacy = Attend(MlaForm::kAbsorbed, true, n_keys);
    float scale = 0.0f;
    for (float v : naive_split) scale = std::max(scale, std::abs(v));
    ASSERT_GT(scale, 0.1f);
    EXPECT_LT(MaxAbsDiff(naive_split, absorbed_split), 1e-5f * scale) << n_keys << " keys";
    EXPECT_LT(MaxAbsDiff(naive_split, naive_legacy), 1e-5f * scale) << n_keys << " keys";
    EXPECT_LT(MaxAbsDiff(naive_split, absorbed_legacy), 1e-5f * scale) << n_keys << " keys";
  }
}

TEST_F(MlaTest, OneKeyReturnsItsValue) {
  // With a single key the softmax weight is 1, so every head returns
  // W_vb,h · c_0, whatever the query.
  testing::TinyModel m(testing::TinyConfig(), 7, false);
  auto weights = model::BindDeepseekWeights(m.config, m.table);
  ASSERT_TRUE(weights.ok());
  auto cache = kv::MlaKvCache::Create(1 + m.config.n_layer, 4, m.config.kv_lora_rank, m.config.qk_rope_dim);
  ASSERT_TRUE(cache.ok());
  std::vector<float> latent(m.config.kv_lora_rank), k_pe(m.config.qk_rope_dim, 0.5f);
  for (size_t i = 0; i < latent.size(); ++i) latent[i] = std::sin(float(i));
  ASSERT_TRUE(cache->Write(0, 0, latent, k_pe).ok());
  const MlaHeads heads(m.config, weights->layers[0]);
  std::vector<float> q(m.config.n_head * m.config.head_k_dim(), 3.0f);
  std::vector<float> out(m.config.n_head * m.config.v_head_dim);
  const uint32_t key = 0;
  MlaAttend(MlaForm::kAbsorbed, m.config, heads, *cache, 0, q, std::span<const uint32_t>(&key, 1), out);
  std::vector<float> v(m.config.v_head_dim);
  for (uint32_t h = 0; h < m.config.n_head; ++h) {
    heads.Value(h, latent, v);
    for (uint32_t i = 0; i < m.config.v_head_dim; ++i) EXPECT_NEAR(out[h * m.config.v_head_dim + i], v[i], 1e-5);
  }
}

}  // namespace
}  // namespace kt::reference
