#include "runtime/model/deepseek_weights.h"

#include <algorithm>

#include <string>

namespace kt::model {
namespace {

std::string ShapeString(const std::array<int64_t, 4>& ne) {
  std::string s = "{";
  int dims = 4;
  while (dims > 1 && ne[dims - 1] == 1) --dims;
  for (int i = 0; i < dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

// Checks shape, that kt can dequantize the type, and that the bytes are there.
Status CheckView(const std::string& name, const WeightView& view, std::array<int64_t, 4> want) {
  if (view.ne != want) {
    return KT_ERROR(kInvalidArgument, "weight '", name, "' has shape ", ShapeString(view.ne), ", expected ",
                    ShapeString(want));
  }
  const quant::GgmlTypeInfo& info = quant::GgmlTypeInfoOf(view.type);
  if (!info.dequantizable) {
    return KT_ERROR(kUnimplemented, "weight '", name, "' has type ", info.name, ", which kt cannot dequantize");
  }
  const std::optional<uint64_t> row = quant::RowBytes(view.type, static_cast<uint64_t>(want[0]));
  if (!row) {
    return KT_ERROR(kInvalidArgument, "weight '", name, "': row of ", want[0], " elements is not a whole number of ",
                    info.name, " blocks");
  }
  const uint64_t rows = static_cast<uint64_t>(want[1] * want[2] * want[3]);
  if (*row != 0 && rows > view.n_bytes / *row) {
    return KT_ERROR(kDataLoss, "weight '", name, "' needs ", rows, " rows of ", *row, " bytes but only ",
                    view.n_bytes, " bytes are present");
  }
  if (view.data == nullptr) return KT_ERROR(kInvalidArgument, "weight '", name, "' has no data");
  return Status::Ok();
}

class Binder {
 public:
  explicit Binder(const WeightTable& table) : table_(table) {}

  StatusOr<WeightView> Require(const std::string& name, std::array<int64_t, 4> want) {
    KT_ASSIGN_OR_RETURN(WeightView view, table_.Get(name));
    KT_RETURN_IF_ERROR(CheckView(name, view, want));
    return view;
  }
  StatusOr<std::optional<WeightView>> Optional(const std::string& name, std::array<int64_t, 4> want) {
    const WeightView* view = table_.Find(name);
    if (view == nullptr) return std::optional<WeightView>();
    KT_RETURN_IF_ERROR(CheckView(name, *view, want));
    return std::optional<WeightView>(*view);
  }
  bool Has(const std::string& name) const { return table_.Find(name) != nullptr; }

 private:
  const WeightTable& table_;
};

}  // namespace

StatusOr<DeepseekWeights> BindDeepseekWeights(const DeepseekConfig& c, const WeightTable& table) {
  KT_RETURN_IF_ERROR(c.Validate());
  Binder b(table);
  const int64_t E = c.hidden, V = c.vocab, H = c.n_head;
  const int64_t nope = c.qk_nope_dim, rope = c.qk_rope_dim, vd = c.v_head_dim, kvr = c.kv_lora_rank;
  DeepseekWeights w;
  KT_ASSIGN_OR_RETURN(w.token_embd, b.Require("token_embd.weight", {E, V, 1, 1}));
  KT_ASSIGN_OR_RETURN(w.output_norm, b.Require("output_norm.weight", {E, 1, 1, 1}));
  KT_ASSIGN_OR_RETURN(std::optional<WeightView> output, b.Optional("output.weight", {E, V, 1, 1}));
  w.output = output ? *output : w.token_embd;

  w.layers.resize(c.n_layer);
  for (uint32_t il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    KT_ASSIGN_OR_RETURN(l.attn_norm, b.Require(p + "attn_norm.weight", {E, 1, 1, 1}));
    if (c.q_lora_rank > 0) {
      const int64_t ql = c.q_lora_rank;
      KT_ASSIGN_OR_RETURN(l.q_a, b.Require(p + "attn_q_a.weight", {E, ql, 1, 1}));
      KT_ASSIGN_OR_RETURN(l.q_a_norm, b.Require(p + "attn_q_a_norm.weight", {ql, 1, 1, 1}));
      KT_ASSIGN_OR_RETURN(l.q_b, b.Require(p + "attn_q_b.weight", {ql, H * (nope + rope), 1, 1}));
    } else {
      KT_ASSIGN_OR_RETURN(l.q, b.Require(p + "attn_q.weight", {E, H * (nope + rope), 1, 1}));
    }
    KT_ASSIGN_OR_RETURN(l.kv_a_mqa, b.Require(p + "attn_kv_a_mqa.weight", {E, kvr + rope, 1, 1}));
    KT_ASSIGN_OR_RETURN(l.kv_a_norm, b.Require(p + "attn_kv_a_norm.weight", {kvr, 1, 1, 1}));
    if (b.Has(p + "attn_k_b.weight") || !b.Has(p + "attn_kv_b.weight")) {
      KT_ASSIGN_OR_RETURN(l.k_b, b.Require(p + "attn_k_b.weight", {nope, kvr, H, 1}));
      KT_ASSIGN_OR_RETURN(l.v_b, b.Require(p + "attn_v_b.weight", {kvr, vd, H, 1}));
    } else {
      KT_ASSIGN_OR_RETURN(l.kv_b, b.Require(p + "attn_kv_b.weight", {kvr, H * (nope + vd), 1, 1}));
    }
    KT_ASSIGN_OR_RETURN(l.wo, b.Require(p + "attn_output.weight", {H * vd, E, 1, 1}));
    KT_ASSIGN_OR_RETURN(l.ffn_norm, b.Require(p + "ffn_norm.weight", {E, 1, 1, 1}));
    if (!c.is_moe_layer(il)) {
      const int64_t F = c.dense_ff;
      KT_ASSIGN_OR_RETURN(l.ffn_gate, b.Require(p + "ffn_gate.weight", {E, F, 1, 1}));
      KT_ASSIGN_OR_RETURN(l.ffn_up, b.Require(p + "ffn_up.weight", {E, F, 1, 1}));
      KT_ASSIGN_OR_RETURN(l.ffn_down, b.Require(p + "ffn_down.weight", {F, E, 1, 1}));
      continue;
    }
    const int64_t X = c.n_expert, F = c.expert_ff;
    KT_ASSIGN_OR_RETURN(l.gate_inp, b.Require(p + "ffn_gate_inp.weight", {E, X, 1, 1}));
    KT_ASSIGN_OR_RETURN(l.exp_probs_b, b.Optional(p + "exp_probs_b.bias", {X, 1, 1, 1}));
    if (l.exp_probs_b.has_value() != c.has_score_bias) {
      return KT_ERROR(kInvalidArgument, "weight '", p, "exp_probs_b.bias' is ",
                      c.has_score_bias ? "missing but the config has a score bias" : "present but the config has none");
    }
    KT_ASSIGN_OR_RETURN(l.gate_exps, b.Require(p + "ffn_gate_exps.weight", {E, F, X, 1}));
    KT_ASSIGN_OR_RETURN(l.up_exps, b.Require(p + "ffn_up_exps.weight", {E, F, X, 1}));
    KT_ASSIGN_OR_RETURN(l.down_exps, b.Require(p + "ffn_down_exps.weight", {F, E, X, 1}));
    if (c.n_expert_shared > 0) {
      const int64_t FS = F * c.n_expert_shared;
      KT_ASSIGN_OR_RETURN(l.gate_shexp, b.Require(p + "ffn_gate_shexp.weight", {E, FS, 1, 1}));
      KT_ASSIGN_OR_RETURN(l.up_shexp, b.Require(p + "ffn_up_shexp.weight", {E, FS, 1, 1}));
      KT_ASSIGN_OR_RETURN(l.down_shexp, b.Require(p + "ffn_down_shexp.weight", {FS, E, 1, 1}));
    }
  }
  return w;
}

uint64_t DecodeWeightBytes(const DeepseekConfig& c, const DeepseekWeights& w) {
  uint64_t bytes = w.output.n_bytes + w.token_embd.n_bytes / std::max<uint64_t>(1, w.token_embd.ne[1]);
  for (uint32_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    for (const auto* v : {&l.q_a, &l.q_b, &l.q, &l.kv_b, &l.k_b, &l.v_b, &l.ffn_gate, &l.ffn_up, &l.ffn_down,
                          &l.gate_inp, &l.gate_shexp, &l.up_shexp, &l.down_shexp})
      if (*v) bytes += (*v)->n_bytes;
    bytes += l.kv_a_mqa.n_bytes + l.wo.n_bytes;
    for (const auto* v : {&l.gate_exps, &l.up_exps, &l.down_exps})
      if (*v) bytes += (*v)->n_bytes / c.n_expert * c.n_expert_used;
  }
  return bytes;
}

}  // namespace kt::model
