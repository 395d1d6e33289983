// Test helper: a small random deepseek2 model held in memory (f32), in either
// the legacy attn_kv_b or the split attn_k_b/attn_v_b layout. Both layouts
// are derived from the same kv_b values, so they compute the same function.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "runtime/model/deepseek_config.h"
#include "runtime/model/weight_table.h"

namespace kt::reference::testing {

inline model::DeepseekConfig TinyConfig() {
  model::DeepseekConfig c;
  c.hidden = 64;
  c.n_layer = 3;
  c.n_head = 4;
  c.q_lora_rank = 32;
  c.kv_lora_rank = 32;
  c.qk_nope_dim = 16;
  c.qk_rope_dim = 8;
  c.v_head_dim = 12;
  c.vocab = 50;
  c.n_dense_lead = 1;
  c.dense_ff = 48;
  c.n_expert = 8;
  c.n_expert_used = 3;
  c.n_expert_shared = 1;
  c.expert_ff = 16;
  c.gating = model::GatingFunc::kSigmoid;
  c.has_score_bias = true;
  c.n_group = 4;
  c.n_group_used = 2;
  c.group_score = model::GroupScore::kTop2Sum;
  c.norm_topk = true;
  c.routed_scale = 2.5f;
  c.yarn_factor = 40.0f;
  c.yarn_orig_ctx = 64;
  c.yarn_log_mul = 0.1f;
  c.context_length = 2560;
  return c;
}

class TinyModel {
 public:
  TinyModel(const model::DeepseekConfig& c, uint64_t seed, bool legacy_kv_b) : config(c), rng_(seed) {
    const int64_t E = c.hidden, H = c.n_head, nope = c.qk_nope_dim, rope = c.qk_rope_dim, vd = c.v_head_dim;
    const int64_t kvr = c.kv_lora_rank;
    Matrix("token_embd.weight", {E, c.vocab}, 1.0f);
    Norm("output_norm.weight", E);
    Matrix("output.weight", {E, c.vocab});
    for (uint32_t il = 0; il < c.n_layer; ++il) {
      const std::string p = "blk." + std::to_string(il) + ".";
      Norm(p + "attn_norm.weight", E);
      if (c.q_lora_rank > 0) {
        Matrix(p + "attn_q_a.weight", {E, c.q_lora_rank});
        Norm(p + "attn_q_a_norm.weight", c.q_lora_rank);
        Matrix(p + "attn_q_b.weight", {c.q_lora_rank, H * (nope + rope)});
      } else {
        Matrix(p + "attn_q.weight", {E, H * (nope + rope)});
      }
      Matrix(p + "attn_kv_a_mqa.weight", {E, kvr + rope});
      Norm(p + "attn_kv_a_norm.weight", kvr);
      std::vector<float> kv_b = Random(kvr * H * (nope + vd), 1.0f / std::sqrt(float(kvr)));
      if (legacy_kv_b) {
        Put(p + "attn_kv_b.weight", {kvr, H * (nope + vd), 1, 1}, kv_b);
      } else {
        std::vector<float> k_b(nope * kvr * H), v_b(kvr * vd * H);
        for (int64_t h = 0; h < H; ++h) {
          for (int64_t d = 0; d < nope; ++d)
            for (int64_t i = 0; i < kvr; ++i) k_b[(h * kvr + i) * nope + d] = kv_b[(h * (nope + vd) + d) * kvr + i];
          for (int64_t j = 0; j < vd; ++j)
            for (int64_t i = 0; i < kvr; ++i) v_b[(h * vd + j) * kvr + i] = kv_b[(h * (nope + vd) + nope + j) * kvr + i];
        }
        Put(p + "attn_k_b.weight", {nope, kvr, H, 1}, k_b);
        Put(p + "attn_v_b.weight", {kvr, vd, H, 1}, v_b);
      }
      Matrix(p + "attn_output.weight", {H * vd, E});
      Norm(p + "ffn_norm.weight", E);
      if (!c.is_moe_layer(il)) {
        Matrix(p + "ffn_gate.weight", {E, c.dense_ff});
        Matrix(p + "ffn_up.weight", {E, c.dense_ff});
        Matrix(p + "ffn_down.weight", {c.dense_ff, E});
        continue;
      }
      const int64_t X = c.n_expert, F = c.expert_ff;
      Matrix(p + "ffn_gate_inp.weight", {E, X});
      if (c.has_score_bias) Put(p + "exp_probs_b.bias", {X, 1, 1, 1}, Random(X, 0.05f));
      Matrix(p + "ffn_gate_exps.weight", {E, F, X});
      Matrix(p + "ffn_up_exps.weight", {E, F, X});
      Matrix(p + "ffn_down_exps.weight", {F, E, X});
      if (c.n_expert_shared > 0) {
        const int64_t FS = F * c.n_expert_shared;
        Matrix(p + "ffn_gate_shexp.weight", {E, FS});
        Matrix(p + "ffn_up_shexp.weight", {E, FS});
        Matrix(p + "ffn_down_shexp.weight", {FS, E});
      }
    }
  }
  TinyModel(const TinyModel&) = delete;
  TinyModel& operator=(const TinyModel&) = delete;

  model::DeepseekConfig config;
  model::MapWeightTable table;

 private:
  std::vector<float> Random(int64_t n, float stddev) {
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = dist(rng_);
    return v;
  }
  void Put(const std::string& name, std::array<int64_t, 4> ne, std::vector<float> data) {
    std::vector<float>& stored = storage_[name];
    stored = std::move(data);
    table.Add(name, {quant::GgmlType::kF32, ne, stored.data(), stored.size() * sizeof(float)});
  }
  void Matrix(const std::string& name, std::array<int64_t, 3> ne, float stddev = 0.0f) {
    if (ne[2] == 0) ne[2] = 1;  // two-dimensional
    if (stddev == 0.0f) stddev = 1.0f / std::sqrt(float(ne[0]));
    Put(name, {ne[0], ne[1], ne[2], 1}, Random(ne[0] * ne[1] * ne[2], stddev));
  }
  void Norm(const std::string& name, int64_t n) {
    std::vector<float> v = Random(n, 0.05f);
    for (float& x : v) x += 1.0f;
    Put(name, {n, 1, 1, 1}, std::move(v));
  }
  std::mt19937_64 rng_;
  std::map<std::string, std::vector<float>> storage_;  // map nodes keep data pointers stable
};

}  // namespace kt::reference::testing
