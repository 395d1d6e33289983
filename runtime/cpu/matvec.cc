#include "runtime/cpu/matvec.h"

#include <algorithm>
#include <cmath>

namespace kt::cpu {
namespace {

// Rows per task: enough to amortise the task fetch, small enough to balance;
// a multiple of 8 so tasks never split an interleaved row group.
constexpr int64_t kRowsPerTask = 16;
static_assert(kRowsPerTask % kQ4KX8Rows == 0);

}  // namespace

StatusOr<VecDotFn> CpuKernels::DotFor(quant::GgmlType type) const {
  VecDotFn fn = GetVecDot(type, isa_);
  if (fn == nullptr)
    return KT_ERROR(kUnimplemented, "no CPU kernel for weight type ",
                    quant::GgmlTypeInfoOf(type).name);
  return fn;
}

StatusOr<RowKernel> CpuKernels::For(const QuantMatrix& w) const {
  RowKernel k;
  if (w.layout_rows == 0) {
    KT_ASSIGN_OR_RETURN(k.dot, DotFor(w.type));
    return k;
  }
  if (w.layout_rows != kQ4KX8Rows || w.type != quant::GgmlType::kQ4_K || w.rows % kQ4KX8Rows != 0)
    return KT_ERROR(kInvalidArgument, "no CPU kernel for ", w.rows, " rows of ",
                    quant::GgmlTypeInfoOf(w.type).name, " interleaved by ", w.layout_rows,
                    " (supported: Q4_K by 8, whole groups)");
  k.gemv8 = GetGemvQ4KX8(isa_);
  return k;
}

StatusOr<QuantMatrix> ExpertSlice(quant::GgmlType type, const void* data, int64_t cols,
                                  int64_t rows, int64_t n_experts, int64_t e, uint32_t layout_rows) {
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
  m.layout_rows = layout_rows;
  m.data = static_cast<const uint8_t*>(data) + static_cast<uint64_t>(e) * rows * *row_bytes;
  return m;
}

Status MatVec(ThreadPool& pool, const CpuKernels& kernels, const QuantMatrix& w,
              const float* x, float* y) {
  KT_ASSIGN_OR_RETURN(const RowKernel kernel, kernels.For(w));
  const ActFormat format = ActFormatFor(w.type);
  std::vector<uint8_t> act(ActBytes(format, w.cols));
  QuantizeActivation(format, x, w.cols, act.data());
  const int64_t n_tasks = (w.rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.ParallelFor(n_tasks, [&](int64_t task, int) {
    const int64_t begin = task * kRowsPerTask;
    DotRows(kernel, w, begin, std::min(w.rows, begin + kRowsPerTask), act.data(), y + begin);
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
    KT_ASSIGN_OR_RETURN(gate[i], ExpertSlice(s.gate_type, s.gate, s.hidden, s.ff, s.n_experts, expert_ids[i],
                                             s.gate_layout_rows));
    KT_ASSIGN_OR_RETURN(up[i], ExpertSlice(s.up_type, s.up, s.hidden, s.ff, s.n_experts, expert_ids[i],
                                           s.up_layout_rows));
    KT_ASSIGN_OR_RETURN(down[i], ExpertSlice(s.down_type, s.down, s.ff, s.hidden, s.n_experts, expert_ids[i],
                                             s.down_layout_rows));
  }
  KT_ASSIGN_OR_RETURN(const RowKernel gate_k, kernels.For(gate[0]));
  KT_ASSIGN_OR_RETURN(const RowKernel up_k, kernels.For(up[0]));
  KT_ASSIGN_OR_RETURN(const RowKernel down_k, kernels.For(down[0]));

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
    DotRows(gate_k, gate[i], begin, end, scratch.act_in.data(), g + begin);
    DotRows(up_k, up[i], begin, end, scratch.act_in.data(), u + begin);
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
    const int64_t begin = task * kRowsPerTask;
    const int64_t end = std::min(s.hidden, begin + kRowsPerTask);
    float acc[kRowsPerTask] = {}, part[kRowsPerTask];
    for (int64_t i = 0; i < k; ++i) {
      DotRows(down_k, down[i], begin, end, scratch.act_mid.data() + i * mid_bytes, part);
      for (int64_t r = 0; r < end - begin; ++r) acc[r] += expert_weights[i] * part[r];
    }
    for (int64_t r = begin; r < end; ++r) y[r] += acc[r - begin];
  });
  return Status::Ok();
}

}  // namespace kt::cpu
