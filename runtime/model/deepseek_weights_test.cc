#include "runtime/model/deepseek_weights.h"

#include <vector>

#include <gtest/gtest.h>

namespace kt::model {
namespace {

DeepseekConfig Small() {
  DeepseekConfig c;
  c.hidden = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.kv_lora_rank = 4;
  c.qk_nope_dim = 2;
  c.qk_rope_dim = 2;
  c.v_head_dim = 2;
  c.vocab = 5;
  c.n_dense_lead = 1;
  c.dense_ff = 4;
  return c;
}

// Every tensor of Small() in the split layout, backed by one zero buffer.
struct Table {
  std::vector<float> zeros = std::vector<float>(1024, 0.0f);
  MapWeightTable table;
  void Add(const std::string& name, std::array<int64_t, 4> ne) {
    table.Add(name, {quant::GgmlType::kF32, ne, zeros.data(), zeros.size() * sizeof(float)});
  }
  Table() {
    Add("token_embd.weight", {8, 5, 1, 1});
    Add("output_norm.weight", {8, 1, 1, 1});
    Add("blk.0.attn_norm.weight", {8, 1, 1, 1});
    Add("blk.0.attn_q.weight", {8, 8, 1, 1});
    Add("blk.0.attn_kv_a_mqa.weight", {8, 6, 1, 1});
    Add("blk.0.attn_kv_a_norm.weight", {4, 1, 1, 1});
    Add("blk.0.attn_k_b.weight", {2, 4, 2, 1});
    Add("blk.0.attn_v_b.weight", {4, 2, 2, 1});
    Add("blk.0.attn_output.weight", {4, 8, 1, 1});
    Add("blk.0.ffn_norm.weight", {8, 1, 1, 1});
    Add("blk.0.ffn_gate.weight", {8, 4, 1, 1});
    Add("blk.0.ffn_up.weight", {8, 4, 1, 1});
    Add("blk.0.ffn_down.weight", {4, 8, 1, 1});
  }
};

TEST(DeepseekWeightsTest, BindsAndTiesOutputToEmbedding) {
  Table t;
  auto w = BindDeepseekWeights(Small(), t.table);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->output.data, w->token_embd.data);
  EXPECT_TRUE(w->layers[0].k_b.has_value());
  EXPECT_FALSE(w->layers[0].kv_b.has_value());
}

TEST(DeepseekWeightsTest, MissingTensorIsNamed) {
  Table t;
  MapWeightTable partial;
  for (const char* name : {"token_embd.weight", "output_norm.weight", "blk.0.attn_norm.weight"}) {
    partial.Add(name, *t.table.Find(name));
  }
  auto w = BindDeepseekWeights(Small(), partial);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_NE(w.status().message().find("blk.0.attn_q.weight"), std::string::npos) << w.status().message();
}

TEST(DeepseekWeightsTest, WrongShapeAndTruncationAreErrors) {
  Table t;
  t.Add("blk.0.attn_kv_a_mqa.weight", {8, 7, 1, 1});
  auto w = BindDeepseekWeights(Small(), t.table);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("{8, 7}, expected {8, 6}"), std::string::npos) << w.status().message();

  Table t2;
  t2.table.Add("token_embd.weight", {quant::GgmlType::kF32, {8, 5, 1, 1}, t2.zeros.data(), 39 * sizeof(float)});
  auto w2 = BindDeepseekWeights(Small(), t2.table);
  EXPECT_EQ(w2.status().code(), StatusCode::kDataLoss) << w2.status().ToString();
}

TEST(DeepseekWeightsTest, LegacyKvBLayout) {
  Table t;
  MapWeightTable legacy;
  for (const char* name : {"token_embd.weight", "output_norm.weight", "blk.0.attn_norm.weight",
                           "blk.0.attn_q.weight", "blk.0.attn_kv_a_mqa.weight", "blk.0.attn_kv_a_norm.weight",
                           "blk.0.attn_output.weight", "blk.0.ffn_norm.weight", "blk.0.ffn_gate.weight",
                           "blk.0.ffn_up.weight", "blk.0.ffn_down.weight"}) {
    legacy.Add(name, *t.table.Find(name));
  }
  legacy.Add("blk.0.attn_kv_b.weight", {quant::GgmlType::kF32, {4, 8, 1, 1}, t.zeros.data(), 4096});
  auto w = BindDeepseekWeights(Small(), legacy);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(w->layers[0].kv_b.has_value());
}

TEST(DeepseekConfigTest, ValidateRejectsInconsistentRouting) {
  DeepseekConfig c = Small();
  c.n_dense_lead = 0;
  c.n_expert = 6;
  c.n_expert_used = 2;
  c.expert_ff = 4;
  c.n_group = 4;  // 6 experts do not split into 4 groups
  EXPECT_FALSE(c.Validate().ok());
  c.n_group = 3;
  c.n_group_used = 1;
  c.n_expert_used = 3;  // more than the 2 experts of one kept group
  EXPECT_FALSE(c.Validate().ok());
  c.n_expert_used = 2;
  EXPECT_TRUE(c.Validate().ok()) << c.Validate().ToString();
}

}  // namespace
}  // namespace kt::model
