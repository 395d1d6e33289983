#include "runtime/sampler/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace kt {
namespace {

TEST(SamplerTest, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler s(SamplerOptions{});
  std::vector<float> logits = {0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.Sample(logits, {}), 1);
}

TEST(SamplerTest, RepetitionPenaltyChangesGreedyChoice) {
  SamplerOptions o;
  o.repetition_penalty = 2.0f;
  Sampler s(o);
  std::vector<float> logits = {2.0f, 1.5f, -3.0f};
  std::vector<int32_t> history = {0, 0};
  EXPECT_EQ(s.Sample(logits, history), 1);  // 2.0 / 2 = 1.0 < 1.5
}

TEST(SamplerTest, SameSeedSameSequenceDifferentSeedDiffers) {
  SamplerOptions o;
  o.temperature = 1.0f;
  o.seed = 42;
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = 0.01f * static_cast<float>(i);
  Sampler a(o), b(o);
  o.seed = 43;
  Sampler c(o);
  int differ = 0;
  for (int i = 0; i < 64; ++i) {
    int32_t ta = a.Sample(logits, {}), tb = b.Sample(logits, {}), tc = c.Sample(logits, {});
    EXPECT_EQ(ta, tb);
    differ += ta != tc;
  }
  EXPECT_GT(differ, 0);
}

TEST(SamplerTest, TopKRestrictsCandidates) {
  SamplerOptions o;
  o.temperature = 5.0f;
  o.top_k = 2;
  o.seed = 1;
  Sampler s(o);
  std::vector<float> logits = {0.0f, 4.0f, 3.9f, 0.1f, 0.2f};
  for (int i = 0; i < 200; ++i) {
    int32_t t = s.Sample(logits, {});
    EXPECT_TRUE(t == 1 || t == 2) << t;
  }
}

TEST(SamplerTest, TopPAndMinPRestrictCandidates) {
  std::vector<float> logits = {5.0f, 4.9f, 0.0f, -1.0f};
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_p = 0.9f;
  o.seed = 3;
  Sampler top_p(o);
  o.top_p = 1.0f;
  o.min_p = 0.5f;
  Sampler min_p(o);
  for (int i = 0; i < 200; ++i) {
    EXPECT_LT(top_p.Sample(logits, {}), 2);
    EXPECT_LT(min_p.Sample(logits, {}), 2);
  }
}

TEST(SamplerTest, TemperatureOneFollowsSoftmax) {
  SamplerOptions o;
  o.temperature = 1.0f;
  o.seed = 7;
  Sampler s(o);
  std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 0.25, 0.75
  std::map<int32_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++counts[s.Sample(logits, {})];
  EXPECT_NEAR(counts[1] / double(draws), 0.75, 0.02);
}

TEST(SamplerTest, ValidationRejectsBadValues) {
  SamplerOptions o;
  o.top_p = 0.0f;
  EXPECT_EQ(ValidateSamplerOptions(o).code(), StatusCode::kInvalidArgument);
  o = SamplerOptions{};
  o.temperature = -1.0f;
  EXPECT_FALSE(ValidateSamplerOptions(o).ok());
  o = SamplerOptions{};
  o.min_p = 2.0f;
  EXPECT_FALSE(ValidateSamplerOptions(o).ok());
  EXPECT_TRUE(ValidateSamplerOptions(SamplerOptions{}).ok());
}

}  // namespace
}  // namespace kt
