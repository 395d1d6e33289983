#include "compiler/Import/ConfigCheck.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "compiler/Import/ModelInfo.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace kt::import {
namespace {

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string FormatNumber(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

class Checker {
 public:
  Checker(const llvm::json::Object& obj, std::string config, std::string gguf)
      : obj_(obj), config_(std::move(config)), gguf_(std::move(gguf)) {}

  // A JSON number (or null, read as `null_value`) at `key`; nullopt when absent.
  std::optional<double> Number(const llvm::json::Object& o, const std::string& key, std::optional<double> null_value,
                               const std::string& where) {
    const llvm::json::Value* v = o.get(key);
    if (v == nullptr) return std::nullopt;
    if (v->kind() == llvm::json::Value::Null) {
      if (null_value) return null_value;
    } else if (std::optional<double> d = v->getAsNumber()) {
      return d;
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    os << *v;
    errors_.push_back(StrCat(where, key, " in ", config_, " is ", text, ", expected a number"));
    return std::nullopt;
  }

  // Integers compare exactly, floats to a relative 1e-5 (config.json holds
  // decimal text, GGUF float32).
  void Compare(const std::string& json_key, std::optional<double> json_value, const std::string& gguf_key,
               double gguf_value, bool is_float = false) {
    if (!json_value) return;
    const double a = *json_value, b = gguf_value;
    const bool same = is_float ? std::fabs(a - b) <= 1e-5 * std::max(std::fabs(a), std::fabs(b)) + 1e-12 : a == b;
    if (!same)
      errors_.push_back(StrCat(json_key, " ", FormatNumber(a), " in ", config_, " but ", gguf_key, " ",
                               FormatNumber(b), " in ", gguf_));
  }

  void Check(const std::string& json_key, const std::string& gguf_key, double gguf_value, bool is_float = false,
             std::optional<double> null_value = std::nullopt) {
    Compare(json_key, Number(obj_, json_key, null_value, ""), gguf_key, gguf_value, is_float);
  }

  void Error(std::string message) { errors_.push_back(std::move(message)); }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::string& config() const { return config_; }
  const std::string& gguf() const { return gguf_; }

 private:
  const llvm::json::Object& obj_;
  std::string config_, gguf_;
  std::vector<std::string> errors_;
};

}  // namespace

Status CheckConfigJsonText(const std::string& text, const std::string& config_path,
                           const artifact::Hyperparameters& h, const std::string& gguf_path) {
  const std::string config_name = Basename(config_path);
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) {
    std::string message = llvm::toString(parsed.takeError());
    return KT_ERROR(kInvalidArgument, config_path, ": not valid JSON: ", message);
  }
  const llvm::json::Object* obj = parsed->getAsObject();
  if (obj == nullptr) return KT_ERROR(kInvalidArgument, config_path, ": top level is not a JSON object");

  if (std::optional<llvm::StringRef> type = obj->getString("model_type")) {
    if (*type != "deepseek_v2" && *type != "deepseek_v3" && *type != "kimi_k2")
      return KT_ERROR(kInvalidArgument, config_path, ": model_type '", type->str(),
                      "' does not describe a deepseek2-architecture model (deepseek_v2, deepseek_v3, kimi_k2) but ",
                      Basename(gguf_path), " is general.architecture 'deepseek2'");
  }

  Checker c(*obj, config_name, Basename(gguf_path));
  const std::string a = "deepseek2.";
  c.Check("hidden_size", a + "embedding_length", h.embedding_length);
  c.Check("num_hidden_layers", a + "block_count", h.block_count);
  c.Check("num_attention_heads", a + "attention.head_count", h.head_count);
  c.Check("vocab_size", a + "vocab_size", h.vocab_size);
  c.Check("first_k_dense_replace", a + "leading_dense_block_count", h.leading_dense_block_count);
  if (h.leading_dense_block_count > 0) c.Check("intermediate_size", a + "feed_forward_length", h.feed_forward_length);
  if (h.leading_dense_block_count < h.block_count) {
    c.Check("moe_intermediate_size", a + "expert_feed_forward_length", h.expert_feed_forward_length);
    c.Check("n_routed_experts", a + "expert_count", h.expert_count);
    c.Check("num_experts_per_tok", a + "expert_used_count", h.expert_used_count);
    c.Check("n_shared_experts", a + "expert_shared_count", h.expert_shared_count, false, 0.0);
    c.Check("routed_scaling_factor", a + "expert_weights_scale", h.expert_weights_scale, true);
    // One group and no grouping are the same routing.
    auto groups = [](double g) { return g < 1 ? 1.0 : g; };
    if (std::optional<double> g = c.Number(*obj, "n_group", 1.0, ""))
      c.Compare("n_group", groups(*g), a + "expert_group_count", groups(h.expert_group_count));
    if (std::optional<double> g = c.Number(*obj, "topk_group", 1.0, ""))
      c.Compare("topk_group", groups(*g), a + "expert_group_used_count",
                h.expert_group_used_count ? h.expert_group_used_count : groups(h.expert_group_count));
    if (const llvm::json::Value* norm = obj->get("norm_topk_prob")) {
      std::optional<bool> b = norm->getAsBoolean();
      if (!b) {
        c.Error(StrCat("norm_topk_prob in ", c.config(), " is not true or false"));
      } else if (*b != h.expert_weights_norm) {
        c.Error(StrCat("norm_topk_prob ", *b ? "true" : "false", " in ", c.config(), " but ", a,
                       "expert_weights_norm ", h.expert_weights_norm ? "true" : "false", " in ", c.gguf()));
      }
    }
    if (std::optional<llvm::StringRef> scoring = obj->getString("scoring_func")) {
      const char* gguf_gating = h.expert_gating_func == artifact::GatingFunc::kSigmoid ? "sigmoid" : "softmax";
      if (*scoring != gguf_gating)
        c.Error(StrCat("scoring_func '", scoring->str(), "' in ", c.config(), " but ", a, "expert_gating_func ",
                       static_cast<int>(h.expert_gating_func), " (", gguf_gating, ") in ", c.gguf()));
    }
  }
  c.Check("q_lora_rank", a + "attention.q_lora_rank", h.q_lora_rank, false, 0.0);
  c.Check("kv_lora_rank", a + "attention.kv_lora_rank", h.kv_lora_rank);
  c.Check("qk_rope_head_dim", a + "rope.dimension_count", h.rope_dimension_count);
  StatusOr<AttentionDims> dims = ResolveAttentionDims(h, gguf_path);
  if (dims.ok()) {
    const std::string key_name = a + (h.key_length_mla ? "attention.key_length_mla" : "attention.key_length");
    const std::string value_name = a + (h.value_length_mla ? "attention.value_length_mla" : "attention.value_length");
    std::optional<double> nope = c.Number(*obj, "qk_nope_head_dim", std::nullopt, "");
    std::optional<double> rope = c.Number(*obj, "qk_rope_head_dim", std::nullopt, "");
    if (nope && rope)
      c.Compare("qk_nope_head_dim + qk_rope_head_dim", *nope + *rope, key_name, dims->qk_nope + dims->qk_rope);
    c.Check("v_head_dim", value_name, dims->v);
  }
  c.Check("rms_norm_eps", a + "attention.layer_norm_rms_epsilon", h.rms_norm_epsilon, true);
  c.Check("rope_theta", a + "rope.freq_base", h.rope_freq_base, true);
  if (h.context_length) c.Check("max_position_embeddings", a + "context_length", h.context_length);
  if (const llvm::json::Value* rs = obj->get("rope_scaling")) {
    if (const llvm::json::Object* scaling = rs->getAsObject()) {
      std::optional<llvm::StringRef> type = scaling->getString("type");
      if (!type) type = scaling->getString("rope_type");
      if (type && *type == "yarn") {
        if (h.rope_scaling_type != artifact::RopeScaling::kYarn)
          c.Error(StrCat("rope_scaling.type 'yarn' in ", c.config(), " but ", a, "rope.scaling.type '",
                         artifact::Name(h.rope_scaling_type), "' in ", c.gguf()));
        c.Compare("rope_scaling.factor", c.Number(*scaling, "factor", std::nullopt, "rope_scaling."),
                  a + "rope.scaling.factor", h.rope_scaling_factor, true);
        c.Compare("rope_scaling.original_max_position_embeddings",
                  c.Number(*scaling, "original_max_position_embeddings", std::nullopt, "rope_scaling."),
                  a + "rope.scaling.original_context_length", h.rope_scaling_original_context_length);
        // llama.cpp's converter writes 0.1 * mscale_all_dim.
        if (std::optional<double> m = c.Number(*scaling, "mscale_all_dim", std::nullopt, "rope_scaling."))
          c.Compare("0.1 * rope_scaling.mscale_all_dim", 0.1 * *m, a + "rope.scaling.yarn_log_multiplier",
                    h.rope_scaling_yarn_log_multiplier, true);
      }
    } else if (rs->kind() != llvm::json::Value::Null) {
      c.Error(StrCat("rope_scaling in ", c.config(), " is not an object"));
    }
  }
  if (c.errors().empty()) return Status::Ok();
  std::string message = StrCat(c.errors().size(), " mismatch", c.errors().size() == 1 ? "" : "es", " between ",
                               config_path, " and ", gguf_path, ":");
  for (const std::string& e : c.errors()) message += "\n  " + e;
  return KT_ERROR(kInvalidArgument, message);
}

Status CheckConfigJson(const std::string& config_path, const artifact::Hyperparameters& h,
                       const std::string& gguf_path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(config_path, ec);
  if (ec) return KT_ERROR(kNotFound, config_path, ": cannot read config file: ", ec.message());
  if (size > (64u << 20)) return KT_ERROR(kInvalidArgument, config_path, ": larger than 64 MiB; not a config.json");
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return KT_ERROR(kNotFound, config_path, ": cannot open config file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return KT_ERROR(kDataLoss, config_path, ": read error");
  return CheckConfigJsonText(ss.str(), config_path, h, gguf_path);
}

}  // namespace kt::import
