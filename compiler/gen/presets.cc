// Model presets. The full-size ones copy the published HF configs of
// DeepSeek-V2-Lite and DeepSeek-V3; the tiny ones keep every architectural
// feature of their family at a size that generates and runs in well under a
// second.
#include <algorithm>
#include <array>

#include "compiler/gen/gen.h"

namespace kt::gen {
namespace {

ModelSpec V3Base() {
  ModelSpec s;
  s.v3 = true;
  s.gating = Gating::kSigmoid;
  s.exp_probs_b = true;
  s.routed_scale = 2.5f;
  s.norm_topk = true;
  s.yarn_mscale = 1.0f;
  s.yarn_mscale_all_dim = 1.0f;
  s.pre_tokenizer = "deepseek-v3";
  return s;
}

ModelSpec V2Base() {
  ModelSpec s;
  s.v3 = false;
  s.gating = Gating::kSoftmax;
  s.exp_probs_b = false;
  s.n_group = 1;
  s.n_group_used = 1;
  s.routed_scale = 1.0f;
  s.norm_topk = false;
  s.yarn_mscale = 0.707f;
  s.yarn_mscale_all_dim = 0.707f;
  s.pre_tokenizer = "deepseek-llm";
  return s;
}

ModelSpec TinyV3() {
  ModelSpec s = V3Base();
  s.name = "tiny-v3";
  s.n_layer = 4;
  s.n_embd = 256;
  s.n_head = 4;
  s.q_lora_rank = 128;
  s.kv_lora_rank = 128;
  s.qk_nope_head_dim = 32;
  s.qk_rope_head_dim = 32;
  s.v_head_dim = 32;
  s.n_expert = 16;
  s.n_expert_used = 4;
  s.n_expert_shared = 1;
  s.expert_ff = 128;
  s.dense_ff = 512;
  s.n_dense_lead = 1;
  s.n_group = 4;
  s.n_group_used = 2;
  return s;
}

// 27 layers because llama.cpp releases of 2025 (llama-cpp-python 0.3.16)
// recognise a q_lora-less ("lite") deepseek2 model by n_layer == 27 alone.
ModelSpec TinyV2Lite() {
  ModelSpec s = V2Base();
  s.name = "tiny-v2-lite";
  s.n_layer = 27;
  s.n_embd = 128;
  s.n_head = 4;
  s.q_lora_rank = 0;
  s.kv_lora_rank = 64;
  s.qk_nope_head_dim = 32;
  s.qk_rope_head_dim = 32;
  s.v_head_dim = 32;
  s.n_expert = 16;
  s.n_expert_used = 4;
  s.n_expert_shared = 2;
  s.expert_ff = 32;
  s.dense_ff = 256;
  s.n_dense_lead = 1;
  return s;
}

ModelSpec V2Lite() {
  ModelSpec s = V2Base();
  s.name = "v2-lite";
  s.n_layer = 27;
  s.n_embd = 2048;
  s.n_head = 16;
  s.q_lora_rank = 0;
  s.kv_lora_rank = 512;
  s.qk_nope_head_dim = 128;
  s.qk_rope_head_dim = 64;
  s.v_head_dim = 128;
  s.n_expert = 64;
  s.n_expert_used = 6;
  s.n_expert_shared = 2;
  s.expert_ff = 1408;
  s.dense_ff = 10944;
  s.n_dense_lead = 1;
  s.vocab_size = 102400;
  return s;
}

ModelSpec V3Slice() {
  ModelSpec s = V3Base();
  s.name = "v3-slice";
  s.n_layer = 4;  // V3 has 61; a slice keeps its per-layer shapes
  s.n_embd = 7168;
  s.n_head = 128;
  s.q_lora_rank = 1536;
  s.kv_lora_rank = 512;
  s.qk_nope_head_dim = 128;
  s.qk_rope_head_dim = 64;
  s.v_head_dim = 128;
  s.n_expert = 256;
  s.n_expert_used = 8;
  s.n_expert_shared = 1;
  s.expert_ff = 2048;
  s.dense_ff = 18432;
  s.n_dense_lead = 3;
  s.n_group = 8;
  s.n_group_used = 4;
  s.vocab_size = 129280;
  return s;
}

}  // namespace

std::vector<std::string> PresetNames() { return {"tiny-v3", "tiny-v2-lite", "v2-lite", "v3-slice"}; }

std::optional<ModelSpec> FindPreset(std::string_view name) {
  if (name == "tiny-v3") return TinyV3();
  if (name == "tiny-v2-lite") return TinyV2Lite();
  if (name == "v2-lite") return V2Lite();
  if (name == "v3-slice") return V3Slice();
  return std::nullopt;
}

void OverrideLayers(ModelSpec& spec, uint32_t n_layer) {
  spec.n_layer = n_layer;
  if (n_layer >= 1) spec.n_dense_lead = std::min(spec.n_dense_lead, n_layer - 1);
}

Status ValidateSpec(const ModelSpec& s) {
  auto positive = [&](uint32_t v, const char* what) -> Status {
    if (v == 0) return KT_ERROR(kInvalidArgument, "model '", s.name, "': ", what, " must be positive");
    if (v > (1u << 20)) return KT_ERROR(kOutOfRange, "model '", s.name, "': ", what, " = ", v, " is too large");
    return Status::Ok();
  };
  KT_RETURN_IF_ERROR(positive(s.n_layer, "layer count"));
  KT_RETURN_IF_ERROR(positive(s.n_embd, "hidden size"));
  KT_RETURN_IF_ERROR(positive(s.n_head, "head count"));
  KT_RETURN_IF_ERROR(positive(s.kv_lora_rank, "kv_lora_rank"));
  KT_RETURN_IF_ERROR(positive(s.qk_nope_head_dim, "qk_nope_head_dim"));
  KT_RETURN_IF_ERROR(positive(s.qk_rope_head_dim, "qk_rope_head_dim"));
  KT_RETURN_IF_ERROR(positive(s.v_head_dim, "v_head_dim"));
  KT_RETURN_IF_ERROR(positive(s.dense_ff, "dense FFN size"));
  if (s.n_layer > 1024) return KT_ERROR(kOutOfRange, "model '", s.name, "': ", s.n_layer, " layers is too many");
  if (s.n_dense_lead < s.n_layer) {
    KT_RETURN_IF_ERROR(positive(s.n_expert, "expert count"));
    KT_RETURN_IF_ERROR(positive(s.expert_ff, "expert FFN size"));
    if (s.n_expert_used == 0 || s.n_expert_used > s.n_expert) {
      return KT_ERROR(kInvalidArgument, "model '", s.name, "': experts used (", s.n_expert_used,
                      ") must be in 1..", s.n_expert);
    }
    if (s.n_group == 0 || s.n_expert % s.n_group != 0 || s.n_group_used == 0 || s.n_group_used > s.n_group) {
      return KT_ERROR(kInvalidArgument, "model '", s.name, "': expert groups ", s.n_group, "/", s.n_group_used,
                      " do not divide ", s.n_expert, " experts");
    }
  }
  if (s.qk_rope_head_dim % 2 != 0) {
    return KT_ERROR(kInvalidArgument, "model '", s.name, "': qk_rope_head_dim must be even for RoPE pairs");
  }
  // Every row length must fit 32-element blocks so that each --type can store it.
  const uint32_t rows[] = {s.n_embd, s.kv_lora_rank, s.qk_nope_head_dim, s.n_head * s.v_head_dim, s.dense_ff,
                           s.q_lora_rank, s.n_dense_lead < s.n_layer ? s.expert_ff * std::max(1u, s.n_expert_shared) : 0u,
                           s.n_dense_lead < s.n_layer ? s.expert_ff : 0u};
  for (uint32_t r : rows) {
    if (r % 32 != 0) {
      return KT_ERROR(kInvalidArgument, "model '", s.name, "': row length ", r,
                      " is not a multiple of 32 (quantized blocks need it)");
    }
  }
  return Status::Ok();
}

}  // namespace kt::gen
