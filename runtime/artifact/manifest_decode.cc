#include <cstring>
#include <limits>

#include "runtime/artifact/manifest_codec.h"
#include "runtime/schema/kta_generated.h"

namespace kt::artifact {
namespace {

// Far above what a 671B model needs (a few thousand tables: tensors,
// placement records, plan steps), far below what would make verification
// slow. Strings and scalar vectors (the vocabulary) do not count as tables.
constexpr flatbuffers::uoffset_t kMaxDepth = 16;
constexpr flatbuffers::uoffset_t kMaxTables = 1000000;

template <typename To, typename From>
To E(From v) {
  return static_cast<To>(static_cast<uint8_t>(v));
}

// FlatBuffers lets many offsets point at one string, vector or table, so a
// small buffer could decode into gigabytes of copies. A manifest written by
// kt never shares data, so every decoded byte is backed by its own buffer
// byte: decoding charges what it copies against the buffer size and stops
// when that is used up.
struct Budget {
  uint64_t left = 0;
  bool exceeded = false;
  bool Take(uint64_t n) {
    if (exceeded || n > left) {
      exceeded = true;
      return false;
    }
    left -= n;
    return true;
  }
};
thread_local Budget* g_budget = nullptr;

bool Charge(uint64_t n) { return g_budget->Take(n); }

std::string Str(const flatbuffers::String* s) {
  if (!s || !Charge(uint64_t{s->size()} + 4)) return std::string();
  return s->str();
}

Device FromFb(const fb::Device* d) {
  if (!d) return Device{};
  return Device{E<DeviceKind>(d->kind()), d->index()};
}

std::vector<std::string> Strings(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (!v || !Charge(uint64_t{v->size()} * 4)) return out;
  out.reserve(v->size());  // bounded: the verifier checked the vector fits in the buffer
  for (const flatbuffers::String* s : *v) out.push_back(Str(s));
  return out;
}

// The FlatBuffers verifier checks only the 4-byte alignment of a vector's
// length, so the elements of a vector of 8-byte scalars in a hostile file may
// be misaligned: copy the bytes instead of loading elements (little-endian
// hosts only, like the rest of the format).
template <typename T>
std::vector<T> Scalars(const flatbuffers::Vector<T>* v) {
  if (!v || !Charge(uint64_t{v->size()} * sizeof(T))) return {};
  std::vector<T> out(v->size());
  if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
  return out;
}

Hyperparameters DecodeHparams(const fb::Hyperparameters& h) {
  Hyperparameters o;
  o.architecture = Str(h.architecture());
  o.model_name = Str(h.model_name());
  o.context_length = h.context_length();
  o.embedding_length = h.embedding_length();
  o.block_count = h.block_count();
  o.feed_forward_length = h.feed_forward_length();
  o.vocab_size = h.vocab_size();
  o.leading_dense_block_count = h.leading_dense_block_count();
  o.expert_count = h.expert_count();
  o.expert_used_count = h.expert_used_count();
  o.expert_shared_count = h.expert_shared_count();
  o.expert_feed_forward_length = h.expert_feed_forward_length();
  o.expert_weights_scale = h.expert_weights_scale();
  o.expert_weights_norm = h.expert_weights_norm();
  o.expert_gating_func = E<GatingFunc>(h.expert_gating_func());
  o.expert_group_count = h.expert_group_count();
  o.expert_group_used_count = h.expert_group_used_count();
  o.head_count = h.head_count();
  o.head_count_kv = h.head_count_kv();
  o.rms_norm_epsilon = h.rms_norm_epsilon();
  o.q_lora_rank = h.q_lora_rank();
  o.kv_lora_rank = h.kv_lora_rank();
  o.key_length = h.key_length();
  o.value_length = h.value_length();
  o.key_length_mla = h.key_length_mla();
  o.value_length_mla = h.value_length_mla();
  o.rope_dimension_count = h.rope_dimension_count();
  o.rope_freq_base = h.rope_freq_base();
  o.rope_scaling_type = E<RopeScaling>(h.rope_scaling_type());
  o.rope_scaling_factor = h.rope_scaling_factor();
  o.rope_scaling_original_context_length = h.rope_scaling_original_context_length();
  o.rope_scaling_yarn_log_multiplier = h.rope_scaling_yarn_log_multiplier();
  return o;
}

Tokenizer DecodeTokenizer(const fb::Tokenizer& t) {
  Tokenizer o;
  o.model = Str(t.model());
  o.pre = Str(t.pre());
  o.tokens = Strings(t.tokens());
  o.token_types = Scalars(t.token_types());
  o.merges = Strings(t.merges());
  o.bos_token_id = t.bos_token_id();
  o.eos_token_id = t.eos_token_id();
  o.add_bos_token = t.add_bos_token();
  o.add_eos_token = t.add_eos_token();
  o.chat_template = Str(t.chat_template());
  return o;
}

Target DecodeTarget(const fb::Target& t) {
  Target o;
  o.cpu_isa = E<CpuIsa>(t.cpu_isa());
  o.cpu_layout = E<TensorLayout>(t.cpu_layout());
  o.gpu_arch = Str(t.gpu_arch());
  o.gpu_count = t.gpu_count();
  o.vram_budget_bytes = t.vram_budget_bytes();
  o.max_context = t.max_context();
  return o;
}

Manifest Decode(const fb::Manifest& root) {
  Manifest m;
  m.producer = Str(root.producer());
  m.source = Str(root.source());
  m.hparams = DecodeHparams(*root.hyperparameters());
  m.tokenizer = DecodeTokenizer(*root.tokenizer());
  m.target = DecodeTarget(*root.target());
  if (root.segments()) {
    m.segments.reserve(root.segments()->size());
    for (const fb::Segment* s : *root.segments()) {
      m.segments.push_back(Segment{E<SegmentKind>(s->kind()), FromFb(s->device()), s->offset(), s->length(),
                                   s->alignment()});
    }
  }
  if (root.tensors()) {
    m.tensors.reserve(root.tensors()->size());
    for (const fb::Tensor* t : *root.tensors()) {
      m.tensors.push_back(TensorInfo{Str(t->name()), t->segment(), t->offset(), t->length(), t->ggml_type(),
                                     E<TensorLayout>(t->layout()), t->layout_rows(), Scalars(t->shape()),
                                     t->checksum()});
    }
  }
  if (root.kernels()) {
    m.kernels.reserve(root.kernels()->size());
    for (const fb::KernelImage* k : *root.kernels()) {
      m.kernels.push_back(KernelImage{Str(k->name()), E<KernelFormat>(k->format()), Str(k->arch()),
                                      k->segment(), k->offset(), k->length(), k->checksum(),
                                      Strings(k->entry_points())});
    }
  }
  if (root.placement()) {
    m.placement.reserve(root.placement()->size());
    for (const fb::PlacementRecord* p : *root.placement()) {
      m.placement.push_back(PlacementRecord{Str(p->name()), p->layer(), E<OpKind>(p->kind()),
                                            FromFb(p->device()), Str(p->reason()), p->weight_bytes(),
                                            p->flops_per_token(), p->intensity()});
    }
  }
  if (root.plans()) {
    m.plans.reserve(root.plans()->size());
    for (const fb::Plan* p : *root.plans()) {
      Plan plan;
      plan.name = Str(p->name());
      if (p->steps()) {
        plan.steps.reserve(p->steps()->size());
        for (const fb::Step* s : *p->steps()) {
          plan.steps.push_back(Step{E<StepKind>(s->kind()), s->op(), FromFb(s->device()), Str(s->kernel_name()),
                                    s->kernel_image(), Scalars(s->tensors())});
        }
      }
      m.plans.push_back(std::move(plan));
    }
  }
  return m;
}

}  // namespace

StatusOr<Manifest> DecodeManifest(const uint8_t* data, uint64_t size) {
  if (size > FLATBUFFERS_MAX_BUFFER_SIZE) {
    return KT_ERROR(kOutOfRange, "manifest is ", size, " bytes, over the FlatBuffers limit of ",
                    FLATBUFFERS_MAX_BUFFER_SIZE);
  }
  // Size prefix, root offset, file identifier.
  if (size < 2 * sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength) {
    return KT_ERROR(kDataLoss, "manifest is ", size, " bytes, too short for a FlatBuffer");
  }
  const uint64_t prefix = flatbuffers::ReadScalar<flatbuffers::uoffset_t>(data);
  if (prefix + sizeof(flatbuffers::uoffset_t) != size) {
    return KT_ERROR(kDataLoss, "manifest size prefix says ", prefix, " bytes but manifest_length leaves ",
                    size - sizeof(flatbuffers::uoffset_t));
  }
  if (!flatbuffers::BufferHasIdentifier(data, fb::ManifestIdentifier(), /*size_prefixed=*/true)) {
    return KT_ERROR(kDataLoss, "manifest file_identifier is not \"", fb::ManifestIdentifier(), "\"");
  }
  flatbuffers::Verifier verifier(data, static_cast<size_t>(size), kMaxDepth, kMaxTables);
  if (!fb::VerifySizePrefixedManifestBuffer(verifier)) {
    return KT_ERROR(kDataLoss,
                    "manifest failed the FlatBuffers verifier (corrupt offsets, a missing required field "
                    "or nesting/table limits exceeded)");
  }
  const fb::Manifest& root = *fb::GetSizePrefixedManifest(data);
  Budget budget{size, false};
  g_budget = &budget;
  StatusOr<Manifest> result = Decode(root);
  g_budget = nullptr;
  if (budget.exceeded) {
    return KT_ERROR(kDataLoss, "manifest decodes to more data than its ", size,
                    " bytes hold: offsets alias each other (not written by kt)");
  }
  return result;
}

}  // namespace kt::artifact
