#include "compiler/Import/ModelInfo.h"

#include <cmath>
#include <limits>
#include <string_view>

namespace kt::import {
namespace {

using artifact::GatingFunc;
using artifact::RopeScaling;

constexpr std::string_view kArch = "deepseek2";

// Typed access to "deepseek2.<suffix>" keys with errors naming key and file.
class Keys {
 public:
  explicit Keys(const gguf::GgufFile& f) : f_(f) {}

  std::string Name(std::string_view suffix) const { return StrCat(kArch, ".", suffix); }
  bool Has(std::string_view suffix) const { return f_.Find(Name(suffix)) != nullptr; }

  StatusOr<uint32_t> U32(std::string_view suffix) const {
    const std::string key = Name(suffix);
    const gguf::GgufValue* v = f_.Find(key);
    if (v == nullptr)
      return KT_ERROR(kNotFound, f_.name(), ": required key '", key, "' is missing");
    StatusOr<uint64_t> value = v->AsUint(key);
    if (!value.ok()) return Wrap(value.status());
    const uint64_t u = *value;
    if (u > std::numeric_limits<uint32_t>::max())
      return KT_ERROR(kOutOfRange, f_.name(), ": ", key, " = ", u, " does not fit 32 bits");
    return static_cast<uint32_t>(u);
  }
  StatusOr<uint32_t> U32Or(std::string_view suffix, uint32_t fallback) const {
    if (!Has(suffix)) return fallback;
    return U32(suffix);
  }
  StatusOr<float> F32Or(std::string_view suffix, float fallback) const {
    const std::string key = Name(suffix);
    const gguf::GgufValue* v = f_.Find(key);
    if (v == nullptr) return fallback;
    StatusOr<double> d = v->AsFloat(key);
    if (!d.ok()) return Wrap(d.status());
    if (!std::isfinite(*d))
      return KT_ERROR(kInvalidArgument, f_.name(), ": ", key, " = ", *d, " is not a finite number");
    return static_cast<float>(*d);
  }
  StatusOr<bool> BoolOr(std::string_view suffix, bool fallback) const {
    const std::string key = Name(suffix);
    const gguf::GgufValue* v = f_.Find(key);
    if (v == nullptr) return fallback;
    StatusOr<bool> b = v->AsBool(key);
    if (!b.ok()) return Wrap(b.status());
    return *b;
  }
  StatusOr<std::string> StrOr(std::string_view suffix, std::string fallback) const {
    const std::string key = Name(suffix);
    const gguf::GgufValue* v = f_.Find(key);
    if (v == nullptr) return fallback;
    StatusOr<std::string> s = v->AsString(key);
    if (!s.ok()) return Wrap(s.status());
    return *s;
  }

 private:
  Status Wrap(const Status& s) const { return s.WithContext(f_.name()); }
  const gguf::GgufFile& f_;
};

}  // namespace

const std::vector<std::string>& SupportedArchitectures() {
  static const std::vector<std::string> kSupported = {std::string(kArch)};
  return kSupported;
}

Status CheckArchitecture(const gguf::GgufFile& f) {
  const gguf::GgufValue* v = f.Find("general.architecture");
  if (v == nullptr)
    return KT_ERROR(kInvalidArgument, f.name(), ": key 'general.architecture' is missing; is this a model GGUF?");
  StatusOr<std::string> arch = v->AsString("general.architecture");
  if (!arch.ok()) return arch.status().WithContext(f.name());
  for (const std::string& a : SupportedArchitectures())
    if (*arch == a) return Status::Ok();
  std::string list;
  for (const std::string& a : SupportedArchitectures()) list += (list.empty() ? "" : ", ") + a;
  return KT_ERROR(kUnimplemented, f.name(), ": general.architecture '", *arch,
                  "' is not supported (supported: ", list,
                  " -- DeepSeek-V2, V2-Lite, V2.5, V3, R1, Kimi-K2 GGUFs)");
}

StatusOr<artifact::Hyperparameters> ReadHyperparameters(const gguf::GgufFile& f) {
  KT_RETURN_IF_ERROR(CheckArchitecture(f));
  const Keys k(f);
  artifact::Hyperparameters h;
  h.architecture = std::string(kArch);
  if (const gguf::GgufValue* name = f.Find("general.name")) {
    StatusOr<std::string> s = name->AsString("general.name");
    if (s.ok()) h.model_name = *s;
  }
  KT_ASSIGN_OR_RETURN(h.context_length, k.U32Or("context_length", 0));
  KT_ASSIGN_OR_RETURN(h.embedding_length, k.U32("embedding_length"));
  KT_ASSIGN_OR_RETURN(h.block_count, k.U32("block_count"));
  KT_ASSIGN_OR_RETURN(h.feed_forward_length, k.U32Or("feed_forward_length", 0));
  // vocab_size is optional in GGUF; the embedding table is the authority.
  const gguf::GgufTensorInfo* embd = f.FindTensor("token_embd.weight");
  if (embd == nullptr) return KT_ERROR(kNotFound, f.name(), ": tensor 'token_embd.weight' is missing");
  if (embd->ne.size() != 2 || embd->ne[1] == 0 || embd->ne[1] > std::numeric_limits<uint32_t>::max())
    return KT_ERROR(kInvalidArgument, f.name(), ": token_embd.weight is not a 2-D {hidden, vocab} tensor");
  KT_ASSIGN_OR_RETURN(h.vocab_size, k.U32Or("vocab_size", static_cast<uint32_t>(embd->ne[1])));
  if (h.vocab_size != embd->ne[1])
    return KT_ERROR(kInvalidArgument, f.name(), ": deepseek2.vocab_size ", h.vocab_size,
                    " but token_embd.weight has ", embd->ne[1], " rows");
  KT_ASSIGN_OR_RETURN(h.leading_dense_block_count, k.U32Or("leading_dense_block_count", 0));
  if (h.leading_dense_block_count > h.block_count)
    return KT_ERROR(kInvalidArgument, f.name(), ": deepseek2.leading_dense_block_count ",
                    h.leading_dense_block_count, " exceeds deepseek2.block_count ", h.block_count);
  const bool has_moe = h.leading_dense_block_count < h.block_count;
  if (has_moe) {
    KT_ASSIGN_OR_RETURN(h.expert_count, k.U32("expert_count"));
    KT_ASSIGN_OR_RETURN(h.expert_used_count, k.U32("expert_used_count"));
    KT_ASSIGN_OR_RETURN(h.expert_feed_forward_length, k.U32("expert_feed_forward_length"));
  } else {
    KT_ASSIGN_OR_RETURN(h.expert_count, k.U32Or("expert_count", 0));
    KT_ASSIGN_OR_RETURN(h.expert_used_count, k.U32Or("expert_used_count", 0));
    KT_ASSIGN_OR_RETURN(h.expert_feed_forward_length, k.U32Or("expert_feed_forward_length", 0));
  }
  if (h.expert_used_count > h.expert_count)
    return KT_ERROR(kInvalidArgument, f.name(), ": deepseek2.expert_used_count ", h.expert_used_count,
                    " exceeds deepseek2.expert_count ", h.expert_count);
  KT_ASSIGN_OR_RETURN(h.expert_shared_count, k.U32Or("expert_shared_count", 0));
  KT_ASSIGN_OR_RETURN(h.expert_weights_scale, k.F32Or("expert_weights_scale", 1.0f));
  KT_ASSIGN_OR_RETURN(h.expert_weights_norm, k.BoolOr("expert_weights_norm", false));
  // Absent in V2/V2.5 files; llama.cpp reads 0 (none) as softmax too.
  KT_ASSIGN_OR_RETURN(uint32_t gating, k.U32Or("expert_gating_func", 1));
  if (gating == 0 || gating == 1) {
    h.expert_gating_func = GatingFunc::kSoftmax;
  } else if (gating == 2) {
    h.expert_gating_func = GatingFunc::kSigmoid;
  } else {
    return KT_ERROR(kUnimplemented, f.name(), ": deepseek2.expert_gating_func ", gating,
                    " is not supported (1 softmax, 2 sigmoid)");
  }
  KT_ASSIGN_OR_RETURN(h.expert_group_count, k.U32Or("expert_group_count", 0));
  KT_ASSIGN_OR_RETURN(h.expert_group_used_count, k.U32Or("expert_group_used_count", 0));
  if (h.expert_group_used_count > h.expert_group_count)
    return KT_ERROR(kInvalidArgument, f.name(), ": deepseek2.expert_group_used_count ",
                    h.expert_group_used_count, " exceeds deepseek2.expert_group_count ", h.expert_group_count);
  if (has_moe && h.expert_group_count > 1 && h.expert_count % h.expert_group_count != 0)
    return KT_ERROR(kInvalidArgument, f.name(), ": deepseek2.expert_group_count ", h.expert_group_count,
                    " does not divide deepseek2.expert_count ", h.expert_count);

  KT_ASSIGN_OR_RETURN(h.head_count, k.U32("attention.head_count"));
  KT_ASSIGN_OR_RETURN(h.head_count_kv, k.U32Or("attention.head_count_kv", h.head_count));
  KT_ASSIGN_OR_RETURN(h.rms_norm_epsilon, k.F32Or("attention.layer_norm_rms_epsilon", 1e-6f));
  KT_ASSIGN_OR_RETURN(h.q_lora_rank, k.U32Or("attention.q_lora_rank", 0));
  KT_ASSIGN_OR_RETURN(h.kv_lora_rank, k.U32("attention.kv_lora_rank"));
  KT_ASSIGN_OR_RETURN(h.key_length, k.U32("attention.key_length"));
  KT_ASSIGN_OR_RETURN(h.value_length, k.U32("attention.value_length"));
  KT_ASSIGN_OR_RETURN(h.key_length_mla, k.U32Or("attention.key_length_mla", 0));
  KT_ASSIGN_OR_RETURN(h.value_length_mla, k.U32Or("attention.value_length_mla", 0));
  KT_ASSIGN_OR_RETURN(h.rope_dimension_count, k.U32("rope.dimension_count"));
  KT_ASSIGN_OR_RETURN(h.rope_freq_base, k.F32Or("rope.freq_base", 10000.0f));
  KT_ASSIGN_OR_RETURN(std::string scaling, k.StrOr("rope.scaling.type", "none"));
  if (scaling == "none" || scaling.empty()) {
    h.rope_scaling_type = RopeScaling::kNone;
  } else if (scaling == "linear") {
    h.rope_scaling_type = RopeScaling::kLinear;
  } else if (scaling == "yarn") {
    h.rope_scaling_type = RopeScaling::kYarn;
  } else {
    return KT_ERROR(kUnimplemented, f.name(), ": deepseek2.rope.scaling.type '", scaling,
                    "' is not supported (none, linear, yarn)");
  }
  KT_ASSIGN_OR_RETURN(h.rope_scaling_factor, k.F32Or("rope.scaling.factor", 1.0f));
  KT_ASSIGN_OR_RETURN(h.rope_scaling_original_context_length,
                      k.U32Or("rope.scaling.original_context_length", h.context_length));
  KT_ASSIGN_OR_RETURN(h.rope_scaling_yarn_log_multiplier, k.F32Or("rope.scaling.yarn_log_multiplier", 0.0f));

  auto positive = [&](uint32_t v, std::string_view key) -> Status {
    if (v == 0) return KT_ERROR(kInvalidArgument, f.name(), ": deepseek2.", key, " must be positive");
    return Status::Ok();
  };
  KT_RETURN_IF_ERROR(positive(h.embedding_length, "embedding_length"));
  KT_RETURN_IF_ERROR(positive(h.block_count, "block_count"));
  KT_RETURN_IF_ERROR(positive(h.head_count, "attention.head_count"));
  KT_RETURN_IF_ERROR(positive(h.kv_lora_rank, "attention.kv_lora_rank"));
  KT_RETURN_IF_ERROR(positive(h.rope_dimension_count, "rope.dimension_count"));
  if (has_moe) {
    KT_RETURN_IF_ERROR(positive(h.expert_count, "expert_count"));
    KT_RETURN_IF_ERROR(positive(h.expert_used_count, "expert_used_count"));
    KT_RETURN_IF_ERROR(positive(h.expert_feed_forward_length, "expert_feed_forward_length"));
  }
  if (h.leading_dense_block_count > 0) KT_RETURN_IF_ERROR(positive(h.feed_forward_length, "feed_forward_length"));
  KT_RETURN_IF_ERROR(ResolveAttentionDims(h, f.name()).status());
  return h;
}

StatusOr<AttentionDims> ResolveAttentionDims(const artifact::Hyperparameters& h, const std::string& file) {
  // Split k_b/v_b files describe the cached latent head in key_length and
  // the per-head sizes in *_mla; legacy files only have the per-head ones.
  const uint32_t key = h.key_length_mla ? h.key_length_mla : h.key_length;
  const uint32_t value = h.value_length_mla ? h.value_length_mla : h.value_length;
  const char* key_name = h.key_length_mla ? "deepseek2.attention.key_length_mla" : "deepseek2.attention.key_length";
  if (key <= h.rope_dimension_count)
    return KT_ERROR(kInvalidArgument, file, ": ", key_name, " ", key, " is not larger than deepseek2.rope.dimension_count ",
                    h.rope_dimension_count);
  if (value == 0) return KT_ERROR(kInvalidArgument, file, ": the value head length is 0");
  return AttentionDims{key - h.rope_dimension_count, h.rope_dimension_count, value};
}

namespace {

StatusOr<std::vector<std::string>> StringArray(const gguf::GgufFile& f, const std::string& key, bool required) {
  const gguf::GgufValue* v = f.Find(key);
  if (v == nullptr) {
    if (required) return KT_ERROR(kNotFound, f.name(), ": required key '", key, "' is missing");
    return std::vector<std::string>{};
  }
  if (v->type != gguf::GgufType::kArray || v->elem_type != gguf::GgufType::kString)
    return KT_ERROR(kInvalidArgument, f.name(), ": ", key, " is ", gguf::GgufTypeName(v->type),
                    ", expected an array of strings");
  std::vector<std::string> out;
  out.reserve(v->elems.size());
  for (const gguf::GgufValue& e : v->elems) out.push_back(e.str);
  return out;
}

StatusOr<int32_t> TokenId(const gguf::GgufFile& f, const std::string& key, size_t n_tokens) {
  const gguf::GgufValue* v = f.Find(key);
  if (v == nullptr) return -1;
  StatusOr<uint64_t> id = v->AsUint(key);
  if (!id.ok()) return id.status().WithContext(f.name());
  if (*id >= n_tokens)
    return KT_ERROR(kOutOfRange, f.name(), ": ", key, " ", *id, " is not a token id (", n_tokens, " tokens)");
  return static_cast<int32_t>(*id);
}

StatusOr<bool> OptionalBool(const gguf::GgufFile& f, const std::string& key, bool fallback) {
  const gguf::GgufValue* v = f.Find(key);
  if (v == nullptr) return fallback;
  StatusOr<bool> b = v->AsBool(key);
  if (!b.ok()) return b.status().WithContext(f.name());
  return *b;
}

}  // namespace

StatusOr<artifact::Tokenizer> ReadTokenizer(const gguf::GgufFile& f) {
  artifact::Tokenizer t;
  KT_ASSIGN_OR_RETURN(t.model, f.GetString("tokenizer.ggml.model"));
  if (const gguf::GgufValue* pre = f.Find("tokenizer.ggml.pre")) {
    StatusOr<std::string> s = pre->AsString("tokenizer.ggml.pre");
    if (!s.ok()) return s.status().WithContext(f.name());
    t.pre = *s;
  }
  KT_ASSIGN_OR_RETURN(t.tokens, StringArray(f, "tokenizer.ggml.tokens", true));
  if (t.tokens.empty()) return KT_ERROR(kInvalidArgument, f.name(), ": tokenizer.ggml.tokens is empty");
  if (const gguf::GgufValue* types = f.Find("tokenizer.ggml.token_type")) {
    if (types->type != gguf::GgufType::kArray)
      return KT_ERROR(kInvalidArgument, f.name(), ": tokenizer.ggml.token_type is not an array");
    if (types->elems.size() != t.tokens.size())
      return KT_ERROR(kInvalidArgument, f.name(), ": tokenizer.ggml.token_type has ", types->elems.size(),
                      " entries for ", t.tokens.size(), " tokens");
    t.token_types.reserve(types->elems.size());
    for (const gguf::GgufValue& e : types->elems) {
      StatusOr<int64_t> v = e.AsInt("tokenizer.ggml.token_type");
      if (!v.ok()) return v.status().WithContext(f.name());
      if (*v < INT32_MIN || *v > INT32_MAX)
        return KT_ERROR(kOutOfRange, f.name(), ": tokenizer.ggml.token_type value ", *v, " out of range");
      t.token_types.push_back(static_cast<int32_t>(*v));
    }
  }
  KT_ASSIGN_OR_RETURN(t.merges, StringArray(f, "tokenizer.ggml.merges", false));
  KT_ASSIGN_OR_RETURN(t.bos_token_id, TokenId(f, "tokenizer.ggml.bos_token_id", t.tokens.size()));
  KT_ASSIGN_OR_RETURN(t.eos_token_id, TokenId(f, "tokenizer.ggml.eos_token_id", t.tokens.size()));
  // llama.cpp adds BOS for deepseek2 models unless the file says otherwise.
  KT_ASSIGN_OR_RETURN(t.add_bos_token, OptionalBool(f, "tokenizer.ggml.add_bos_token", true));
  KT_ASSIGN_OR_RETURN(t.add_eos_token, OptionalBool(f, "tokenizer.ggml.add_eos_token", false));
  if (const gguf::GgufValue* tmpl = f.Find("tokenizer.chat_template")) {
    StatusOr<std::string> s = tmpl->AsString("tokenizer.chat_template");
    if (!s.ok()) return s.status().WithContext(f.name());
    t.chat_template = *s;
  }
  return t;
}

}  // namespace kt::import
