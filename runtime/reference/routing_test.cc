#include "runtime/reference/routing.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace kt::reference {
namespace {

model::DeepseekConfig Routing(uint32_t n_expert, uint32_t used) {
  model::DeepseekConfig c;
  c.n_expert = n_expert;
  c.n_expert_used = used;
  return c;
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(RoutingTest, SoftmaxTopKWithoutNormalization) {
  const model::DeepseekConfig c = Routing(4, 2);
  const std::vector<float> logits = {0.0f, 1.0f, 3.0f, 2.0f};
  const Route r = RouteToken(c, logits, {});
  ASSERT_EQ(r.experts, (std::vector<uint32_t>{2, 3}));
  const double z = 1 + std::exp(1.0) + std::exp(3.0) + std::exp(2.0);
  EXPECT_NEAR(r.weights[0], std::exp(3.0) / z, 1e-6);
  EXPECT_NEAR(r.weights[1], std::exp(2.0) / z, 1e-6);
}

TEST(RoutingTest, BiasSelectsButDoesNotWeigh) {
  model::DeepseekConfig c = Routing(4, 2);
  c.gating = model::GatingFunc::kSigmoid;
  c.has_score_bias = true;
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f};
  const std::vector<float> bias = {0.0f, 0.0f, 0.0f, 1.0f};  // lifts expert 3 to the top
  const Route r = RouteToken(c, logits, bias);
  // Selection scores: 0.88, 0.73, 0.5, 0.27 + 1 = 1.27.
  ASSERT_EQ(r.experts, (std::vector<uint32_t>{3, 0}));
  EXPECT_NEAR(r.weights[0], Sigmoid(-1.0), 1e-6);  // unbiased
  EXPECT_NEAR(r.weights[1], Sigmoid(2.0), 1e-6);
}

TEST(RoutingTest, NormalizeThenScale) {
  model::DeepseekConfig c = Routing(4, 2);
  c.gating = model::GatingFunc::kSigmoid;
  c.norm_topk = true;
  c.routed_scale = 2.5f;
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -1.0f};
  const Route r = RouteToken(c, logits, {});
  ASSERT_EQ(r.experts, (std::vector<uint32_t>{0, 1}));
  const double s = Sigmoid(2.0) + Sigmoid(1.0);
  EXPECT_NEAR(r.weights[0], 2.5 * Sigmoid(2.0) / s, 1e-6);
  EXPECT_NEAR(r.weights[1], 2.5 * Sigmoid(1.0) / s, 1e-6);
  EXPECT_NEAR(r.weights[0] + r.weights[1], 2.5, 1e-6);
}

TEST(RoutingTest, ScaleWithoutNormalization) {
  model::DeepseekConfig c = Routing(3, 1);
  c.routed_scale = 16.0f;  // DeepSeek-V2 (full) style
  const Route r = RouteToken(c, std::vector<float>{0.0f, 0.0f, std::log(2.0f)}, {});
  ASSERT_EQ(r.experts, (std::vector<uint32_t>{2}));
  EXPECT_NEAR(r.weights[0], 16.0 * 0.5, 1e-5);
}

// Eight experts in four groups of two: {0,1} {2,3} {4,5} {6,7}.
// Selection scores (sigmoid + bias) are arranged so that the single best
// expert (0) sits in a group whose top-2 sum is poor.
TEST(RoutingTest, GroupsByTopTwoSumMaskOtherGroups) {
  model::DeepseekConfig c = Routing(8, 3);
  c.gating = model::GatingFunc::kSigmoid;
  c.has_score_bias = true;
  c.n_group = 4;
  c.n_group_used = 2;
  c.group_score = model::GroupScore::kTop2Sum;
  // Work in selection-score space directly: zero logits give sigmoid 0.5 and
  // the bias sets each expert's score.
  const std::vector<float> logits(8, 0.0f);
  // Scores are 0.5 + bias; top-2 sums: 1.4, 1.6, 1.45, 1.35; maxima: 1.4, 0.8, 0.75, 0.85.
  const std::vector<float> bias = {0.9f, -0.5f,   // group 0: best single expert
                                   0.3f, 0.3f,    // group 1: best pair
                                   0.2f, 0.25f,   // group 2
                                   0.35f, 0.0f};  // group 3
  const Route r = RouteToken(c, logits, bias);
  // Kept groups: 1 and 2; expert 0 is excluded despite its score.
  ASSERT_EQ(r.experts, (std::vector<uint32_t>{2, 3, 5}));
  for (float w : r.weights) EXPECT_NEAR(w, 0.5, 1e-6);  // unbiased sigmoid(0)

  // With the max rule (DeepSeek-V2) groups 0 and 3 are kept.
  c.group_score = model::GroupScore::kMax;
  const Route r2 = RouteToken(c, logits, bias);
  ASSERT_EQ(r2.experts, (std::vector<uint32_t>{0, 6, 7}));
}

TEST(RoutingTest, SingleGroupIsPlainTopK) {
  model::DeepseekConfig c = Routing(6, 2);
  const std::vector<float> logits = {0.1f, 0.5f, 0.2f, 0.9f, 0.3f, 0.0f};
  EXPECT_EQ(RouteToken(c, logits, {}).experts, (std::vector<uint32_t>{3, 1}));
}

}  // namespace
}  // namespace kt::reference
