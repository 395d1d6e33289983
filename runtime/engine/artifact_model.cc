#include "runtime/engine/artifact_model.h"

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/q4k_x8.h"
#include "kernels/quant/ggml_type.h"

namespace kt::engine {

StatusOr<model::DeepseekConfig> ConfigFromManifest(const artifact::Manifest& manifest) {
  const artifact::Hyperparameters& h = manifest.hparams;
  if (h.architecture != "deepseek2")
    return KT_ERROR(kUnimplemented, "artifact architecture '", h.architecture,
                    "' is not supported (supported: deepseek2)");
  model::DeepseekConfig c;
  c.hidden = h.embedding_length;
  c.n_layer = h.block_count;
  c.n_head = h.head_count;
  c.q_lora_rank = h.q_lora_rank;
  c.kv_lora_rank = h.kv_lora_rank;
  c.qk_rope_dim = h.rope_dimension_count;
  // Current llama.cpp files carry the per-head sizes in *_mla keys (key_length
  // is then kv_lora + rope); legacy files in key_length/value_length.
  const uint32_t key_len = h.key_length_mla ? h.key_length_mla : h.key_length;
  const uint32_t value_len = h.value_length_mla ? h.value_length_mla : h.value_length;
  if (key_len <= c.qk_rope_dim)
    return KT_ERROR(kDataLoss, "artifact key length ", key_len, " is not larger than the rope dimension ",
                    c.qk_rope_dim);
  c.qk_nope_dim = key_len - c.qk_rope_dim;
  c.v_head_dim = value_len;
  c.vocab = h.vocab_size;
  c.n_dense_lead = h.leading_dense_block_count;
  c.dense_ff = h.feed_forward_length;
  c.n_expert = h.expert_count;
  c.n_expert_used = h.expert_used_count;
  c.n_expert_shared = h.expert_shared_count;
  c.expert_ff = h.expert_feed_forward_length;
  c.gating = h.expert_gating_func == artifact::GatingFunc::kSigmoid ? model::GatingFunc::kSigmoid
                                                                    : model::GatingFunc::kSoftmax;
  bool bias = false;
  for (const artifact::TensorInfo& t : manifest.tensors)
    if (t.name.find("exp_probs_b") != std::string::npos) bias = true;
  c.has_score_bias = bias;
  c.n_group = h.expert_group_count ? h.expert_group_count : 1;
  c.n_group_used = h.expert_group_used_count ? h.expert_group_used_count : c.n_group;
  c.group_score = bias ? model::GroupScore::kTop2Sum : model::GroupScore::kMax;
  c.norm_topk = h.expert_weights_norm;
  c.routed_scale = h.expert_weights_scale;
  c.rms_eps = h.rms_norm_epsilon;
  c.rope_theta = h.rope_freq_base;
  if (h.rope_scaling_type == artifact::RopeScaling::kYarn) {
    c.yarn_factor = h.rope_scaling_factor;
    c.yarn_orig_ctx = h.rope_scaling_original_context_length;
    c.yarn_log_mul = h.rope_scaling_yarn_log_multiplier;
  }
  c.context_length = h.context_length;
  KT_RETURN_IF_ERROR(c.Validate());
  return c;
}

tokenizer::TokenizerSpec TokenizerSpecFromManifest(const artifact::Manifest& manifest) {
  const artifact::Tokenizer& t = manifest.tokenizer;
  tokenizer::TokenizerSpec spec;
  spec.model = t.model;
  spec.pre = t.pre;
  spec.tokens = t.tokens;
  spec.token_types = t.token_types;
  spec.merges = t.merges;
  spec.bos = t.bos_token_id;
  spec.eos = t.eos_token_id;
  spec.add_bos = t.add_bos_token;
  return spec;
}

StatusOr<ArtifactWeightTable> ArtifactWeightTable::Create(const artifact::Artifact& art) {
  ArtifactWeightTable table;
  for (const artifact::TensorInfo& t : art.manifest().tensors) {
    const quant::GgmlTypeInfo* info = quant::FindGgmlType(t.ggml_type);
    if (info == nullptr)
      return KT_ERROR(kDataLoss, "tensor '", t.name, "' has unknown ggml type ", t.ggml_type);
    if (t.shape.empty() || t.shape.size() > 4)
      return KT_ERROR(kDataLoss, "tensor '", t.name, "' has ", t.shape.size(), " dimensions");
    model::WeightView v;
    if (t.layout == artifact::TensorLayout::kCpuRowInterleaved) {
      // Only what the CPU kernels execute: Q4_K in groups of 8 rows that
      // never straddle a slice of the outer dimensions (an expert, a head).
      if (info->type != quant::GgmlType::kQ4_K || t.layout_rows != cpu::kQ4KX8Rows || t.shape.size() < 2 ||
          t.shape[0] % 256 != 0 || t.shape[1] % cpu::kQ4KX8Rows != 0)
        return KT_ERROR(kUnimplemented, "tensor '", t.name, "': layout cpu_row_interleaved with ", t.layout_rows,
                        " rows is only supported for Q4_K, 8 rows, shape[1] a multiple of 8 (this is ",
                        info->name, ")");
      v.layout_rows = t.layout_rows;
    } else if (t.layout != artifact::TensorLayout::kGgml) {
      return KT_ERROR(kUnimplemented, "tensor '", t.name, "' uses layout ", artifact::Name(t.layout),
                      ", which this runtime cannot execute yet");
    }
    v.type = info->type;
    for (size_t i = 0; i < t.shape.size(); ++i) v.ne[i] = static_cast<int64_t>(t.shape[i]);
    std::span<const uint8_t> bytes = art.TensorData(t);
    v.data = bytes.data();
    v.n_bytes = bytes.size();
    table.views_.emplace(t.name, v);
  }
  return table;
}

const model::WeightView* ArtifactWeightTable::Find(std::string_view name) const {
  auto it = views_.find(std::string(name));
  return it == views_.end() ? nullptr : &it->second;
}

Status CheckTarget(const artifact::Manifest& manifest, bool gpu_available) {
  const artifact::Target& target = manifest.target;
  cpu::Isa needed = cpu::Isa::kGeneric;
  switch (target.cpu_isa) {
    case artifact::CpuIsa::kGeneric: needed = cpu::Isa::kGeneric; break;
    case artifact::CpuIsa::kAvx2: needed = cpu::Isa::kAvx2; break;
    case artifact::CpuIsa::kAvx512:
    case artifact::CpuIsa::kAvx512Vnni: needed = cpu::Isa::kAvx512; break;
    case artifact::CpuIsa::kAmx: needed = cpu::Isa::kAmx; break;
  }
  if (!cpu::HostSupports(needed))
    return KT_ERROR(kFailedPrecondition, "the artifact was compiled for CPU ISA ",
                    artifact::Name(target.cpu_isa), ", which this CPU lacks (it has: ",
                    cpu::DescribeHostCpu(), "); recompile with `ktc compile --cpu native` on this machine");
  int gpu_ops = 0;
  for (const artifact::PlacementRecord& p : manifest.placement)
    if (p.device.kind == artifact::DeviceKind::kGpu) ++gpu_ops;
  if (gpu_ops > 0 && !gpu_available)
    return KT_ERROR(kFailedPrecondition, "the artifact places ", gpu_ops, " ops on a GPU (",
                    target.gpu_arch.empty() ? "unknown arch" : target.gpu_arch,
                    ") but no usable GPU was found; recompile for the CPU with `ktc compile --vram 0`");
  return Status::Ok();
}

}  // namespace kt::engine
