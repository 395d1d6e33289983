#include "runtime/model/deepseek_config.h"

#include <cmath>

namespace kt::model {

float DeepseekConfig::KqScale() const {
  // Same float operations as llama.cpp: freq_scale is stored as 1/factor and
  // the log is taken of its inverse.
  const float freq_scale = yarn_enabled() ? 1.0f / yarn_factor : 1.0f;
  const float mscale = 1.0f + yarn_log_mul * std::log(1.0f / freq_scale);
  return mscale * mscale / std::sqrt(static_cast<float>(head_k_dim()));
}

namespace {

// Limits far above any released model; they keep a corrupt header from
// sizing huge buffers (every buffer of the reference is a product of these).
constexpr uint32_t kMaxDim = 1u << 20;
constexpr uint32_t kMaxLayers = 4096;
constexpr uint32_t kMaxHeads = 4096;
constexpr uint32_t kMaxExperts = 1u << 16;

Status CheckRange(const char* name, uint32_t value, uint32_t lo, uint32_t hi) {
  if (value < lo || value > hi) {
    return KT_ERROR(kOutOfRange, "deepseek2 config: ", name, " = ", value, " is outside [", lo, ", ", hi, "]");
  }
  return Status::Ok();
}

}  // namespace

Status DeepseekConfig::Validate() const {
  KT_RETURN_IF_ERROR(CheckRange("hidden", hidden, 1, kMaxDim));
  KT_RETURN_IF_ERROR(CheckRange("n_layer", n_layer, 1, kMaxLayers));
  KT_RETURN_IF_ERROR(CheckRange("n_head", n_head, 1, kMaxHeads));
  KT_RETURN_IF_ERROR(CheckRange("q_lora_rank", q_lora_rank, 0, kMaxDim));
  KT_RETURN_IF_ERROR(CheckRange("kv_lora_rank", kv_lora_rank, 1, kMaxDim));
  KT_RETURN_IF_ERROR(CheckRange("qk_nope_dim", qk_nope_dim, 1, kMaxDim));
  KT_RETURN_IF_ERROR(CheckRange("qk_rope_dim", qk_rope_dim, 2, kMaxDim));
  KT_RETURN_IF_ERROR(CheckRange("v_head_dim", v_head_dim, 1, kMaxDim));
  KT_RETURN_IF_ERROR(CheckRange("vocab", vocab, 1, 1u << 24));
  KT_RETURN_IF_ERROR(CheckRange("n_dense_lead", n_dense_lead, 0, n_layer));
  if (qk_rope_dim % 2 != 0) {
    return KT_ERROR(kInvalidArgument, "deepseek2 config: qk_rope_dim = ", qk_rope_dim, " must be even");
  }
  if (n_dense_lead > 0) KT_RETURN_IF_ERROR(CheckRange("dense_ff", dense_ff, 1, kMaxDim));
  if (n_dense_lead < n_layer) {
    KT_RETURN_IF_ERROR(CheckRange("n_expert", n_expert, 1, kMaxExperts));
    KT_RETURN_IF_ERROR(CheckRange("n_expert_used", n_expert_used, 1, n_expert));
    KT_RETURN_IF_ERROR(CheckRange("n_expert_shared", n_expert_shared, 0, kMaxExperts));
    KT_RETURN_IF_ERROR(CheckRange("expert_ff", expert_ff, 1, kMaxDim));
    KT_RETURN_IF_ERROR(CheckRange("n_group", n_group, 1, n_expert));
    KT_RETURN_IF_ERROR(CheckRange("n_group_used", n_group_used, 1, n_group));
    if (n_expert % n_group != 0) {
      return KT_ERROR(kInvalidArgument, "deepseek2 config: n_expert = ", n_expert,
                      " is not a multiple of n_group = ", n_group);
    }
    const uint32_t per_group = n_expert / n_group;
    if (n_group > 1 && group_score == GroupScore::kTop2Sum && per_group < 2) {
      return KT_ERROR(kInvalidArgument, "deepseek2 config: top-2 group scores need >= 2 experts per group, have ",
                      per_group);
    }
    if (n_expert_used > per_group * n_group_used) {
      return KT_ERROR(kInvalidArgument, "deepseek2 config: n_expert_used = ", n_expert_used,
                      " exceeds the experts of the kept groups (", per_group * n_group_used, ")");
    }
    if (gating != GatingFunc::kSoftmax && gating != GatingFunc::kSigmoid) {
      return KT_ERROR(kInvalidArgument, "deepseek2 config: unknown gating function ", static_cast<int>(gating));
    }
  }
  if (!(rms_eps > 0.0f) || !std::isfinite(rms_eps)) {
    return KT_ERROR(kInvalidArgument, "deepseek2 config: rms_eps = ", rms_eps, " must be positive");
  }
  if (!(rope_theta > 1.0f) || !std::isfinite(rope_theta)) {
    return KT_ERROR(kInvalidArgument, "deepseek2 config: rope_theta = ", rope_theta, " must be > 1");
  }
  if (!std::isfinite(yarn_factor) || !std::isfinite(yarn_log_mul) || !std::isfinite(routed_scale)) {
    return KT_ERROR(kInvalidArgument, "deepseek2 config: non-finite yarn factor, log multiplier or routed scale");
  }
  if (yarn_enabled() && yarn_orig_ctx == 0) {
    return KT_ERROR(kInvalidArgument, "deepseek2 config: YaRN factor ", yarn_factor,
                    " needs rope.scaling.original_context_length");
  }
  return Status::Ok();
}

std::string DeepseekConfig::ToString() const {
  return StrCat("deepseek2{hidden=", hidden, " layers=", n_layer, " heads=", n_head, " q_lora=", q_lora_rank,
                " kv_lora=", kv_lora_rank, " qk_nope=", qk_nope_dim, " qk_rope=", qk_rope_dim, " v=", v_head_dim,
                " vocab=", vocab, " dense_lead=", n_dense_lead, " dense_ff=", dense_ff, " experts=", n_expert, "/",
                n_expert_used, "+", n_expert_shared, " expert_ff=", expert_ff,
                " gating=", gating == GatingFunc::kSigmoid ? "sigmoid" : "softmax", " bias=", has_score_bias,
                " groups=", n_group, "/", n_group_used, " norm_topk=", norm_topk, " scale=", routed_scale,
                " eps=", rms_eps, " theta=", rope_theta, " yarn=", yarn_factor, "@", yarn_orig_ctx,
                " log_mul=", yarn_log_mul, "}");
}

}  // namespace kt::model
