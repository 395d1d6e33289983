#include "runtime/cpu/matvec.h"

#include <algorithm>
#include <cmath>

namespace kt::cpu {
namespace {

// Rows per task: enough to amortise the task fetch, small enough to balance.
constexpr int64_t kRowsPerTask = 16;

}  // namespace

StatusOr<VecDotFn> CpuKernels::DotFor(quant::GgmlType type) const {
  VecDotFn fn = GetVecDot(type, isa_);
  if (fn == nullptr)
    return KT_ERROR(kUnimplemented, "no CPU kernel for weight type ",
                    quant::GgmlTypeInfoOf(type).name);
  return fn;
}

StatusOr<QuantMatrix> ExpertSlice(quant::GgmlType type, const void* data, int64_t cols,
                                  int64_t rows, int64_t n_experts, int64_t e) {
  if (e < 0 || e >= n_experts)
    return KT_ERROR(kOutOfRange, "expert ", e, " out of range [0, ", n_experts, ")");
  const auto row_bytes = quant::RowBytes(type, static_cast<uint64_t>(cols));
  if (!row_bytes)
    return KT_ERROR(kInvalidArgument, "row of ", cols, " elements is not a whole number of ",
                    quant::GgmlTypeInfoOf(type).name, " blocks");
  QuantMatrix m;
  m.type = type;
  m.rows = rows;
  m.cols = cols;
  m.row_bytes = *row_bytes;
  m.data = static_cast<const uint8_t*>(data) + static_cast<uint64_t>(e) * rows * *row_bytes;
  return m;
}

Status MatVec(ThreadPool& pool, const CpuKernels& kernels, const QuantMatrix& w,
              const float* x, float* y) {
  KT_ASSIGN_OR_RETURN(VecDotFn dot, kernels.DotFor(w.type));
  const ActFormat format = ActFormatFor(w.type);
  std::vector<uint8_t> act(ActBytes(format, w.cols));
  QuantizeActivation(format, x, w.cols, act.data());
  const int64_t n_tasks = (w.rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.ParallelFor(n_tasks, [&](int64_t task, int) {
    const int64_t end = std::min(w.rows, (task + 1) * kRowsPerTask);
    for (int64_t r = task * kRowsPerTask; r < end; ++r)
      y[r] = dot(w.cols, w.data + r * w.row_bytes, act.data());
  });
  return Status::Ok();
}

Status RoutedExperts(ThreadPool& pool, const CpuKernels& kernels, const ExpertStack& s,
                     const float* x, std::span<const int32_t> expert_ids,
                     std::span<const float> expert_weights, float* y, MoeScratch& scratch) {
  const int64_t k = static_cast<int64_t>(expert_ids.size());
  if (expert_weights.size() != expert_ids.size())
    return KT_ERROR(kInvalidArgument, "expert ids (", k, ") and weights (",
                    expert_weights.size(), ") differ in count");
  if (k == 0) return Status::Ok();
  std::vector<QuantMatrix> gate(k), up(k), down(k);
  for (int64_t i = 0; i < k; ++i) {
    KT_ASSIGN_OR_RETURN(gate[i], ExpertSlice(s.gate_type, s.gate, s.hidden, s.ff, s.n_experts, expert_ids[i]));
    KT_ASSIGN_OR_RETURN(up[i], ExpertSlice(s.up_type, s.up, s.hidden, s.ff, s.n_experts, expert_ids[i]));
    KT_ASSIGN_OR_RETURN(down[i], ExpertSlice(s.down_type, s.down, s.ff, s.hidden, s.n_experts, expert_ids[i]));
  }
  KT_ASSIGN_OR_RETURN(VecDotFn gate_dot, kernels.DotFor(s.gate_type));
  KT_ASSIGN_OR_RETURN(VecDotFn up_dot, kernels.DotFor(s.up_type));
  KT_ASSIGN_OR_RETURN(VecDotFn down_dot, kernels.DotFor(s.down_type));

  // Phase 1: gate and up rows of every selected expert share one quantised x.
  const ActFormat in_format = ActFormatFor(s.gate_type);
  if (ActFormatFor(s.up_type) != in_format)
    return KT_ERROR(kUnimplemented, "gate and up experts need different activation formats");
  scratch.act_in.resize(ActBytes(in_format, s.hidden));
  QuantizeActivation(in_format, x, s.hidden, scratch.act_in.data());
  scratch.gate_up.resize(2 * k * s.ff);
  const int64_t tasks_per_expert = (s.ff + kRowsPerTask - 1) / kRowsPerTask;
  pool.ParallelFor(k * tasks_per_expert, [&](int64_t task, int) {
    const int64_t i = task / tasks_per_expert;
    const int64_t begin = (task % tasks_per_expert) * kRowsPerTask;
    const int64_t end = std::min(s.ff, begin + kRowsPerTask);
    float* g = scratch.gate_up.data() + 2 * i * s.ff;
    float* u = g + s.ff;
    for (int64_t r = begin; r < end; ++r) {
      g[r] = gate_dot(s.hidden, gate[i].data + r * gate[i].row_bytes, scratch.act_in.data());
      u[r] = up_dot(s.hidden, up[i].data + r * up[i].row_bytes, scratch.act_in.data());
    }
  });

  // Phase 2: SiLU gating, then quantise each expert's hidden vector once.
  const ActFormat mid_format = ActFormatFor(s.down_type);
  const size_t mid_bytes = ActBytes(mid_format, s.ff);
  scratch.hidden.resize(k * s.ff);
  scratch.act_mid.resize(k * mid_bytes);
  for (int64_t i = 0; i < k; ++i) {
    const float* g = scratch.gate_up.data() + 2 * i * s.ff;
    const float* u = g + s.ff;
    float* h = scratch.hidden.data() + i * s.ff;
    for (int64_t r = 0; r < s.ff; ++r) h[r] = g[r] / (1.0f + std::exp(-g[r])) * u[r];
    QuantizeActivation(mid_format, h, s.ff, scratch.act_mid.data() + i * mid_bytes);
  }

  // Phase 3: each task owns output rows and sums over the experts, so no
  // reduction across threads is needed.
  pool.ParallelFor((s.hidden + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t task, int) {
    const int64_t end = std::min(s.hidden, (task + 1) * kRowsPerTask);
    for (int64_t r = task * kRowsPerTask; r < end; ++r) {
      float acc = 0;
      for (int64_t i = 0; i < k; ++i)
        acc += expert_weights[i] *
               down_dot(s.ff, down[i].data + r * down[i].row_bytes, scratch.act_mid.data() + i * mid_bytes);
      y[r] += acc;
    }
  });
  return Status::Ok();
}

}  // namespace kt::cpu
