// The tensor list of a deepseek2 model, in the names, shapes (ggml order)
// and file order llama.cpp's converter produces.
#include <string>

#include "compiler/gen/gen.h"
#include "compiler/gen/type_mix.h"

namespace kt::gen {

std::optional<WeightType> ParseWeightType(std::string_view s) {
  if (s == "f32") return WeightType::kF32;
  if (s == "f16") return WeightType::kF16;
  if (s == "q8_0") return WeightType::kQ8_0;
  if (s == "q4_k_m") return WeightType::kQ4_K_M;
  return std::nullopt;
}

const char* WeightTypeName(WeightType t) {
  switch (t) {
    case WeightType::kF32: return "f32";
    case WeightType::kF16: return "f16";
    case WeightType::kQ8_0: return "q8_0";
    case WeightType::kQ4_K_M: return "q4_k_m";
  }
  return "?";
}

// llama_ftype values: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7, MOSTLY_Q4_K_M 15.
uint32_t LlamaFileType(WeightType t) {
  switch (t) {
    case WeightType::kF32: return 0;
    case WeightType::kF16: return 1;
    case WeightType::kQ8_0: return 7;
    case WeightType::kQ4_K_M: return 15;
  }
  return 0;
}

uint64_t TensorPlan::rows() const {
  uint64_t r = 1;
  for (size_t i = 1; i < ne.size(); ++i) r *= ne[i];
  return r;
}

uint64_t TensorPlan::n_bytes() const { return quant::RowBytes(type, ne[0]).value_or(0) * rows(); }

StatusOr<std::vector<TensorPlan>> PlanTensors(const ModelSpec& s, uint32_t n_vocab, WeightType type) {
  KT_RETURN_IF_ERROR(ValidateSpec(s));
  if (n_vocab == 0) return KT_ERROR(kInvalidArgument, "vocabulary is empty");
  std::vector<TensorPlan> plan;
  auto add = [&](std::string name, std::vector<uint64_t> ne, Init init) {
    plan.push_back(TensorPlan{std::move(name), std::move(ne), quant::GgmlType::kF32, init});
  };
  const uint64_t E = s.n_embd, H = s.n_head, V = n_vocab;
  add("token_embd.weight", {E, V}, Init::kEmbed);
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    add(p + "attn_norm.weight", {E}, Init::kNorm);
    if (s.q_lora_rank > 0) {
      add(p + "attn_q_a.weight", {E, s.q_lora_rank}, Init::kMatrix);
      add(p + "attn_q_a_norm.weight", {s.q_lora_rank}, Init::kNorm);
      add(p + "attn_q_b.weight", {s.q_lora_rank, H * s.head_k_dim()}, Init::kMatrix);
    } else {
      add(p + "attn_q.weight", {E, H * s.head_k_dim()}, Init::kMatrix);
    }
    add(p + "attn_kv_a_mqa.weight", {E, uint64_t{s.kv_lora_rank} + s.qk_rope_head_dim}, Init::kMatrix);
    add(p + "attn_kv_a_norm.weight", {s.kv_lora_rank}, Init::kNorm);
    if (s.legacy_kv_b) {
      add(p + "attn_kv_b.weight", {s.kv_lora_rank, H * (s.qk_nope_head_dim + s.v_head_dim)}, Init::kMatrix);
    } else {
      add(p + "attn_k_b.weight", {s.qk_nope_head_dim, s.kv_lora_rank, H}, Init::kMatrix);
      add(p + "attn_v_b.weight", {s.kv_lora_rank, s.v_head_dim, H}, Init::kMatrix);
    }
    add(p + "attn_output.weight", {H * s.v_head_dim, E}, Init::kResidualOut);
    add(p + "ffn_norm.weight", {E}, Init::kNorm);
    if (!s.is_moe_layer(il)) {
      add(p + "ffn_gate.weight", {E, s.dense_ff}, Init::kMatrix);
      add(p + "ffn_up.weight", {E, s.dense_ff}, Init::kMatrix);
      add(p + "ffn_down.weight", {s.dense_ff, E}, Init::kResidualOut);
      continue;
    }
    const uint64_t X = s.n_expert, F = s.expert_ff;
    add(p + "ffn_gate_inp.weight", {E, X}, Init::kMatrix);
    if (s.exp_probs_b) add(p + "exp_probs_b.bias", {X}, Init::kBias);
    add(p + "ffn_gate_exps.weight", {E, F, X}, Init::kMatrix);
    add(p + "ffn_up_exps.weight", {E, F, X}, Init::kMatrix);
    add(p + "ffn_down_exps.weight", {F, E, X}, Init::kResidualOut);
    if (s.n_expert_shared > 0) {
      const uint64_t FS = F * s.n_expert_shared;
      add(p + "ffn_gate_shexp.weight", {E, FS}, Init::kMatrix);
      add(p + "ffn_up_shexp.weight", {E, FS}, Init::kMatrix);
      add(p + "ffn_down_shexp.weight", {FS, E}, Init::kResidualOut);
    }
  }
  add("output_norm.weight", {E}, Init::kNorm);
  add("output.weight", {E, V}, Init::kOutput);

  // attn_kv_b tensors are counted in llama.cpp's visiting order (layer, then
  // name); with one per layer that is simply the layer order.
  int n_attn_v = 0;
  for (const TensorPlan& t : plan) n_attn_v += t.name.find("attn_kv_b.weight") != std::string::npos;
  int i_attn_v = 0;
  for (TensorPlan& t : plan) {
    t.type = ChooseType(type, t.name, t.ne, s.n_layer, i_attn_v, n_attn_v);
    if (t.name.find("attn_kv_b.weight") != std::string::npos) ++i_attn_v;
    if (!quant::RowBytes(t.type, t.ne[0])) {
      return KT_ERROR(kInternal, "tensor ", t.name, ": row of ", t.ne[0], " does not fit type ",
                      quant::GgmlTypeInfoOf(t.type).name);
    }
  }
  return plan;
}

}  // namespace kt::gen
