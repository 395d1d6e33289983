#include "runtime/reference/forward.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/reference/test_model.h"

namespace kt::reference {
namespace {

const std::vector<int32_t> kTokens = {3, 17, 42, 0, 9, 9, 31, 25, 48, 11, 7, 2};

std::vector<uint32_t> Positions(uint32_t first, size_t n) {
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = first + static_cast<uint32_t>(i);
  return p;
}

kv::MlaKvCache NewCache(const model::DeepseekConfig& c) {
  auto cache = kv::MlaKvCache::Create(c.n_layer, 32, c.kv_lora_rank, c.qk_rope_dim);
  EXPECT_TRUE(cache.ok()) << cache.status().ToString();
  return std::move(cache).value();
}

// Logits of kTokens evaluated as one batch.
std::vector<float> Prefill(const model::DeepseekConfig& c, bool legacy, MlaForm form) {
  testing::TinyModel m(c, 11, legacy);
  auto model = ReferenceModel::Create(m.config, m.table);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  kv::MlaKvCache cache = NewCache(c);
  std::vector<float> logits;
  const Status s = model->Forward(kTokens, Positions(0, kTokens.size()), cache, form, &logits);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return logits;
}

double RelError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - b[i]));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / scale;
}

TEST(ForwardTest, NaiveAndAbsorbedAgreeOnWholeModel) {
  for (bool legacy : {false, true}) {
    const std::vector<float> naive = Prefill(testing::TinyConfig(), legacy, MlaForm::kNaive);
    const std::vector<float> absorbed = Prefill(testing::TinyConfig(), legacy, MlaForm::kAbsorbed);
    ASSERT_EQ(naive.size(), kTokens.size() * 50);
    EXPECT_LT(RelError(absorbed, naive), 1e-5) << (legacy ? "legacy" : "split");
  }
}

TEST(ForwardTest, LegacyAndSplitLayoutsAgree) {
  EXPECT_LT(RelError(Prefill(testing::TinyConfig(), true, MlaForm::kAbsorbed),
                     Prefill(testing::TinyConfig(), false, MlaForm::kAbsorbed)),
            1e-5);
}

TEST(ForwardTest, IncrementalDecodeMatchesBatch) {
  const model::DeepseekConfig c = testing::TinyConfig();
  const std::vector<float> batch = Prefill(c, false, MlaForm::kAbsorbed);
  testing::TinyModel m(c, 11, false);
  auto model = ReferenceModel::Create(m.config, m.table);
  ASSERT_TRUE(model.ok());
  kv::MlaKvCache cache = NewCache(c);
  std::vector<float> logits, all;
  // A 5-token prefill, then one token at a time.
  ASSERT_TRUE(model->Forward(std::span(kTokens).first(5), Positions(0, 5), cache, MlaForm::kAbsorbed, &logits).ok());
  all = logits;
  for (size_t t = 5; t < kTokens.size(); ++t) {
    const uint32_t pos = static_cast<uint32_t>(t);
    ASSERT_TRUE(model->Forward(std::span(kTokens).subspan(t, 1), std::span(&pos, 1), cache, MlaForm::kNaive,
                               &logits).ok());
    all.insert(all.end(), logits.begin(), logits.end());
  }
  EXPECT_EQ(cache.length(), kTokens.size());
  EXPECT_LT(RelError(all, batch), 1e-5);
}

TEST(ForwardTest, ModelWithoutQLoraSoftmaxNoGroups) {
  model::DeepseekConfig c = testing::TinyConfig();
  c.q_lora_rank = 0;
  c.gating = model::GatingFunc::kSoftmax;
  c.has_score_bias = false;
  c.n_group = 1;
  c.n_group_used = 1;
  c.norm_topk = false;
  c.routed_scale = 1.0f;
  const std::vector<float> naive = Prefill(c, true, MlaForm::kNaive);
  const std::vector<float> absorbed = Prefill(c, false, MlaForm::kAbsorbed);
  EXPECT_LT(RelError(absorbed, naive), 1e-5);
  for (float v : absorbed) ASSERT_TRUE(std::isfinite(v));
}

TEST(ForwardTest, AttentionIsCausal) {
  // Changing a later token must not change earlier logits.
  const model::DeepseekConfig c = testing::TinyConfig();
  testing::TinyModel m(c, 11, false);
  auto model = ReferenceModel::Create(m.config, m.table);
  ASSERT_TRUE(model.ok());
  std::vector<int32_t> tokens = kTokens;
  std::vector<float> a, b;
  kv::MlaKvCache cache1 = NewCache(c), cache2 = NewCache(c);
  ASSERT_TRUE(model->Forward(tokens, Positions(0, tokens.size()), cache1, MlaForm::kAbsorbed, &a).ok());
  tokens.back() = 1;
  ASSERT_TRUE(model->Forward(tokens, Positions(0, tokens.size()), cache2, MlaForm::kAbsorbed, &b).ok());
  const size_t last = (tokens.size() - 1) * c.vocab;
  EXPECT_EQ(std::vector<float>(a.begin(), a.begin() + last), std::vector<float>(b.begin(), b.begin() + last));
  EXPECT_NE(std::vector<float>(a.begin() + last, a.end()), std::vector<float>(b.begin() + last, b.end()));
}

TEST(ForwardTest, BadInputsAreErrors) {
  const model::DeepseekConfig c = testing::TinyConfig();
  testing::TinyModel m(c, 11, false);
  auto model = ReferenceModel::Create(m.config, m.table);
  ASSERT_TRUE(model.ok());
  kv::MlaKvCache cache = NewCache(c);
  std::vector<float> logits;
  const std::vector<int32_t> bad_token = {50};
  const uint32_t pos0 = 0, pos3 = 3;
  Status s = model->Forward(bad_token, std::span(&pos0, 1), cache, MlaForm::kAbsorbed, &logits);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("token 50"), std::string::npos) << s.message();
  const std::vector<int32_t> one = {1};
  s = model->Forward(one, std::span(&pos3, 1), cache, MlaForm::kAbsorbed, &logits);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  const std::vector<int32_t> two = {1, 2};
  const std::vector<uint32_t> dup = {0, 0};
  EXPECT_EQ(model->Forward(two, dup, cache, MlaForm::kAbsorbed, &logits).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kt::reference
