#include "runtime/engine/cpu_executor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "kernels/cpu/attend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/quant/quant.h"
#include "runtime/cpu/matvec.h"
#include "runtime/kv/mla_kv_cache.h"
#include "runtime/model/deepseek_weights.h"
#include "runtime/reference/mla.h"
#include "runtime/reference/ops.h"
#include "runtime/reference/rope.h"
#include "runtime/reference/routing.h"

namespace kt::engine {
namespace {

using cpu::QuantMatrix;

// KT_CPU_ISA=generic|avx2|avx512 lowers the kernel family (debugging, A/B
// measurements); it can never raise it above what the host supports.
cpu::Isa KernelIsa() {
  cpu::Isa isa = cpu::BestHostIsa();
  if (const char* env = std::getenv("KT_CPU_ISA")) {
    cpu::Isa wanted;
    if (cpu::ParseIsa(env, &wanted) && cpu::HostSupports(wanted)) isa = wanted;
  }
  return isa;
}

QuantMatrix MatrixOf(const model::WeightView& v) {
  QuantMatrix m;
  m.type = v.type;
  m.data = static_cast<const uint8_t*>(v.data);
  m.cols = v.ne[0];
  m.rows = v.rows();
  m.row_bytes = quant::RowBytes(v.type, static_cast<uint64_t>(v.ne[0])).value_or(0);
  m.layout_rows = v.layout_rows;
  return m;
}

QuantMatrix SubRows(const QuantMatrix& m, int64_t first, int64_t count) {
  QuantMatrix s = m;
  s.data = m.data + static_cast<uint64_t>(first) * m.row_bytes;
  s.rows = count;
  return s;
}

std::vector<float> ReadVector(const model::WeightView& v) {
  std::vector<float> out(static_cast<size_t>(v.ne[0]));
  quant::DequantizeRow(v.type, v.data, out.data(), v.ne[0]);
  return out;
}

void RmsNormRows(const std::vector<float>& x, const std::vector<float>& w, float eps, size_t n,
                 std::vector<float>& out) {
  const size_t dim = w.size();
  out.resize(n * dim);
  for (size_t t = 0; t < n; ++t)
    reference::RmsNorm(std::span<const float>(x.data() + t * dim, dim), w, eps,
                       std::span<float>(out.data() + t * dim, dim));
}

class CpuExecutor : public Executor {
 public:
  CpuExecutor(const model::DeepseekConfig& c, model::DeepseekWeights w, kv::MlaKvCache cache,
              std::unique_ptr<cpu::ThreadPool> pool)
      : c_(c), w_(std::move(w)), cache_(std::move(cache)), pool_(std::move(pool)),
        kernels_(KernelIsa()), attend_(cpu::GetAttendKernels(kernels_.isa())),
        rope_(reference::DeepseekRopeParams(c)) {
    for (const model::LayerWeights& l : w_.layers) {
      Norms n;
      n.attn = ReadVector(l.attn_norm);
      n.ffn = ReadVector(l.ffn_norm);
      n.kv_a = ReadVector(l.kv_a_norm);
      if (l.q_a_norm) n.q_a = ReadVector(*l.q_a_norm);
      if (l.exp_probs_b) n.bias = ReadVector(*l.exp_probs_b);
      norms_.push_back(std::move(n));
    }
    out_norm_ = ReadVector(w_.output_norm);
  }

  const char* name() const override { return "cpu"; }
  void Truncate(uint32_t pos) override { cache_.Truncate(pos); }

  uint64_t DecodeBytesPerToken() const override { return model::DecodeWeightBytes(c_, w_); }

  Status Forward(std::span<const int32_t> tokens, std::span<const uint32_t> positions, bool all_logits,
                 std::vector<float>* logits) override;

 private:
  struct Norms {
    std::vector<float> attn, ffn, kv_a, q_a, bias;
  };

  // Y[t] = W X[t] for n rows of X; every weight row is read once for all t.
  Status MatMul(const QuantMatrix& w, const float* x, size_t n, float* y);
  Status Attention(uint32_t il, const std::vector<float>& x, size_t n, std::span<const uint32_t> positions,
                   std::vector<float>& out);
  Status AttendOne(uint32_t il, const float* q, uint32_t pos, float* out);
  Status DenseFfn(const model::WeightView& gate, const model::WeightView& up, const model::WeightView& down,
                  const std::vector<float>& x, size_t n, std::vector<float>& out);
  Status MoeFfn(uint32_t il, const std::vector<float>& x, size_t n, std::vector<float>& out);

  model::DeepseekConfig c_;
  model::DeepseekWeights w_;
  kv::MlaKvCache cache_;
  std::unique_ptr<cpu::ThreadPool> pool_;
  cpu::CpuKernels kernels_;
  cpu::AttendKernels attend_;
  reference::RopeParams rope_;
  std::vector<Norms> norms_;
  std::vector<float> out_norm_;
  cpu::MoeScratch moe_scratch_;
};

Status CpuExecutor::MatMul(const QuantMatrix& w, const float* x, size_t n, float* y) {
  if (n == 1) return cpu::MatVec(*pool_, kernels_, w, x, y);
  KT_ASSIGN_OR_RETURN(const cpu::RowKernel kernel, kernels_.For(w));
  const cpu::ActFormat format = cpu::ActFormatFor(w.type);
  const size_t act_bytes = cpu::ActBytes(format, w.cols);
  std::vector<uint8_t> act(n * act_bytes);
  for (size_t t = 0; t < n; ++t) cpu::QuantizeActivation(format, x + t * w.cols, w.cols, act.data() + t * act_bytes);
  constexpr int64_t kRows = 8;
  pool_->ParallelFor((w.rows + kRows - 1) / kRows, [&](int64_t task, int) {
    const int64_t begin = task * kRows;
    const int64_t end = std::min(w.rows, begin + kRows);
    float part[kRows];
    for (size_t t = 0; t < n; ++t) {
      cpu::DotRows(kernel, w, begin, end, act.data() + t * act_bytes, part);
      for (int64_t r = begin; r < end; ++r) y[t * w.rows + r] = part[r - begin];
    }
  });
  return Status::Ok();
}

Status CpuExecutor::AttendOne(uint32_t il, const float* q, uint32_t pos, float* out) {
  const model::LayerWeights& l = w_.layers[il];
  const uint32_t H = c_.n_head, nope = c_.qk_nope_dim, rope = c_.qk_rope_dim, lora = c_.kv_lora_rank;
  const uint32_t head_k = nope + rope, vdim = c_.v_head_dim;
  const float scale = c_.KqScale();
  if (!l.k_b || !l.v_b) {
    // Legacy attn_kv_b needs a transposed product; the reference code does it.
    const reference::MlaHeads heads(c_, l);
    std::vector<uint32_t> keys(pos + 1);
    for (uint32_t p = 0; p <= pos; ++p) keys[p] = p;
    reference::MlaAttend(reference::MlaForm::kAbsorbed, c_, heads, cache_, il,
                         std::span<const float>(q, size_t{H} * head_k), keys,
                         std::span<float>(out, size_t{H} * vdim));
    return Status::Ok();
  }
  const QuantMatrix k_b = MatrixOf(*l.k_b), v_b = MatrixOf(*l.v_b);
  KT_ASSIGN_OR_RETURN(const cpu::RowKernel kdot, kernels_.For(k_b));
  KT_ASSIGN_OR_RETURN(const cpu::RowKernel vdot, kernels_.For(v_b));
  const cpu::ActFormat kfmt = cpu::ActFormatFor(k_b.type), vfmt = cpu::ActFormatFor(v_b.type);
  // The cache rows [latent | k_pe] of this layer are contiguous, one per
  // position; a head's key query is [W_kb,h q_nope,h | q_pe,h], the same
  // width. Heads go in groups per task so that each group reads the cache
  // once for its scores and once for its values (kernels/cpu/attend.h),
  // instead of once per head.
  const int64_t row = int64_t{lora} + rope, n_pos = int64_t{pos} + 1;
  const float* rows = cache_.Latent(il, 0).data();
  if (pos > 0 && cache_.Latent(il, 1).data() != rows + row)
    return KT_ERROR(kInternal, "MLA cache rows are not contiguous");
  // One group per worker, at most 8 heads (the kernels' widest group).
  const uint32_t heads_per_task =
      std::clamp<uint32_t>((H + pool_->size() - 1) / static_cast<uint32_t>(pool_->size()), 1, 8);
  const int64_t n_tasks = (H + heads_per_task - 1) / heads_per_task;
  pool_->ParallelFor(n_tasks, [&](int64_t task, int) {
    const uint32_t h0 = static_cast<uint32_t>(task) * heads_per_task, nh = std::min(heads_per_task, H - h0);
    std::vector<float> q_key(nh * row), scores(nh * n_pos), o_lat(nh * lora);
    std::vector<uint8_t> act(cpu::ActBytes(kfmt, nope));
    for (uint32_t g = 0; g < nh; ++g) {
      // q̃ = W_kb,h q_nope,h lives in latent space (kv_lora wide).
      const float* qh = q + (h0 + g) * head_k;
      cpu::QuantizeActivation(kfmt, qh, nope, act.data());
      cpu::DotRows(kdot, SubRows(k_b, (h0 + g) * lora, lora), 0, lora, act.data(), q_key.data() + g * row);
      std::copy_n(qh + nope, rope, q_key.data() + g * row + lora);
    }
    attend_.multi_dot(rows, n_pos, row, row, q_key.data(), static_cast<int>(nh), scores.data());
    for (uint32_t g = 0; g < nh; ++g) {
      float* sg = scores.data() + g * n_pos;
      float max_score = -INFINITY;
      for (int64_t p = 0; p < n_pos; ++p) max_score = std::max(max_score, sg[p] *= scale);
      float denom = 0;
      for (int64_t p = 0; p < n_pos; ++p) denom += sg[p] = std::exp(sg[p] - max_score);
      for (int64_t p = 0; p < n_pos; ++p) sg[p] /= denom;
    }
    attend_.weighted_sum(rows, n_pos, row, lora, scores.data(), static_cast<int>(nh), o_lat.data());
    std::vector<uint8_t> vact(cpu::ActBytes(vfmt, lora));
    for (uint32_t g = 0; g < nh; ++g) {
      cpu::QuantizeActivation(vfmt, o_lat.data() + g * lora, lora, vact.data());
      cpu::DotRows(vdot, SubRows(v_b, (h0 + g) * vdim, vdim), 0, vdim, vact.data(), out + (h0 + g) * vdim);
    }
  });
  return Status::Ok();
}

Status CpuExecutor::Attention(uint32_t il, const std::vector<float>& x, size_t n,
                              std::span<const uint32_t> positions, std::vector<float>& out) {
  const model::LayerWeights& l = w_.layers[il];
  const Norms& nm = norms_[il];
  const size_t head_k = c_.head_k_dim(), q_width = size_t{c_.n_head} * head_k;
  std::vector<float> q(n * q_width);
  const size_t kv_width = c_.kv_lora_rank + c_.qk_rope_dim;
  std::vector<float> kv_a(n * kv_width), latent(c_.kv_lora_rank);
  // The first query projection and kv_a read the same x: for one token they
  // share one parallel pass.
  const QuantMatrix q_first = MatrixOf(c_.q_lora_rank > 0 ? *l.q_a : *l.q), kv_a_m = MatrixOf(l.kv_a_mqa);
  std::vector<float> qa(c_.q_lora_rank > 0 ? n * c_.q_lora_rank : 0), qa_norm;
  float* q_first_out = c_.q_lora_rank > 0 ? qa.data() : q.data();
  if (n == 1) {
    const QuantMatrix ws[] = {q_first, kv_a_m};
    float* const ys[] = {q_first_out, kv_a.data()};
    KT_RETURN_IF_ERROR(cpu::MatVecs(*pool_, kernels_, ws, x.data(), ys));
  } else {
    KT_RETURN_IF_ERROR(MatMul(q_first, x.data(), n, q_first_out));
    KT_RETURN_IF_ERROR(MatMul(kv_a_m, x.data(), n, kv_a.data()));
  }
  if (c_.q_lora_rank > 0) {
    RmsNormRows(qa, nm.q_a, c_.rms_eps, n, qa_norm);
    KT_RETURN_IF_ERROR(MatMul(MatrixOf(*l.q_b), qa_norm.data(), n, q.data()));
  }
  for (size_t t = 0; t < n; ++t) {
    for (uint32_t h = 0; h < c_.n_head; ++h)
      reference::ApplyRope(rope_, positions[t],
                           std::span<float>(q.data() + t * q_width + h * head_k + c_.qk_nope_dim, c_.qk_rope_dim));
    float* row = kv_a.data() + t * kv_width;
    reference::RmsNorm(std::span<const float>(row, c_.kv_lora_rank), nm.kv_a, c_.rms_eps, latent);
    std::span<float> k_pe(row + c_.kv_lora_rank, c_.qk_rope_dim);
    reference::ApplyRope(rope_, positions[t], k_pe);
    KT_RETURN_IF_ERROR(cache_.Write(il, positions[t], latent, k_pe));
  }
  const size_t attn_width = size_t{c_.n_head} * c_.v_head_dim;
  std::vector<float> attn(n * attn_width);
  for (size_t t = 0; t < n; ++t)
    KT_RETURN_IF_ERROR(AttendOne(il, q.data() + t * q_width, positions[t], attn.data() + t * attn_width));
  out.resize(n * c_.hidden);
  return MatMul(MatrixOf(l.wo), attn.data(), n, out.data());
}

Status CpuExecutor::DenseFfn(const model::WeightView& gate, const model::WeightView& up,
                             const model::WeightView& down, const std::vector<float>& x, size_t n,
                             std::vector<float>& out) {
  const QuantMatrix g = MatrixOf(gate), u = MatrixOf(up);
  if (n == 1) {
    const cpu::ExpertFfn ffn{g, u, MatrixOf(down), 1.0f};
    out.assign(c_.hidden, 0.0f);
    return cpu::ExpertFfns(*pool_, kernels_, std::span<const cpu::ExpertFfn>(&ffn, 1), x.data(), out.data(),
                           moe_scratch_);
  }
  std::vector<float> a(n * g.rows), b(n * u.rows);
  KT_RETURN_IF_ERROR(MatMul(g, x.data(), n, a.data()));
  KT_RETURN_IF_ERROR(MatMul(u, x.data(), n, b.data()));
  for (size_t i = 0; i < a.size(); ++i) a[i] = reference::Silu(a[i]) * b[i];
  out.assign(n * c_.hidden, 0.0f);
  return MatMul(MatrixOf(down), a.data(), n, out.data());
}

Status CpuExecutor::MoeFfn(uint32_t il, const std::vector<float>& x, size_t n, std::vector<float>& out) {
  const model::LayerWeights& l = w_.layers[il];
  const size_t E = c_.hidden;
  std::vector<float> router(n * c_.n_expert);
  KT_RETURN_IF_ERROR(MatMul(MatrixOf(*l.gate_inp), x.data(), n, router.data()));
  std::vector<reference::Route> routes(n);
  for (size_t t = 0; t < n; ++t)
    routes[t] = reference::RouteToken(c_, std::span<const float>(router.data() + t * c_.n_expert, c_.n_expert),
                                      norms_[il].bias);
  out.assign(n * E, 0.0f);
  cpu::ExpertStack stack{l.gate_exps->type, l.up_exps->type, l.down_exps->type, l.gate_exps->data,
                         l.up_exps->data,   l.down_exps->data, static_cast<int64_t>(E),
                         static_cast<int64_t>(c_.expert_ff), static_cast<int64_t>(c_.n_expert),
                         l.gate_exps->layout_rows, l.up_exps->layout_rows, l.down_exps->layout_rows};
  if (n == 1) {
    // Routed and shared experts in one pair of parallel passes.
    std::vector<cpu::ExpertFfn> ffns;
    const int64_t F = c_.expert_ff;
    for (size_t k = 0; k < routes[0].experts.size(); ++k) {
      const int64_t e = routes[0].experts[k];
      cpu::ExpertFfn f;
      KT_ASSIGN_OR_RETURN(f.gate, cpu::ExpertSlice(stack.gate_type, stack.gate, E, F, c_.n_expert, e, stack.gate_layout_rows));
      KT_ASSIGN_OR_RETURN(f.up, cpu::ExpertSlice(stack.up_type, stack.up, E, F, c_.n_expert, e, stack.up_layout_rows));
      KT_ASSIGN_OR_RETURN(f.down, cpu::ExpertSlice(stack.down_type, stack.down, F, E, c_.n_expert, e, stack.down_layout_rows));
      f.weight = routes[0].weights[k];
      ffns.push_back(f);
    }
    if (c_.n_expert_shared > 0)
      ffns.push_back({MatrixOf(*l.gate_shexp), MatrixOf(*l.up_shexp), MatrixOf(*l.down_shexp), 1.0f});
    return cpu::ExpertFfns(*pool_, kernels_, ffns, x.data(), out.data(), moe_scratch_);
  } else {
    // Group the batch by expert so each expert's weights stream once.
    std::map<uint32_t, std::vector<std::pair<size_t, float>>> by_expert;
    for (size_t t = 0; t < n; ++t)
      for (size_t k = 0; k < routes[t].experts.size(); ++k)
        by_expert[routes[t].experts[k]].push_back({t, routes[t].weights[k]});
    const int64_t F = c_.expert_ff;
    for (const auto& [e, users] : by_expert) {
      KT_ASSIGN_OR_RETURN(QuantMatrix g, cpu::ExpertSlice(stack.gate_type, stack.gate, E, F, c_.n_expert, e, stack.gate_layout_rows));
      KT_ASSIGN_OR_RETURN(QuantMatrix u, cpu::ExpertSlice(stack.up_type, stack.up, E, F, c_.n_expert, e, stack.up_layout_rows));
      KT_ASSIGN_OR_RETURN(QuantMatrix d, cpu::ExpertSlice(stack.down_type, stack.down, F, E, c_.n_expert, e, stack.down_layout_rows));
      const size_t m = users.size();
      std::vector<float> xs(m * E), a(m * F), b(m * F), y(m * E);
      for (size_t i = 0; i < m; ++i) std::copy_n(x.data() + users[i].first * E, E, xs.data() + i * E);
      KT_RETURN_IF_ERROR(MatMul(g, xs.data(), m, a.data()));
      KT_RETURN_IF_ERROR(MatMul(u, xs.data(), m, b.data()));
      for (size_t i = 0; i < a.size(); ++i) a[i] = reference::Silu(a[i]) * b[i];
      KT_RETURN_IF_ERROR(MatMul(d, a.data(), m, y.data()));
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < E; ++j) out[users[i].first * E + j] += users[i].second * y[i * E + j];
    }
  }
  if (c_.n_expert_shared > 0) {
    std::vector<float> shared;
    KT_RETURN_IF_ERROR(DenseFfn(*l.gate_shexp, *l.up_shexp, *l.down_shexp, x, n, shared));
    for (size_t i = 0; i < out.size(); ++i) out[i] += shared[i];
  }
  return Status::Ok();
}

Status CpuExecutor::Forward(std::span<const int32_t> tokens, std::span<const uint32_t> positions, bool all_logits,
                            std::vector<float>* logits) {
  const size_t n = tokens.size();
  if (n == 0) return KT_ERROR(kInvalidArgument, "forward: no tokens");
  if (positions.size() != n)
    return KT_ERROR(kInvalidArgument, "forward: ", n, " tokens but ", positions.size(), " positions");
  for (size_t t = 0; t < n; ++t) {
    if (tokens[t] < 0 || static_cast<uint32_t>(tokens[t]) >= c_.vocab)
      return KT_ERROR(kOutOfRange, "token id ", tokens[t], " is outside the vocabulary of ", c_.vocab);
    if (positions[t] >= cache_.capacity())
      return KT_ERROR(kOutOfRange, "position ", positions[t], " is past the context of ", cache_.capacity(),
                      " tokens this model was loaded with");
    if (positions[t] != (t == 0 ? cache_.length() : positions[t - 1] + 1) &&
        !(t == 0 && positions[0] < cache_.length()))
      return KT_ERROR(kInvalidArgument, "forward: positions must continue the cached sequence at ",
                      cache_.length(), ", got ", positions[t], " at batch index ", t);
  }
  if (positions[0] < cache_.length()) cache_.Truncate(positions[0]);

  const size_t E = c_.hidden;
  std::vector<float> hidden(n * E), x, y;
  for (size_t t = 0; t < n; ++t) {
    const QuantMatrix embd = MatrixOf(w_.token_embd);
    const uint8_t* row = embd.data + static_cast<uint64_t>(tokens[t]) * embd.row_bytes;
    std::vector<uint8_t> plain;
    if (embd.layout_rows == cpu::kQ4KX8Rows) {
      plain.resize(embd.row_bytes);
      cpu::UnpackRowQ4KX8(embd.data + static_cast<uint64_t>(tokens[t] / 8) * 8 * embd.row_bytes, embd.cols,
                          static_cast<int>(tokens[t] % 8), plain.data());
      row = plain.data();
    }
    if (!quant::DequantizeRow(embd.type, row, hidden.data() + t * E, E))
      return KT_ERROR(kUnimplemented, "cannot dequantize the token embedding type");
  }
  for (uint32_t il = 0; il < c_.n_layer; ++il) {
    RmsNormRows(hidden, norms_[il].attn, c_.rms_eps, n, x);
    KT_RETURN_IF_ERROR(Attention(il, x, n, positions, y));
    for (size_t i = 0; i < hidden.size(); ++i) hidden[i] += y[i];
    RmsNormRows(hidden, norms_[il].ffn, c_.rms_eps, n, x);
    const model::LayerWeights& l = w_.layers[il];
    if (c_.is_moe_layer(il)) {
      KT_RETURN_IF_ERROR(MoeFfn(il, x, n, y));
    } else {
      KT_RETURN_IF_ERROR(DenseFfn(*l.ffn_gate, *l.ffn_up, *l.ffn_down, x, n, y));
    }
    for (size_t i = 0; i < hidden.size(); ++i) hidden[i] += y[i];
  }
  for (size_t t = 0; t < n; ++t) KT_RETURN_IF_ERROR(cache_.Commit(positions[t]));

  const size_t first = all_logits ? 0 : n - 1, rows = n - first;
  std::vector<float> last(hidden.begin() + first * E, hidden.end());
  RmsNormRows(last, out_norm_, c_.rms_eps, rows, x);
  const size_t offset = logits->size();
  logits->resize(offset + rows * c_.vocab);
  return MatMul(MatrixOf(w_.output), x.data(), rows, logits->data() + offset);
}

}  // namespace

StatusOr<std::unique_ptr<Executor>> CreateCpuExecutor(const model::DeepseekConfig& config,
                                                      const model::WeightTable& weights,
                                                      const ExecutorOptions& options) {
  KT_ASSIGN_OR_RETURN(model::DeepseekWeights bound, model::BindDeepseekWeights(config, weights));
  const uint32_t context = options.context ? options.context : config.context_length;
  KT_ASSIGN_OR_RETURN(kv::MlaKvCache cache,
                      kv::MlaKvCache::Create(config.n_layer, context, config.kv_lora_rank, config.qk_rope_dim));
  KT_ASSIGN_OR_RETURN(std::unique_ptr<cpu::ThreadPool> pool, cpu::ThreadPool::Create({options.threads, true}));
  return std::unique_ptr<Executor>(new CpuExecutor(config, std::move(bound), std::move(cache), std::move(pool)));
}

}  // namespace kt::engine
