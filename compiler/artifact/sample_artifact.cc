#include "compiler/artifact/sample_artifact.h"

#include <optional>

#include "kernels/quant/ggml_type.h"

namespace kt::artifact {
namespace {

// Deterministic bytes that differ per tensor, so a swapped or shifted
// tensor is caught by a byte comparison.
std::vector<uint8_t> Pattern(uint64_t size, uint32_t salt) {
  std::vector<uint8_t> out(size);
  uint32_t x = 2166136261u ^ salt;
  for (uint64_t i = 0; i < size; ++i) {
    x = x * 16777619u + 0x9E37u;
    out[i] = static_cast<uint8_t>(x >> 24);
  }
  return out;
}

TensorSpec Tensor(std::string name, SegmentKind seg, quant::GgmlType type, std::vector<uint64_t> shape,
                  uint32_t salt) {
  uint64_t bytes = quant::RowBytes(type, shape[0]).value();
  for (size_t d = 1; d < shape.size(); ++d) bytes *= shape[d];
  TensorSpec t;
  t.name = std::move(name);
  t.segment = seg;
  t.ggml_type = static_cast<uint32_t>(type);
  t.shape = std::move(shape);
  t.source = BytesFromVector(Pattern(bytes, salt));
  return t;
}

}  // namespace

ArtifactContents SampleContents(bool small) {
  using quant::GgmlType;
  ArtifactContents c;
  c.producer = "kt sample";
  c.source = "synthetic";

  Hyperparameters& h = c.hparams;
  h.architecture = "deepseek2";
  h.model_name = "sample";
  h.context_length = 4096;
  h.embedding_length = 256;
  h.block_count = 2;
  h.feed_forward_length = 512;
  h.vocab_size = 8;
  h.leading_dense_block_count = 1;
  h.expert_count = 4;
  h.expert_used_count = 2;
  h.expert_shared_count = 1;
  h.expert_feed_forward_length = 256;
  h.expert_weights_scale = 2.5f;
  h.expert_weights_norm = true;
  h.expert_gating_func = GatingFunc::kSigmoid;
  h.expert_group_count = 2;
  h.expert_group_used_count = 1;
  h.head_count = 4;
  h.head_count_kv = 1;
  h.rms_norm_epsilon = 1e-6f;
  h.q_lora_rank = 96;
  h.kv_lora_rank = 64;
  h.key_length = 80;
  h.value_length = 64;
  h.key_length_mla = 48;
  h.value_length_mla = 32;
  h.rope_dimension_count = 16;
  h.rope_freq_base = 10000.0f;
  h.rope_scaling_type = RopeScaling::kYarn;
  h.rope_scaling_factor = 40.0f;
  h.rope_scaling_original_context_length = 4096;
  h.rope_scaling_yarn_log_multiplier = 0.1f;

  Tokenizer& t = c.tokenizer;
  t.model = "gpt2";
  t.pre = "deepseek-v3";
  t.tokens = {"<bos>", "<eos>", "a", "b", "ab", "\xc4\xa0", "\xc4\xa0" "a", "\xe4\xb8\xad"};
  t.token_types = {3, 3, 1, 1, 1, 1, 1, 1};
  t.merges = {"a b", "\xc4\xa0" " a"};
  t.bos_token_id = 0;
  t.eos_token_id = 1;
  t.add_bos_token = true;
  t.add_eos_token = false;
  t.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}";

  c.target.cpu_isa = CpuIsa::kAvx512;
  c.target.cpu_layout = TensorLayout::kCpuRowInterleaved;
  c.target.gpu_arch = "sm_90a";
  c.target.gpu_count = 1;
  c.target.vram_budget_bytes = uint64_t{14} << 30;
  c.target.max_context = 2048;

  const Device gpu{DeviceKind::kGpu, 0};
  const Device cpu{DeviceKind::kCpu, 0};
  c.placement = {
      {"embed", -1, OpKind::kEmbed, gpu, "embedding table fits in VRAM", 4352, 0, 0.0},
      {"blk.0.attn", 0, OpKind::kMla, gpu, "attention is the most intense op", 123456, 987654, 8.0},
      {"blk.1.experts", 1, OpKind::kExperts, cpu, "routed experts: lowest intensity, VRAM budget used", 589824,
       294912, 0.5},
      {"output", -1, OpKind::kLmHead, gpu, "lm_head", 1088, 4096, 2.0},
  };

  const uint64_t expert_rows = small ? 2 : 256;
  c.tensors.push_back(Tensor("token_embd.weight", SegmentKind::kGpuWeights, GgmlType::kQ8_0, {256, 8}, 1));
  c.tensors.push_back(Tensor("blk.0.attn_norm.weight", SegmentKind::kGpuWeights, GgmlType::kF32, {256}, 2));
  TensorSpec exps = Tensor("blk.1.ffn_gate_exps.weight", SegmentKind::kCpuWeights, GgmlType::kQ4_K,
                           {256, expert_rows, 4}, 3);
  exps.layout = TensorLayout::kCpuRowInterleaved;
  exps.layout_rows = 4;
  c.tensors.push_back(std::move(exps));
  c.tensors.push_back(Tensor("blk.1.ffn_down_exps.weight", SegmentKind::kCpuWeights, GgmlType::kQ6_K,
                             {256, expert_rows, 4}, 4));
  c.tensors.push_back(Tensor("output.weight", SegmentKind::kGpuWeights, GgmlType::kF16, {256, 8}, 5));

  KernelSpec k;
  k.name = "mla_decode";
  k.format = KernelFormat::kCubin;
  k.arch = "sm_90a";
  k.entry_points = {"kt_mla_decode", "kt_rms_norm"};
  k.bytes = Pattern(1000, 6);
  c.kernels.push_back(std::move(k));

  Plan decode;
  decode.name = "decode";
  decode.steps = {
      {StepKind::kGpuKernel, 0, gpu, "kt_rms_norm", 0, {0}},
      {StepKind::kGpuKernel, 1, gpu, "kt_mla_decode", 0, {1}},
      {StepKind::kHostSubmitExperts, 2, cpu, "", -1, {2, 3}},
      {StepKind::kHostJoinExperts, 2, cpu, "", -1, {}},
      {StepKind::kCopy, -1, gpu, "", -1, {}},
      {StepKind::kGpuKernel, 3, gpu, "kt_rms_norm", 0, {4}},
  };
  Plan prefill;
  prefill.name = "prefill";
  prefill.steps = {
      {StepKind::kGpuKernel, 1, gpu, "kt_mla_decode", 0, {1}},
      {StepKind::kCpuOp, 2, cpu, "", -1, {2, 3}},
  };
  c.plans = {decode, prefill};
  return c;
}

}  // namespace kt::artifact
