#include "runtime/reference/forward.h"

#include <algorithm>
#include <set>

#include "runtime/reference/ops.h"
#include "runtime/reference/routing.h"

namespace kt::reference {
namespace {

std::vector<float> ReadVector(const model::WeightView& view) {
  std::vector<float> v(static_cast<size_t>(view.ne[0]));
  RowMatrix::Of(view).Row(0, v.data());
  return v;
}

}  // namespace

StatusOr<ReferenceModel> ReferenceModel::Create(const model::DeepseekConfig& config,
                                                const model::WeightTable& table) {
  ReferenceModel m;
  m.config_ = config;
  KT_ASSIGN_OR_RETURN(m.weights_, model::BindDeepseekWeights(config, table));
  m.rope_ = DeepseekRopeParams(config);
  return m;
}

void ReferenceModel::Attention(uint32_t il, std::span<const float> x, uint32_t pos, std::span<float> q,
                               std::span<float> latent, std::span<float> k_pe) const {
  const model::DeepseekConfig& c = config_;
  const model::LayerWeights& l = weights_.layers[il];
  if (c.q_lora_rank > 0) {
    std::vector<float> qa(c.q_lora_rank);
    MatVec(RowMatrix::Of(*l.q_a), x, qa);
    RmsNorm(qa, ReadVector(*l.q_a_norm), c.rms_eps, qa);
    MatVec(RowMatrix::Of(*l.q_b), qa, q);
  } else {
    MatVec(RowMatrix::Of(*l.q), x, q);
  }
  const uint32_t head_k = c.head_k_dim();
  for (uint32_t h = 0; h < c.n_head; ++h) {
    ApplyRope(rope_, pos, q.subspan(size_t{h} * head_k + c.qk_nope_dim, c.qk_rope_dim));
  }
  std::vector<float> kv_a(c.kv_lora_rank + c.qk_rope_dim);
  MatVec(RowMatrix::Of(l.kv_a_mqa), x, kv_a);
  RmsNorm(std::span<const float>(kv_a).first(c.kv_lora_rank), ReadVector(l.kv_a_norm), c.rms_eps, latent);
  std::copy(kv_a.begin() + c.kv_lora_rank, kv_a.end(), k_pe.begin());
  ApplyRope(rope_, pos, k_pe);
}

void ReferenceModel::DenseFfn(const model::WeightView& gate, const model::WeightView& up,
                              const model::WeightView& down, std::span<const float> x, std::span<float> out) const {
  RowMatrix g = RowMatrix::Of(gate), u = RowMatrix::Of(up);
  std::vector<float> a(static_cast<size_t>(g.rows)), b(static_cast<size_t>(u.rows));
  MatVec(g, x, a);
  MatVec(u, x, b);
  for (size_t i = 0; i < a.size(); ++i) a[i] = Silu(a[i]) * b[i];
  MatVec(RowMatrix::Of(down), a, out);
}

void ReferenceModel::Ffn(uint32_t il, std::span<const float> x, std::span<float> out) const {
  const model::DeepseekConfig& c = config_;
  const model::LayerWeights& l = weights_.layers[il];
  if (!c.is_moe_layer(il)) {
    DenseFfn(*l.ffn_gate, *l.ffn_up, *l.ffn_down, x, out);
    return;
  }
  std::vector<float> router(c.n_expert);
  MatVec(RowMatrix::Of(*l.gate_inp), x, router);
  std::vector<float> bias;
  if (l.exp_probs_b) bias = ReadVector(*l.exp_probs_b);
  const Route route = RouteToken(c, router, bias);

  const int64_t F = c.expert_ff, E = c.hidden;
  const RowMatrix gate = RowMatrix::Of(*l.gate_exps), up = RowMatrix::Of(*l.up_exps),
                  down = RowMatrix::Of(*l.down_exps);
  std::vector<double> acc(E, 0.0);
  std::vector<float> a(F), b(F), y(E);
  for (size_t k = 0; k < route.experts.size(); ++k) {
    const int64_t e = route.experts[k];
    MatVec(gate.Rows(e * F, F), x, a);
    MatVec(up.Rows(e * F, F), x, b);
    for (int64_t i = 0; i < F; ++i) a[i] = Silu(a[i]) * b[i];
    MatVec(down.Rows(e * E, E), a, y);
    for (int64_t i = 0; i < E; ++i) acc[i] += static_cast<double>(route.weights[k]) * y[i];
  }
  if (c.n_expert_shared > 0) {
    DenseFfn(*l.gate_shexp, *l.up_shexp, *l.down_shexp, x, y);
    for (int64_t i = 0; i < E; ++i) acc[i] += y[i];
  }
  for (int64_t i = 0; i < E; ++i) out[i] = static_cast<float>(acc[i]);
}

Status ReferenceModel::Forward(std::span<const int32_t> tokens, std::span<const uint32_t> positions,
                               kv::MlaKvCache& cache, MlaForm form, std::vector<float>* logits) const {
  const model::DeepseekConfig& c = config_;
  const size_t n = tokens.size();
  if (positions.size() != n) {
    return KT_ERROR(kInvalidArgument, "reference forward: ", n, " tokens but ", positions.size(), " positions");
  }
  if (cache.n_layer() != c.n_layer || cache.kv_lora_rank() != c.kv_lora_rank || cache.rope_dim() != c.qk_rope_dim) {
    return KT_ERROR(kInvalidArgument, "reference forward: KV cache shape (", cache.n_layer(), " layers, ",
                    cache.kv_lora_rank(), "+", cache.rope_dim(), ") does not match the model (", c.n_layer,
                    " layers, ", c.kv_lora_rank, "+", c.qk_rope_dim, ")");
  }
  std::set<uint32_t> in_batch;
  for (size_t t = 0; t < n; ++t) {
    if (tokens[t] < 0 || static_cast<uint32_t>(tokens[t]) >= c.vocab) {
      return KT_ERROR(kOutOfRange, "reference forward: token ", tokens[t], " at batch index ", t,
                      " is outside the vocabulary of ", c.vocab);
    }
    if (positions[t] >= cache.capacity()) {
      return KT_ERROR(kOutOfRange, "reference forward: position ", positions[t], " is past the KV cache capacity ",
                      cache.capacity());
    }
    if (!in_batch.insert(positions[t]).second) {
      return KT_ERROR(kInvalidArgument, "reference forward: position ", positions[t], " appears twice in the batch");
    }
  }
  for (size_t t = 0; t < n; ++t) {
    for (uint32_t p = 0; p < positions[t]; ++p) {
      if (!cache.filled(p) && in_batch.count(p) == 0) {
        return KT_ERROR(kFailedPrecondition, "reference forward: token at position ", positions[t],
                        " needs position ", p, ", which is neither cached nor in the batch");
      }
    }
  }

  const size_t E = c.hidden;
  const size_t q_width = size_t{c.n_head} * c.head_k_dim();
  std::vector<std::vector<float>> hidden(n, std::vector<float>(E));
  const RowMatrix embd = RowMatrix::Of(weights_.token_embd);
  for (size_t t = 0; t < n; ++t) embd.Row(tokens[t], hidden[t].data());

  std::vector<float> x(E), q(q_width), latent(c.kv_lora_rank), k_pe(c.qk_rope_dim);
  std::vector<float> attn(size_t{c.n_head} * c.v_head_dim), y(E);
  std::vector<std::vector<float>> queries(n, std::vector<float>(q_width));
  for (uint32_t il = 0; il < c.n_layer; ++il) {
    const model::LayerWeights& l = weights_.layers[il];
    const std::vector<float> attn_norm = ReadVector(l.attn_norm), ffn_norm = ReadVector(l.ffn_norm);
    // All of the batch's keys go into the cache first: a token may attend to
    // a later batch entry with a smaller position.
    for (size_t t = 0; t < n; ++t) {
      RmsNorm(hidden[t], attn_norm, c.rms_eps, x);
      Attention(il, x, positions[t], queries[t], latent, k_pe);
      KT_RETURN_IF_ERROR(cache.Write(il, positions[t], latent, k_pe));
    }
    const MlaHeads heads(c, l);
    const RowMatrix wo = RowMatrix::Of(l.wo);
    for (size_t t = 0; t < n; ++t) {
      std::vector<uint32_t> keys(positions[t] + 1);
      for (uint32_t p = 0; p <= positions[t]; ++p) keys[p] = p;
      MlaAttend(form, c, heads, cache, il, queries[t], keys, attn);
      MatVec(wo, attn, y);
      for (size_t i = 0; i < E; ++i) hidden[t][i] += y[i];
      RmsNorm(hidden[t], ffn_norm, c.rms_eps, x);
      Ffn(il, x, y);
      for (size_t i = 0; i < E; ++i) hidden[t][i] += y[i];
    }
  }
  for (size_t t = 0; t < n; ++t) KT_RETURN_IF_ERROR(cache.Commit(positions[t]));

  const std::vector<float> out_norm = ReadVector(weights_.output_norm);
  const RowMatrix output = RowMatrix::Of(weights_.output);
  logits->assign(n * c.vocab, 0.0f);
  for (size_t t = 0; t < n; ++t) {
    RmsNorm(hidden[t], out_norm, c.rms_eps, x);
    MatVec(output, x, std::span<float>(logits->data() + t * c.vocab, c.vocab));
  }
  return Status::Ok();
}

}  // namespace kt::reference
