#include "compiler/gguf_model/deepseek_gguf.h"

#include <limits>
#include <string_view>

namespace kt::gguf_model {
namespace {

constexpr std::string_view kArch = "deepseek2";

class Keys {
 public:
  explicit Keys(const gguf::GgufFile& f) : f_(f) {}
  std::string Name(std::string_view suffix) const { return std::string(kArch) + "." + std::string(suffix); }

  StatusOr<uint32_t> U32(std::string_view suffix) const {
    KT_ASSIGN_OR_RETURN(uint64_t v, f_.GetUint(Name(suffix)));
    if (v > std::numeric_limits<uint32_t>::max()) {
      return KT_ERROR(kOutOfRange, f_.name(), ": ", Name(suffix), " = ", v, " does not fit 32 bits");
    }
    return static_cast<uint32_t>(v);
  }
  StatusOr<uint32_t> U32Or(std::string_view suffix, uint32_t fallback) const {
    if (f_.Find(Name(suffix)) == nullptr) return fallback;
    return U32(suffix);
  }
  StatusOr<float> F32Or(std::string_view suffix, float fallback) const {
    if (f_.Find(Name(suffix)) == nullptr) return fallback;
    KT_ASSIGN_OR_RETURN(double v, f_.GetFloat(Name(suffix)));
    return static_cast<float>(v);
  }
  StatusOr<bool> BoolOr(std::string_view suffix, bool fallback) const {
    if (f_.Find(Name(suffix)) == nullptr) return fallback;
    return f_.GetBool(Name(suffix));
  }

 private:
  const gguf::GgufFile& f_;
};

}  // namespace

StatusOr<model::DeepseekConfig> DeepseekConfigFromGguf(const gguf::GgufFile& f) {
  KT_ASSIGN_OR_RETURN(std::string arch, f.GetString("general.architecture"));
  if (arch != kArch) {
    return KT_ERROR(kInvalidArgument, f.name(), ": architecture is '", arch, "', expected '", kArch, "'");
  }
  const Keys k(f);
  model::DeepseekConfig c;
  KT_ASSIGN_OR_RETURN(c.hidden, k.U32("embedding_length"));
  KT_ASSIGN_OR_RETURN(c.n_layer, k.U32("block_count"));
  KT_ASSIGN_OR_RETURN(c.n_head, k.U32("attention.head_count"));
  KT_ASSIGN_OR_RETURN(c.q_lora_rank, k.U32Or("attention.q_lora_rank", 0));
  KT_ASSIGN_OR_RETURN(c.kv_lora_rank, k.U32("attention.kv_lora_rank"));
  KT_ASSIGN_OR_RETURN(c.qk_rope_dim, k.U32("rope.dimension_count"));
  // Files with the split attn_k_b/attn_v_b layout describe the latent
  // ("MQA") head in key_length/value_length and the per-head sizes in *_mla.
  KT_ASSIGN_OR_RETURN(uint32_t key_length, k.U32("attention.key_length"));
  KT_ASSIGN_OR_RETURN(uint32_t value_length, k.U32("attention.value_length"));
  KT_ASSIGN_OR_RETURN(key_length, k.U32Or("attention.key_length_mla", key_length));
  KT_ASSIGN_OR_RETURN(c.v_head_dim, k.U32Or("attention.value_length_mla", value_length));
  if (key_length <= c.qk_rope_dim) {
    return KT_ERROR(kInvalidArgument, f.name(), ": key length ", key_length, " is not larger than the RoPE part ",
                    c.qk_rope_dim);
  }
  c.qk_nope_dim = key_length - c.qk_rope_dim;

  const gguf::GgufTensorInfo* embd = f.FindTensor("token_embd.weight");
  if (embd == nullptr) return KT_ERROR(kNotFound, f.name(), ": tensor 'token_embd.weight' is missing");
  if (embd->ne.size() != 2 || embd->ne[1] > std::numeric_limits<uint32_t>::max()) {
    return KT_ERROR(kInvalidArgument, f.name(), ": token_embd.weight is not a 2-D {hidden, vocab} tensor");
  }
  c.vocab = static_cast<uint32_t>(embd->ne[1]);

  KT_ASSIGN_OR_RETURN(c.n_dense_lead, k.U32Or("leading_dense_block_count", 0));
  KT_ASSIGN_OR_RETURN(c.dense_ff, k.U32Or("feed_forward_length", 0));
  KT_ASSIGN_OR_RETURN(c.n_expert, k.U32Or("expert_count", 0));
  KT_ASSIGN_OR_RETURN(c.n_expert_used, k.U32Or("expert_used_count", 0));
  KT_ASSIGN_OR_RETURN(c.n_expert_shared, k.U32Or("expert_shared_count", 0));
  KT_ASSIGN_OR_RETURN(c.expert_ff, k.U32Or("expert_feed_forward_length", 0));
  // Absent in DeepSeek-V2/V2.5 files, which all use softmax (llama.cpp too).
  KT_ASSIGN_OR_RETURN(uint32_t gating, k.U32Or("expert_gating_func", 1));
  if (gating != 1 && gating != 2) {
    return KT_ERROR(kUnimplemented, f.name(), ": expert_gating_func ", gating, " (1 softmax, 2 sigmoid supported)");
  }
  c.gating = static_cast<model::GatingFunc>(gating);
  KT_ASSIGN_OR_RETURN(c.n_group, k.U32Or("expert_group_count", 1));
  KT_ASSIGN_OR_RETURN(c.n_group_used, k.U32Or("expert_group_used_count", c.n_group));
  if (c.n_group == 0) c.n_group = 1;
  if (c.n_group_used == 0) c.n_group_used = c.n_group;
  KT_ASSIGN_OR_RETURN(c.norm_topk, k.BoolOr("expert_weights_norm", false));
  KT_ASSIGN_OR_RETURN(c.routed_scale, k.F32Or("expert_weights_scale", 1.0f));
  c.has_score_bias = c.n_dense_lead < c.n_layer &&
                     f.FindTensor("blk." + std::to_string(c.n_dense_lead) + ".exp_probs_b.bias") != nullptr;
  // V3's noaux_tc routing scores a group by its two best biased experts; V2's
  // group_limited_greedy by its best expert. The bias marks the V3 method.
  c.group_score = c.has_score_bias ? model::GroupScore::kTop2Sum : model::GroupScore::kMax;

  KT_ASSIGN_OR_RETURN(c.rms_eps, k.F32Or("attention.layer_norm_rms_epsilon", 1e-6f));
  KT_ASSIGN_OR_RETURN(c.rope_theta, k.F32Or("rope.freq_base", 10000.0f));
  KT_ASSIGN_OR_RETURN(c.context_length, k.U32Or("context_length", 0));
  std::string scaling = "none";
  if (const gguf::GgufValue* v = f.Find(k.Name("rope.scaling.type"))) {
    KT_ASSIGN_OR_RETURN(scaling, v->AsString(k.Name("rope.scaling.type")));
  }
  if (scaling == "yarn") {
    KT_ASSIGN_OR_RETURN(c.yarn_factor, k.F32Or("rope.scaling.factor", 1.0f));
    KT_ASSIGN_OR_RETURN(c.yarn_orig_ctx, k.U32Or("rope.scaling.original_context_length", c.context_length));
    KT_ASSIGN_OR_RETURN(c.yarn_log_mul, k.F32Or("rope.scaling.yarn_log_multiplier", 0.0f));
  } else if (scaling != "none") {
    return KT_ERROR(kUnimplemented, f.name(), ": rope.scaling.type '", scaling, "' (only yarn and none)");
  }
  KT_RETURN_IF_ERROR(c.Validate().WithContext(f.name()));
  return c;
}

Status AddGgufTensors(const gguf::GgufFile& f, model::MapWeightTable& table) {
  for (const gguf::GgufTensorInfo& t : f.tensors()) {
    if (t.ne.size() > 4) {
      return KT_ERROR(kInvalidArgument, f.name(), ": tensor '", t.name, "' has ", t.ne.size(), " dimensions");
    }
    model::WeightView view;
    view.type = t.type;
    for (size_t i = 0; i < t.ne.size(); ++i) {
      if (t.ne[i] > uint64_t{std::numeric_limits<int64_t>::max()}) {
        return KT_ERROR(kOutOfRange, f.name(), ": tensor '", t.name, "' dimension ", i, " is too large");
      }
      view.ne[i] = static_cast<int64_t>(t.ne[i]);
    }
    view.data = f.TensorData(t);
    view.n_bytes = t.n_bytes;
    table.Add(t.name, view);
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<GgufDeepseekModel>> GgufDeepseekModel::Open(const std::string& path) {
  KT_ASSIGN_OR_RETURN(gguf::GgufFile file, gguf::GgufFile::Open(path));
  auto m = std::make_unique<GgufDeepseekModel>(GgufDeepseekModel{std::move(file), {}, {}});
  KT_ASSIGN_OR_RETURN(m->config, DeepseekConfigFromGguf(m->file));
  KT_RETURN_IF_ERROR(AddGgufTensors(m->file, m->table));
  return m;
}

}  // namespace kt::gguf_model
