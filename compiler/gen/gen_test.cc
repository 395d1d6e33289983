#include "compiler/gen/gen.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <unistd.h>

#include "compiler/gen/tokenizer.h"
#include "compiler/gguf/gguf.h"

namespace kt::gen {
namespace {

using quant::GgmlType;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/kt_gen_test_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string Generate(const std::string& preset, WeightType type, uint64_t seed, bool legacy = false) {
  GenOptions o;
  o.preset = preset;
  o.type = type;
  o.seed = seed;
  o.legacy_kv_b = legacy;
  o.threads = 2;
  o.output = TempPath(preset + "_" + WeightTypeName(type) + "_" + std::to_string(seed) + (legacy ? "_l" : "") +
                      ".gguf");
  Status st = GenerateModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return o.output;
}

TEST(GenTest, SameSeedSameBytesDifferentSeedDifferentBytes) {
  const std::string a = Generate("tiny-v3", WeightType::kQ4_K_M, 1);
  const std::string a_bytes = ReadAll(a);
  std::remove(a.c_str());
  const std::string b_bytes = ReadAll(Generate("tiny-v3", WeightType::kQ4_K_M, 1));
  const std::string c = Generate("tiny-v3", WeightType::kQ4_K_M, 2);
  const std::string c_bytes = ReadAll(c);
  ASSERT_GT(a_bytes.size(), 100000u);
  EXPECT_EQ(a_bytes, b_bytes);
  ASSERT_EQ(a_bytes.size(), c_bytes.size());  // same shapes and types
  EXPECT_NE(a_bytes, c_bytes);
  std::remove(c.c_str());
}

TEST(GenTest, ThreadCountDoesNotChangeBytes) {
  GenOptions o;
  o.preset = "tiny-v3";
  o.type = WeightType::kQ8_0;
  o.config_out = "-";
  o.threads = 1;
  o.output = TempPath("t1.gguf");
  ASSERT_TRUE(GenerateModel(o).ok());
  o.threads = 3;
  o.output = TempPath("t3.gguf");
  ASSERT_TRUE(GenerateModel(o).ok());
  EXPECT_EQ(ReadAll(TempPath("t1.gguf")), ReadAll(TempPath("t3.gguf")));
  std::remove(TempPath("t1.gguf").c_str());
  std::remove(TempPath("t3.gguf").c_str());
}

void CheckTiny(const std::string& preset, bool legacy) {
  const ModelSpec s = *FindPreset(preset);
  const std::string path = Generate(preset, WeightType::kF32, 0, legacy);
  StatusOr<gguf::GgufFile> f = gguf::GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f->GetString("general.architecture"), "deepseek2");
  EXPECT_EQ(*f->GetUint("deepseek2.block_count"), s.n_layer);
  EXPECT_EQ(*f->GetUint("deepseek2.embedding_length"), s.n_embd);
  EXPECT_EQ(*f->GetUint("deepseek2.expert_count"), s.n_expert);
  EXPECT_EQ(*f->GetUint("deepseek2.expert_gating_func"), static_cast<uint64_t>(s.gating));
  EXPECT_EQ(*f->GetUint("deepseek2.leading_dense_block_count"), s.n_dense_lead);
  EXPECT_EQ(*f->GetString("deepseek2.rope.scaling.type"), "yarn");
  EXPECT_EQ(*f->GetUint("general.file_type"), 0u);
  EXPECT_EQ(f->Find("deepseek2.attention.q_lora_rank") != nullptr, s.q_lora_rank > 0);
  EXPECT_EQ(*f->GetUint("deepseek2.attention.head_count_kv"), legacy ? s.n_head : 1u);
  EXPECT_EQ(*f->GetUint("deepseek2.attention.key_length"),
            legacy ? s.head_k_dim() : s.kv_lora_rank + s.qk_rope_head_dim);
  EXPECT_EQ(f->Find("deepseek2.attention.key_length_mla") != nullptr, !legacy);
  const uint64_t n_vocab = *f->GetUint("deepseek2.vocab_size");
  EXPECT_EQ(f->Find("tokenizer.ggml.tokens")->elems.size(), n_vocab);

  const gguf::GgufTensorInfo* emb = f->FindTensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->ne, (std::vector<uint64_t>{s.n_embd, n_vocab}));
  const std::string last = "blk." + std::to_string(s.n_layer - 1) + ".";
  const gguf::GgufTensorInfo* down = f->FindTensor(last + "ffn_down_exps.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ne, (std::vector<uint64_t>{s.expert_ff, s.n_embd, s.n_expert}));
  EXPECT_EQ(f->FindTensor("blk.0.ffn_down.weight") != nullptr, s.n_dense_lead > 0);
  EXPECT_EQ(f->FindTensor(last + "exp_probs_b.bias") != nullptr, s.exp_probs_b);
  EXPECT_EQ(f->FindTensor(last + "attn_q.weight") != nullptr, s.q_lora_rank == 0);
  if (legacy) {
    EXPECT_EQ(f->FindTensor(last + "attn_k_b.weight"), nullptr);
    const gguf::GgufTensorInfo* kvb = f->FindTensor(last + "attn_kv_b.weight");
    ASSERT_NE(kvb, nullptr);
    EXPECT_EQ(kvb->ne, (std::vector<uint64_t>{s.kv_lora_rank, s.n_head * (s.qk_nope_head_dim + s.v_head_dim)}));
  } else {
    const gguf::GgufTensorInfo* kb = f->FindTensor(last + "attn_k_b.weight");
    ASSERT_NE(kb, nullptr);
    EXPECT_EQ(kb->ne, (std::vector<uint64_t>{s.qk_nope_head_dim, s.kv_lora_rank, s.n_head}));
    const gguf::GgufTensorInfo* vb = f->FindTensor(last + "attn_v_b.weight");
    ASSERT_NE(vb, nullptr);
    EXPECT_EQ(vb->ne, (std::vector<uint64_t>{s.kv_lora_rank, s.v_head_dim, s.n_head}));
  }
  // Norm weights are near 1, matrices centred near 0.
  const gguf::GgufTensorInfo* norm = f->FindTensor("blk.0.attn_norm.weight");
  const float* nv = reinterpret_cast<const float*>(f->TensorData(*norm));
  for (uint64_t i = 0; i < norm->ne[0]; ++i) EXPECT_NEAR(nv[i], 1.0f, 0.2f);
  std::remove(path.c_str());
  std::remove(DefaultConfigPath(path).c_str());
}

TEST(GenTest, TinyV3ShapesAndMetadata) { CheckTiny("tiny-v3", false); }
TEST(GenTest, TinyV2LiteShapesAndMetadata) { CheckTiny("tiny-v2-lite", false); }
TEST(GenTest, TinyV3LegacyLayout) { CheckTiny("tiny-v3", true); }

TEST(GenTest, Q4KMTypesFollowLlamaCppMix) {
  // tiny-v3: 4 layers -> use_more_bits on layers 2 and 3; expert_ff 128 and
  // q_lora 128 do not fit 256-blocks.
  const std::string path = Generate("tiny-v3", WeightType::kQ4_K_M, 0);
  StatusOr<gguf::GgufFile> f = gguf::GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto type_of = [&](const std::string& name) {
    const gguf::GgufTensorInfo* t = f->FindTensor(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? t->type : GgmlType::kI8;
  };
  EXPECT_EQ(*f->GetUint("general.file_type"), 15u);
  EXPECT_EQ(type_of("output.weight"), GgmlType::kQ6_K);
  EXPECT_EQ(type_of("token_embd.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("output_norm.weight"), GgmlType::kF32);
  EXPECT_EQ(type_of("blk.1.ffn_gate_inp.weight"), GgmlType::kF32);
  EXPECT_EQ(type_of("blk.1.exp_probs_b.bias"), GgmlType::kF32);
  EXPECT_EQ(type_of("blk.1.attn_q_a_norm.weight"), GgmlType::kF32);
  EXPECT_EQ(type_of("blk.0.attn_q_a.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.0.attn_q_b.weight"), GgmlType::kQ5_0);   // ne[0] = q_lora 128
  EXPECT_EQ(type_of("blk.0.attn_k_b.weight"), GgmlType::kQ5_0);   // ne[0] = nope 32
  EXPECT_EQ(type_of("blk.0.attn_v_b.weight"), GgmlType::kQ5_0);   // not "attn_v.weight"; ne[0] = 128
  EXPECT_EQ(type_of("blk.0.ffn_down.weight"), GgmlType::kQ4_K);   // layer 0: no extra bits, ne[0] 512
  EXPECT_EQ(type_of("blk.1.ffn_down_exps.weight"), GgmlType::kQ5_0);
  EXPECT_EQ(type_of("blk.2.ffn_down_exps.weight"), GgmlType::kQ8_0);  // Q6_K falls back
  EXPECT_EQ(type_of("blk.3.ffn_down_shexp.weight"), GgmlType::kQ8_0);
  EXPECT_EQ(type_of("blk.3.ffn_gate_exps.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.3.attn_output.weight"), GgmlType::kQ5_0);   // ne[0] = 4 * 32
  std::remove(path.c_str());
  std::remove(DefaultConfigPath(path).c_str());
}

TEST(GenTest, Q4KMFullSizePlans) {
  // V2-Lite (27 layers): the expert down projections (ne[0] 1408) fall back.
  const ModelSpec v2 = *FindPreset("v2-lite");
  StatusOr<std::vector<TensorPlan>> plan = PlanTensors(v2, 102400, WeightType::kQ4_K_M);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto type_of = [&](const std::string& name) {
    for (const TensorPlan& t : *plan)
      if (t.name == name) return t.type;
    ADD_FAILURE() << name;
    return GgmlType::kI8;
  };
  // use_more_bits(i, 27): i < 3, i >= 23, or (i - 3) % 3 == 2.
  EXPECT_EQ(type_of("blk.0.ffn_down.weight"), GgmlType::kQ8_0);  // ne[0] 10944 is not a multiple of 256
  EXPECT_EQ(type_of("blk.1.ffn_down_exps.weight"), GgmlType::kQ8_0);
  EXPECT_EQ(type_of("blk.3.ffn_down_exps.weight"), GgmlType::kQ5_0);
  EXPECT_EQ(type_of("blk.5.ffn_down_exps.weight"), GgmlType::kQ8_0);
  EXPECT_EQ(type_of("blk.5.ffn_down_shexp.weight"), GgmlType::kQ6_K);  // ne[0] 2816 = 11 * 256
  EXPECT_EQ(type_of("blk.6.ffn_down_shexp.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.4.attn_q.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.4.attn_k_b.weight"), GgmlType::kQ5_0);  // ne[0] 128
  EXPECT_EQ(type_of("blk.4.attn_v_b.weight"), GgmlType::kQ4_K);  // ne[0] 512
  EXPECT_EQ(type_of("output.weight"), GgmlType::kQ6_K);

  ModelSpec legacy = v2;
  legacy.legacy_kv_b = true;
  plan = PlanTensors(legacy, 102400, WeightType::kQ4_K_M);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(type_of("blk.0.attn_kv_b.weight"), GgmlType::kQ6_K);
  EXPECT_EQ(type_of("blk.3.attn_kv_b.weight"), GgmlType::kQ4_K);
  EXPECT_EQ(type_of("blk.5.attn_kv_b.weight"), GgmlType::kQ6_K);
}

TEST(GenTest, BpeVocabIsWellFormed) {
  StatusOr<Vocab> v = BuildVocab(1280, 0);
  ASSERT_TRUE(v.ok());
  ASSERT_GT(v->tokens.size(), 700u);
  ASSERT_EQ(v->tokens.size(), v->types.size());
  for (int b = 0; b < 256; ++b) EXPECT_EQ(v->tokens[b], ByteToUnicode(static_cast<uint8_t>(b)));
  std::set<std::string> seen;
  for (const std::string& t : v->tokens) EXPECT_TRUE(seen.insert(t).second) << "duplicate token " << t;
  ASSERT_FALSE(v->merges.empty());
  for (const std::string& m : v->merges) {
    const size_t sp = m.find(' ');
    ASSERT_NE(sp, std::string::npos) << m;
    EXPECT_EQ(m.find(' ', sp + 1), std::string::npos) << m;
    const std::string left = m.substr(0, sp), right = m.substr(sp + 1);
    EXPECT_TRUE(seen.count(left)) << m;
    EXPECT_TRUE(seen.count(right)) << m;
    EXPECT_TRUE(seen.count(left + right)) << m;
  }
  EXPECT_EQ(v->tokens[v->bos_id], kBosToken);
  EXPECT_EQ(v->tokens[v->eos_id], kEosToken);
  EXPECT_EQ(v->types[v->bos_id], kTokenControl);
  // Deterministic, and padding adds unused placeholders only.
  StatusOr<Vocab> padded = BuildVocab(1280, 4096);
  ASSERT_TRUE(padded.ok());
  ASSERT_EQ(padded->tokens.size(), 4096u);
  for (size_t i = 0; i < v->tokens.size(); ++i) ASSERT_EQ(padded->tokens[i], v->tokens[i]);
  for (size_t i = v->tokens.size(); i < 4096; ++i) ASSERT_EQ(padded->types[i], kTokenUnused);
  EXPECT_FALSE(BuildVocab(1280, 10).ok());
}

TEST(GenTest, BadOptionsAreErrors) {
  GenOptions o;
  o.output = TempPath("bad.gguf");
  o.preset = "no-such-preset";
  EXPECT_FALSE(GenerateModel(o).ok());
  o.preset = "tiny-v3";
  o.layers = 0;
  EXPECT_FALSE(GenerateModel(o).ok());
  o.layers.reset();
  o.output = "/nonexistent-dir/x.gguf";
  EXPECT_FALSE(GenerateModel(o).ok());
}

TEST(GenTest, ConfigJsonIsConsistent) {
  GenOptions o;
  o.preset = "tiny-v2-lite";
  o.output = TempPath("cfg.gguf");
  ASSERT_TRUE(GenerateModel(o).ok());
  const std::string json = ReadAll(DefaultConfigPath(o.output));
  EXPECT_NE(json.find("\"DeepseekV2ForCausalLM\""), std::string::npos);
  EXPECT_NE(json.find("\"q_lora_rank\": null"), std::string::npos);
  EXPECT_NE(json.find("\"num_hidden_layers\": 27"), std::string::npos);
  EXPECT_NE(json.find("\"tie_word_embeddings\": false"), std::string::npos);
  std::remove(o.output.c_str());
  std::remove(DefaultConfigPath(o.output).c_str());
}

}  // namespace
}  // namespace kt::gen
