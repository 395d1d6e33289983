// GGUF metadata as llama.cpp's deepseek2 loader reads it. Keys it requires
// in 2025 releases: the general LLM keys, leading_dense_block_count,
// q_lora_rank (unless the model has 27 layers), kv_lora_rank,
// expert_feed_forward_length, expert_shared_count, expert_weights_scale and
// rope.scaling.yarn_log_multiplier; the rest are optional but written so
// that every reader sees the full hyperparameters.
#include <cstdio>

#include "compiler/gen/gen_internal.h"

namespace kt::gen {

using gguf::GgufValue;

void AddModelKvs(gguf::GgufWriter& w, const ModelSpec& s, const Vocab& vocab, WeightType type) {
  const std::string a = "deepseek2.";
  w.AddKv("general.architecture", GgufValue::Str("deepseek2"));
  w.AddKv("general.name", GgufValue::Str("kt synthetic " + s.name));
  w.AddKv("general.file_type", GgufValue::U32(LlamaFileType(type)));
  w.AddKv("general.quantization_version", GgufValue::U32(2));

  w.AddKv(a + "context_length", GgufValue::U32(s.max_position));
  w.AddKv(a + "embedding_length", GgufValue::U32(s.n_embd));
  w.AddKv(a + "block_count", GgufValue::U32(s.n_layer));
  w.AddKv(a + "feed_forward_length", GgufValue::U32(s.dense_ff));
  w.AddKv(a + "vocab_size", GgufValue::U32(static_cast<uint32_t>(vocab.tokens.size())));
  w.AddKv(a + "attention.head_count", GgufValue::U32(s.n_head));
  if (s.legacy_kv_b) {
    // Legacy files describe the decompressed per-head K/V.
    w.AddKv(a + "attention.head_count_kv", GgufValue::U32(s.n_head));
    w.AddKv(a + "attention.key_length", GgufValue::U32(s.head_k_dim()));
    w.AddKv(a + "attention.value_length", GgufValue::U32(s.v_head_dim));
  } else {
    // Current files describe the one latent head MLA caches: [c_kv | k_pe].
    w.AddKv(a + "attention.head_count_kv", GgufValue::U32(1));
    w.AddKv(a + "attention.key_length", GgufValue::U32(s.kv_lora_rank + s.qk_rope_head_dim));
    w.AddKv(a + "attention.value_length", GgufValue::U32(s.kv_lora_rank));
    w.AddKv(a + "attention.key_length_mla", GgufValue::U32(s.head_k_dim()));
    w.AddKv(a + "attention.value_length_mla", GgufValue::U32(s.v_head_dim));
  }
  w.AddKv(a + "attention.layer_norm_rms_epsilon", GgufValue::F32(s.rms_eps));
  if (s.q_lora_rank > 0) w.AddKv(a + "attention.q_lora_rank", GgufValue::U32(s.q_lora_rank));
  w.AddKv(a + "attention.kv_lora_rank", GgufValue::U32(s.kv_lora_rank));
  w.AddKv(a + "leading_dense_block_count", GgufValue::U32(s.n_dense_lead));
  w.AddKv(a + "expert_count", GgufValue::U32(s.n_expert));
  w.AddKv(a + "expert_used_count", GgufValue::U32(s.n_expert_used));
  w.AddKv(a + "expert_shared_count", GgufValue::U32(s.n_expert_shared));
  w.AddKv(a + "expert_feed_forward_length", GgufValue::U32(s.expert_ff));
  w.AddKv(a + "expert_weights_scale", GgufValue::F32(s.routed_scale));
  w.AddKv(a + "expert_weights_norm", GgufValue::Bool(s.norm_topk));
  w.AddKv(a + "expert_gating_func", GgufValue::U32(static_cast<uint32_t>(s.gating)));
  w.AddKv(a + "expert_group_count", GgufValue::U32(s.n_group));
  w.AddKv(a + "expert_group_used_count", GgufValue::U32(s.n_group_used));
  w.AddKv(a + "rope.dimension_count", GgufValue::U32(s.qk_rope_head_dim));
  w.AddKv(a + "rope.freq_base", GgufValue::F32(s.rope_theta));
  w.AddKv(a + "rope.scaling.type", GgufValue::Str("yarn"));
  w.AddKv(a + "rope.scaling.factor", GgufValue::F32(s.yarn_factor));
  w.AddKv(a + "rope.scaling.original_context_length", GgufValue::U32(s.yarn_orig_ctx));
  w.AddKv(a + "rope.scaling.yarn_log_multiplier", GgufValue::F32(0.1f * s.yarn_mscale_all_dim));

  w.AddKv("tokenizer.ggml.model", GgufValue::Str("gpt2"));
  w.AddKv("tokenizer.ggml.pre", GgufValue::Str(s.pre_tokenizer));
  w.AddKv("tokenizer.ggml.tokens", GgufValue::StrArray(vocab.tokens));
  w.AddKv("tokenizer.ggml.token_type", GgufValue::I32Array(vocab.types));
  w.AddKv("tokenizer.ggml.merges", GgufValue::StrArray(vocab.merges));
  w.AddKv("tokenizer.ggml.bos_token_id", GgufValue::U32(vocab.bos_id));
  w.AddKv("tokenizer.ggml.eos_token_id", GgufValue::U32(vocab.eos_id));
  w.AddKv("tokenizer.ggml.add_bos_token", GgufValue::Bool(true));
  w.AddKv("tokenizer.ggml.add_eos_token", GgufValue::Bool(false));
  w.AddKv("tokenizer.chat_template", GgufValue::Str(std::string(ChatTemplate())));
}

namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string ConfigJson(const ModelSpec& s, const Vocab& vocab) {
  std::string j = "{\n";
  auto kv = [&j](const std::string& key, const std::string& value) {
    j += "  \"" + key + "\": " + value + ",\n";
  };
  auto str = [](const std::string& v) { return "\"" + v + "\""; };
  kv("architectures", s.v3 ? "[\"DeepseekV3ForCausalLM\"]" : "[\"DeepseekV2ForCausalLM\"]");
  kv("model_type", str(s.v3 ? "deepseek_v3" : "deepseek_v2"));
  kv("hidden_size", Num(s.n_embd));
  kv("intermediate_size", Num(s.dense_ff));
  kv("moe_intermediate_size", Num(s.expert_ff));
  kv("num_hidden_layers", Num(s.n_layer));
  kv("num_attention_heads", Num(s.n_head));
  kv("num_key_value_heads", Num(s.n_head));
  kv("n_routed_experts", Num(s.n_expert));
  kv("n_shared_experts", Num(s.n_expert_shared));
  kv("num_experts_per_tok", Num(s.n_expert_used));
  kv("first_k_dense_replace", Num(s.n_dense_lead));
  kv("moe_layer_freq", "1");
  kv("q_lora_rank", s.q_lora_rank > 0 ? Num(s.q_lora_rank) : "null");
  kv("kv_lora_rank", Num(s.kv_lora_rank));
  kv("qk_nope_head_dim", Num(s.qk_nope_head_dim));
  kv("qk_rope_head_dim", Num(s.qk_rope_head_dim));
  kv("v_head_dim", Num(s.v_head_dim));
  kv("norm_topk_prob", s.norm_topk ? "true" : "false");
  kv("routed_scaling_factor", Num(s.routed_scale));
  kv("scoring_func", str(s.gating == Gating::kSigmoid ? "sigmoid" : "softmax"));
  kv("topk_method", str(s.exp_probs_b ? "noaux_tc" : s.n_group > 1 ? "group_limited_greedy" : "greedy"));
  kv("n_group", Num(s.n_group));
  kv("topk_group", Num(s.n_group_used));
  kv("rope_theta", Num(s.rope_theta));
  j += "  \"rope_scaling\": {\n    \"type\": \"yarn\",\n    \"factor\": " + Num(s.yarn_factor) +
       ",\n    \"original_max_position_embeddings\": " + Num(s.yarn_orig_ctx) +
       ",\n    \"beta_fast\": " + Num(s.yarn_beta_fast) + ",\n    \"beta_slow\": " + Num(s.yarn_beta_slow) +
       ",\n    \"mscale\": " + Num(s.yarn_mscale) + ",\n    \"mscale_all_dim\": " + Num(s.yarn_mscale_all_dim) +
       "\n  },\n";
  kv("rms_norm_eps", Num(s.rms_eps));
  kv("vocab_size", Num(static_cast<double>(vocab.tokens.size())));
  kv("max_position_embeddings", Num(s.max_position));
  kv("bos_token_id", Num(vocab.bos_id));
  kv("eos_token_id", Num(vocab.eos_id));
  kv("hidden_act", str("silu"));
  kv("attention_bias", "false");
  kv("torch_dtype", str("bfloat16"));
  j += "  \"tie_word_embeddings\": false\n}\n";
  return j;
}

}  // namespace kt::gen
