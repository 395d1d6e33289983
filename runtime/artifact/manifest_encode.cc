#include "runtime/artifact/manifest_codec.h"
#include "runtime/schema/kta_generated.h"

namespace kt::artifact {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

template <typename To, typename From>
To E(From v) {
  return static_cast<To>(static_cast<uint8_t>(v));
}

fb::Device ToFb(const Device& d) { return fb::Device(E<fb::DeviceKind>(d.kind), d.index); }

Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> Strings(FlatBufferBuilder& b,
                                                                 const std::vector<std::string>& v) {
  return b.CreateVectorOfStrings(v);
}

Offset<fb::Hyperparameters> EncodeHparams(FlatBufferBuilder& b, const Hyperparameters& h) {
  return fb::CreateHyperparameters(
      b, b.CreateString(h.architecture), b.CreateString(h.model_name), h.context_length,
      h.embedding_length, h.block_count, h.feed_forward_length, h.vocab_size,
      h.leading_dense_block_count, h.expert_count, h.expert_used_count, h.expert_shared_count,
      h.expert_feed_forward_length, h.expert_weights_scale, h.expert_weights_norm,
      E<fb::GatingFunc>(h.expert_gating_func), h.expert_group_count, h.expert_group_used_count,
      h.head_count, h.head_count_kv, h.rms_norm_epsilon, h.q_lora_rank, h.kv_lora_rank, h.key_length,
      h.value_length, h.key_length_mla, h.value_length_mla, h.rope_dimension_count, h.rope_freq_base,
      E<fb::RopeScaling>(h.rope_scaling_type), h.rope_scaling_factor,
      h.rope_scaling_original_context_length, h.rope_scaling_yarn_log_multiplier);
}

Offset<fb::Tokenizer> EncodeTokenizer(FlatBufferBuilder& b, const Tokenizer& t) {
  auto model = b.CreateString(t.model);
  auto pre = b.CreateString(t.pre);
  auto tokens = Strings(b, t.tokens);
  auto types = b.CreateVector(t.token_types);
  auto merges = Strings(b, t.merges);
  auto tmpl = b.CreateString(t.chat_template);
  return fb::CreateTokenizer(b, model, pre, tokens, types, merges, t.bos_token_id, t.eos_token_id,
                             t.add_bos_token, t.add_eos_token, tmpl);
}

Offset<fb::Target> EncodeTarget(FlatBufferBuilder& b, const Target& t) {
  return fb::CreateTarget(b, E<fb::CpuIsa>(t.cpu_isa), E<fb::TensorLayout>(t.cpu_layout),
                          b.CreateString(t.gpu_arch), t.gpu_count, t.vram_budget_bytes, t.max_context);
}

}  // namespace

std::vector<uint8_t> EncodeManifest(const Manifest& m) {
  FlatBufferBuilder b(1 << 16);
  b.ForceDefaults(true);

  auto producer = b.CreateString(m.producer);
  auto source = b.CreateString(m.source);
  auto hparams = EncodeHparams(b, m.hparams);
  auto tokenizer = EncodeTokenizer(b, m.tokenizer);
  auto target = EncodeTarget(b, m.target);

  std::vector<Offset<fb::Segment>> segments;
  for (const Segment& s : m.segments) {
    fb::Device dev = ToFb(s.device);
    segments.push_back(fb::CreateSegment(b, E<fb::SegmentKind>(s.kind), &dev, s.offset, s.length, s.alignment));
  }
  std::vector<Offset<fb::Tensor>> tensors;
  for (const TensorInfo& t : m.tensors) {
    auto name = b.CreateString(t.name);
    auto shape = b.CreateVector(t.shape);
    tensors.push_back(fb::CreateTensor(b, name, t.segment, t.offset, t.length, t.ggml_type,
                                       E<fb::TensorLayout>(t.layout), t.layout_rows, shape, t.checksum));
  }
  std::vector<Offset<fb::KernelImage>> kernels;
  for (const KernelImage& k : m.kernels) {
    auto name = b.CreateString(k.name);
    auto arch = b.CreateString(k.arch);
    auto entries = Strings(b, k.entry_points);
    kernels.push_back(fb::CreateKernelImage(b, name, E<fb::KernelFormat>(k.format), arch, k.segment,
                                            k.offset, k.length, k.checksum, entries));
  }
  std::vector<Offset<fb::PlacementRecord>> placement;
  for (const PlacementRecord& p : m.placement) {
    auto name = b.CreateString(p.name);
    auto reason = b.CreateString(p.reason);
    fb::Device dev = ToFb(p.device);
    placement.push_back(fb::CreatePlacementRecord(b, name, p.layer, E<fb::OpKind>(p.kind), &dev, reason,
                                                  p.weight_bytes, p.flops_per_token, p.intensity));
  }
  std::vector<Offset<fb::Plan>> plans;
  for (const Plan& plan : m.plans) {
    std::vector<Offset<fb::Step>> steps;
    for (const Step& s : plan.steps) {
      auto kernel_name = b.CreateString(s.kernel_name);
      auto refs = b.CreateVector(s.tensors);
      fb::Device dev = ToFb(s.device);
      steps.push_back(fb::CreateStep(b, E<fb::StepKind>(s.kind), s.op, &dev, kernel_name, s.kernel_image, refs));
    }
    auto name = b.CreateString(plan.name);
    plans.push_back(fb::CreatePlan(b, name, b.CreateVector(steps)));
  }
  auto root = fb::CreateManifest(b, producer, source, hparams, tokenizer, target, b.CreateVector(segments),
                                 b.CreateVector(tensors), b.CreateVector(kernels), b.CreateVector(placement),
                                 b.CreateVector(plans));
  fb::FinishSizePrefixedManifestBuffer(b, root);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

}  // namespace kt::artifact
