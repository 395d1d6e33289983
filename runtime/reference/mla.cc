#include "runtime/reference/mla.h"

#include <algorithm>
#include <vector>

namespace kt::reference {

MlaHeads::MlaHeads(const model::DeepseekConfig& c, const model::LayerWeights& l)
    : nope_(c.qk_nope_dim), kv_lora_(c.kv_lora_rank), v_dim_(c.v_head_dim), legacy_(l.kv_b.has_value()) {
  if (legacy_) {
    kv_b_ = RowMatrix::Of(*l.kv_b);
  } else {
    k_b_ = RowMatrix::Of(*l.k_b);
    v_b_ = RowMatrix::Of(*l.v_b);
  }
}

void MlaHeads::KNope(uint32_t h, std::span<const float> latent, std::span<float> out) const {
  if (legacy_) {
    // Rows h·(nope+v) .. +nope of attn_kv_b are head h's k_nope projection.
    MatVec(kv_b_.Rows(int64_t{h} * (nope_ + v_dim_), nope_), latent, out);
  } else {
    // attn_k_b head h is stored transposed: kv_lora rows of nope values.
    MatTVec(k_b_.Rows(int64_t{h} * kv_lora_, kv_lora_), latent, out);
  }
}

void MlaHeads::AbsorbQ(uint32_t h, std::span<const float> q_nope, std::span<float> out) const {
  if (legacy_) {
    MatTVec(kv_b_.Rows(int64_t{h} * (nope_ + v_dim_), nope_), q_nope, out);
  } else {
    MatVec(k_b_.Rows(int64_t{h} * kv_lora_, kv_lora_), q_nope, out);
  }
}

void MlaHeads::Value(uint32_t h, std::span<const float> latent, std::span<float> out) const {
  if (legacy_) {
    MatVec(kv_b_.Rows(int64_t{h} * (nope_ + v_dim_) + nope_, v_dim_), latent, out);
  } else {
    MatVec(v_b_.Rows(int64_t{h} * v_dim_, v_dim_), latent, out);
  }
}

void MlaAttend(MlaForm form, const model::DeepseekConfig& c, const MlaHeads& heads, const kv::MlaKvCache& cache,
               uint32_t layer, std::span<const float> q, std::span<const uint32_t> key_positions,
               std::span<float> out) {
  const uint32_t nope = c.qk_nope_dim, rope = c.qk_rope_dim, vd = c.v_head_dim, kvr = c.kv_lora_rank;
  const float scale = c.KqScale();
  const size_t n_keys = key_positions.size();
  std::vector<float> scores(n_keys);
  std::vector<float> tmp(std::max(nope, std::max(kvr, vd)));
  std::vector<double> acc;
  std::vector<float> acc_f;

  for (uint32_t h = 0; h < c.n_head; ++h) {
    std::span<const float> q_nope = q.subspan(size_t{h} * (nope + rope), nope);
    std::span<const float> q_pe = q.subspan(size_t{h} * (nope + rope) + nope, rope);
    std::span<float> out_h = out.subspan(size_t{h} * vd, vd);

    if (form == MlaForm::kNaive) {
      std::span<float> k_nope(tmp.data(), nope);
      for (size_t j = 0; j < n_keys; ++j) {
        heads.KNope(h, cache.Latent(layer, key_positions[j]), k_nope);
        const double s = Dot(q_nope, k_nope) + Dot(q_pe, cache.KPe(layer, key_positions[j]));
        scores[j] = static_cast<float>(s) * scale;
      }
      Softmax(scores);
      acc.assign(vd, 0.0);
      std::span<float> v(tmp.data(), vd);
      for (size_t j = 0; j < n_keys; ++j) {
        heads.Value(h, cache.Latent(layer, key_positions[j]), v);
        for (uint32_t i = 0; i < vd; ++i) acc[i] += static_cast<double>(scores[j]) * v[i];
      }
      for (uint32_t i = 0; i < vd; ++i) out_h[i] = static_cast<float>(acc[i]);
    } else {
      std::vector<float> q_abs(kvr);
      heads.AbsorbQ(h, q_nope, q_abs);
      for (size_t j = 0; j < n_keys; ++j) {
        const double s = Dot(q_abs, cache.Latent(layer, key_positions[j])) +
                         Dot(q_pe, cache.KPe(layer, key_positions[j]));
        scores[j] = static_cast<float>(s) * scale;
      }
      Softmax(scores);
      acc.assign(kvr, 0.0);
      for (size_t j = 0; j < n_keys; ++j) {
        std::span<const float> latent = cache.Latent(layer, key_positions[j]);
        for (uint32_t i = 0; i < kvr; ++i) acc[i] += static_cast<double>(scores[j]) * latent[i];
      }
      acc_f.assign(acc.begin(), acc.end());
      heads.Value(h, acc_f, out_h);
    }
  }
}

}  // namespace kt::reference
