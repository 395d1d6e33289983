#include "compiler/gguf_model/deepseek_gguf.h"

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "compiler/gen/gen.h"
#include "runtime/kv/mla_kv_cache.h"
#include "runtime/reference/forward.h"

namespace kt::gguf_model {
namespace {

std::string Generate(const std::string& preset, gen::WeightType type, bool legacy) {
  gen::GenOptions o;
  o.preset = preset;
  o.type = type;
  o.legacy_kv_b = legacy;
  o.threads = 2;
  o.config_out = std::string(1, '-');  // no config.json
  std::string name = "kt_gguf_model_";
  name += preset;
  name += legacy ? "_legacy_" : "_";
  name += gen::WeightTypeName(type);
  name += ".gguf";
  o.output = (std::filesystem::temp_directory_path() / name).string();
  const Status s = gen::GenerateModel(o);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return o.output;
}

void ExpectConfigMatchesPreset(const std::string& preset, bool legacy) {
  SCOPED_TRACE(preset);
  SCOPED_TRACE(legacy ? "legacy kv_b" : "split k_b/v_b");
  const std::string path = Generate(preset, gen::WeightType::kF32, legacy);
  auto m = GgufDeepseekModel::Open(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const gen::ModelSpec s = *gen::FindPreset(preset);
  const model::DeepseekConfig& c = (*m)->config;
  EXPECT_EQ(c.hidden, s.n_embd);
  EXPECT_EQ(c.n_layer, s.n_layer);
  EXPECT_EQ(c.n_head, s.n_head);
  EXPECT_EQ(c.q_lora_rank, s.q_lora_rank);
  EXPECT_EQ(c.kv_lora_rank, s.kv_lora_rank);
  EXPECT_EQ(c.qk_nope_dim, s.qk_nope_head_dim);
  EXPECT_EQ(c.qk_rope_dim, s.qk_rope_head_dim);
  EXPECT_EQ(c.v_head_dim, s.v_head_dim);
  EXPECT_EQ(c.n_dense_lead, s.n_dense_lead);
  EXPECT_EQ(c.dense_ff, s.dense_ff);
  EXPECT_EQ(c.n_expert, s.n_expert);
  EXPECT_EQ(c.n_expert_used, s.n_expert_used);
  EXPECT_EQ(c.n_expert_shared, s.n_expert_shared);
  EXPECT_EQ(c.expert_ff, s.expert_ff);
  EXPECT_EQ(static_cast<uint32_t>(c.gating), static_cast<uint32_t>(s.gating));
  EXPECT_EQ(c.has_score_bias, s.exp_probs_b);
  EXPECT_EQ(c.n_group, s.n_group);
  EXPECT_EQ(c.n_group_used, s.n_group_used);
  EXPECT_EQ(c.norm_topk, s.norm_topk);
  EXPECT_EQ(c.routed_scale, s.routed_scale);
  EXPECT_EQ(c.rms_eps, s.rms_eps);
  EXPECT_EQ(c.rope_theta, s.rope_theta);
  EXPECT_EQ(c.yarn_factor, s.yarn_factor);
  EXPECT_EQ(c.yarn_orig_ctx, s.yarn_orig_ctx);
  EXPECT_NEAR(c.mscale_all_dim(), s.yarn_mscale_all_dim, 1e-6);

  // The file's tensors bind and run; both MLA forms agree on it.
  auto ref = reference::ReferenceModel::Create(c, (*m)->table);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  const std::vector<int32_t> tokens = {1, 20, 300, 4};
  const std::vector<uint32_t> pos = {0, 1, 2, 3};
  std::vector<float> naive, absorbed;
  for (auto [form, out] : {std::pair{reference::MlaForm::kNaive, &naive},
                           std::pair{reference::MlaForm::kAbsorbed, &absorbed}}) {
    auto cache = kv::MlaKvCache::Create(c.n_layer, 8, c.kv_lora_rank, c.qk_rope_dim);
    ASSERT_TRUE(cache.ok());
    const Status st = ref->Forward(tokens, pos, *cache, form, out);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  float scale = 0, diff = 0;
  for (size_t i = 0; i < naive.size(); ++i) {
    scale = std::max(scale, std::abs(naive[i]));
    diff = std::max(diff, std::abs(naive[i] - absorbed[i]));
  }
  EXPECT_GT(scale, 0.0f);
  EXPECT_LT(diff, 1e-5f * scale);
  std::filesystem::remove(path);
}

TEST(DeepseekGgufTest, TinyV3ConfigAndForward) { ExpectConfigMatchesPreset("tiny-v3", false); }
TEST(DeepseekGgufTest, TinyV3LegacyKvB) { ExpectConfigMatchesPreset("tiny-v3", true); }
TEST(DeepseekGgufTest, TinyV2LiteConfigAndForward) { ExpectConfigMatchesPreset("tiny-v2-lite", false); }

TEST(DeepseekGgufTest, MissingFileIsAnError) {
  auto m = GgufDeepseekModel::Open("/nonexistent/model.gguf");
  EXPECT_FALSE(m.ok());
}

}  // namespace
}  // namespace kt::gguf_model
