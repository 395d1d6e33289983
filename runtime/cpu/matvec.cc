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

Status MatVecs(ThreadPool& pool, const CpuKernels& kernels, std::span<const QuantMatrix> ws,
               const float* x, std::span<float* const> ys) {
  if (ws.size() != ys.size())
    return KT_ERROR(kInvalidArgument, ws.size(), " matrices but ", ys.size(), " outputs");
  if (ws.empty()) return Status::Ok();
  const size_t m = ws.size();
  std::vector<RowKernel> kernel(m);
  std::vector<int64_t> first_task(m + 1, 0);
  std::vector<uint8_t> act[3];
  std::vector<const uint8_t*> act_of(m);
  for (size_t i = 0; i < m; ++i) {
    if (ws[i].cols != ws[0].cols)
      return KT_ERROR(kInvalidArgument, "matrix ", i, " has ", ws[i].cols, " columns, matrix 0 has ", ws[0].cols);
    KT_ASSIGN_OR_RETURN(kernel[i], kernels.For(ws[i]));
    first_task[i + 1] = first_task[i] + (ws[i].rows + kRowsPerTask - 1) / kRowsPerTask;
    const ActFormat format = ActFormatFor(ws[i].type);
    std::vector<uint8_t>& buf = act[static_cast<int>(format)];
    if (buf.empty()) {
      buf.resize(ActBytes(format, ws[0].cols));
      QuantizeActivation(format, x, ws[0].cols, buf.data());
    }
    act_of[i] = buf.data();
  }
  pool.ParallelFor(first_task[m], [&](int64_t task, int) {
    size_t i = 0;
    while (task >= first_task[i + 1]) ++i;
    const int64_t begin = (task - first_task[i]) * kRowsPerTask;
    DotRows(kernel[i], ws[i], begin, std::min(ws[i].rows, begin + kRowsPerTask), act_of[i], ys[i] + begin);
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
  std::vector<ExpertFfn> experts(k);
  for (int64_t i = 0; i < k; ++i) {
    KT_ASSIGN_OR_RETURN(experts[i].gate, ExpertSlice(s.gate_type, s.gate, s.hidden, s.ff, s.n_experts,
                                                     expert_ids[i], s.gate_layout_rows));
    KT_ASSIGN_OR_RETURN(experts[i].up, ExpertSlice(s.up_type, s.up, s.hidden, s.ff, s.n_experts, expert_ids[i],
                                                   s.up_layout_rows));
    KT_ASSIGN_OR_RETURN(experts[i].down, ExpertSlice(s.down_type, s.down, s.ff, s.hidden, s.n_experts,
                                                     expert_ids[i], s.down_layout_rows));
    experts[i].weight = expert_weights[i];
  }
  return ExpertFfns(pool, kernels, experts, x, y, scratch);
}

Status ExpertFfns(ThreadPool& pool, const CpuKernels& kernels, std::span<const ExpertFfn> experts,
                  const float* x, float* y, MoeScratch& scratch) {
  const size_t k = experts.size();
  if (k == 0) return Status::Ok();
  const int64_t hidden = experts[0].gate.cols;
  struct Plan {
    RowKernel gate, up, down;
    int64_t ff = 0;
    const uint8_t* act_in = nullptr;
    size_t gate_up_at = 0, mid_at = 0;  // offsets into scratch.gate_up / act_mid
  };
  std::vector<Plan> plan(k);
  std::vector<int64_t> first_task(k + 1, 0);
  size_t gate_up_floats = 0, mid_bytes = 0;
  for (auto& buf : scratch.act_in) buf.clear();
  for (size_t i = 0; i < k; ++i) {
    const ExpertFfn& e = experts[i];
    const int64_t ff = e.gate.rows;
    if (e.gate.cols != hidden || e.up.cols != hidden || e.down.rows != hidden || e.up.rows != ff ||
        e.down.cols != ff)
      return KT_ERROR(kInvalidArgument, "expert ", i, " shapes do not chain: gate ", e.gate.rows, "x",
                      e.gate.cols, ", up ", e.up.rows, "x", e.up.cols, ", down ", e.down.rows, "x", e.down.cols,
                      " (hidden ", hidden, ")");
    Plan& p = plan[i];
    KT_ASSIGN_OR_RETURN(p.gate, kernels.For(e.gate));
    KT_ASSIGN_OR_RETURN(p.up, kernels.For(e.up));
    KT_ASSIGN_OR_RETURN(p.down, kernels.For(e.down));
    const ActFormat in_format = ActFormatFor(e.gate.type);
    if (ActFormatFor(e.up.type) != in_format)
      return KT_ERROR(kUnimplemented, "gate and up of expert ", i, " need different activation formats");
    std::vector<uint8_t>& act = scratch.act_in[static_cast<int>(in_format)];
    if (act.empty()) {
      act.resize(ActBytes(in_format, hidden));
      QuantizeActivation(in_format, x, hidden, act.data());
    }
    p.ff = ff;
    p.gate_up_at = gate_up_floats;
    gate_up_floats += 2 * ff;
    p.mid_at = mid_bytes;
    mid_bytes += ActBytes(ActFormatFor(e.down.type), ff);
    first_task[i + 1] = first_task[i] + (ff + kRowsPerTask - 1) / kRowsPerTask;
  }
  // Pointers into act_in are taken only now: the buffers no longer move.
  for (size_t i = 0; i < k; ++i)
    plan[i].act_in = scratch.act_in[static_cast<int>(ActFormatFor(experts[i].gate.type))].data();

  // Phase 1: gate and up rows of every expert; task t covers the same rows
  // of both, so the two streams advance together.
  scratch.gate_up.resize(gate_up_floats);
  pool.ParallelFor(first_task[k], [&](int64_t task, int) {
    size_t i = 0;
    while (task >= first_task[i + 1]) ++i;
    const Plan& p = plan[i];
    const int64_t begin = (task - first_task[i]) * kRowsPerTask;
    const int64_t end = std::min(p.ff, begin + kRowsPerTask);
    float* g = scratch.gate_up.data() + p.gate_up_at;
    float* u = g + p.ff;
    DotRows(p.gate, experts[i].gate, begin, end, p.act_in, g + begin);
    DotRows(p.up, experts[i].up, begin, end, p.act_in, u + begin);
  });

  // Phase 2: SiLU gating, then quantise each expert's hidden vector once.
  scratch.hidden.resize(gate_up_floats / 2);
  scratch.act_mid.resize(mid_bytes);
  for (size_t i = 0; i < k; ++i) {
    const Plan& p = plan[i];
    const float* g = scratch.gate_up.data() + p.gate_up_at;
    const float* u = g + p.ff;
    float* h = scratch.hidden.data() + p.gate_up_at / 2;
    for (int64_t r = 0; r < p.ff; ++r) h[r] = g[r] / (1.0f + std::exp(-g[r])) * u[r];
    QuantizeActivation(ActFormatFor(experts[i].down.type), h, p.ff, scratch.act_mid.data() + p.mid_at);
  }

  // Phase 3: each task owns output rows and sums over the experts.
  pool.ParallelFor((hidden + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t task, int) {
    const int64_t begin = task * kRowsPerTask;
    const int64_t end = std::min(hidden, begin + kRowsPerTask);
    float acc[kRowsPerTask] = {}, part[kRowsPerTask];
    for (size_t i = 0; i < k; ++i) {
      DotRows(plan[i].down, experts[i].down, begin, end, scratch.act_mid.data() + plan[i].mid_at, part);
      for (int64_t r = 0; r < end - begin; ++r) acc[r] += experts[i].weight * part[r];
    }
    for (int64_t r = begin; r < end; ++r) y[r] += acc[r - begin];
  });
  return Status::Ok();
}

}  // namespace kt::cpu
