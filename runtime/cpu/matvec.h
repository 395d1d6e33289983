// Matrix-vector products over quantised weight rows on the CPU worker pool,
// and the routed-expert FFN of one MoE layer built from them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/q4k_x8.h"
#include "kernels/cpu/vec_dot.h"
#include "kernels/quant/ggml_type.h"
#include "runtime/base/status.h"
#include "runtime/cpu/thread_pool.h"

namespace kt::cpu {

// `rows` rows of `cols` elements, each row `row_bytes` long, starting at data.
struct QuantMatrix {
  quant::GgmlType type = quant::GgmlType::kF32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  // 0: ggml rows. 8: Q4_K rows interleaved by 8 (kernels/cpu/q4k_x8.h); row
  // 8g's address is then group g's, and rows are computed 8 at a time.
  uint32_t layout_rows = 0;
};

// Builds the matrix view of expert `e` of a stacked expert tensor
// {cols, rows, n_experts} (GGUF ne order) whose bytes start at `data`.
StatusOr<QuantMatrix> ExpertSlice(quant::GgmlType type, const void* data, int64_t cols,
                                  int64_t rows, int64_t n_experts, int64_t e, uint32_t layout_rows = 0);

// Computes rows [begin, end) of one matrix against one quantised activation.
struct RowKernel {
  VecDotFn dot = nullptr;         // ggml rows
  GemvQ4KX8Fn gemv8 = nullptr;    // interleaved rows
};
// y[r - begin] = row r . act for r in [begin, end); for an interleaved matrix
// begin and end are multiples of 8.
inline void DotRows(const RowKernel& k, const QuantMatrix& w, int64_t begin, int64_t end,
                    const void* act, float* y) {
  if (k.gemv8 != nullptr) {
    for (int64_t r = begin; r < end; r += 8) k.gemv8(w.cols, w.data + r * w.row_bytes, act, y + (r - begin));
  } else {
    for (int64_t r = begin; r < end; ++r) y[r - begin] = k.dot(w.cols, w.data + r * w.row_bytes, act);
  }
}

// The kernel table resolved once for an ISA.
class CpuKernels {
 public:
  explicit CpuKernels(Isa isa) : isa_(isa) {}
  Isa isa() const { return isa_; }
  // kUnimplemented naming the type when kt has no CPU kernel for it.
  StatusOr<VecDotFn> DotFor(quant::GgmlType type) const;
  // The kernel for `w`'s type and layout; kInvalidArgument when an
  // interleaved matrix is not Q4_K in whole groups of 8 rows.
  StatusOr<RowKernel> For(const QuantMatrix& w) const;

 private:
  Isa isa_;
};

// y = W x for one vector. `x` has W.cols floats, `y` W.rows.
Status MatVec(ThreadPool& pool, const CpuKernels& kernels, const QuantMatrix& w,
              const float* x, float* y);

// ys[i] = ws[i] x for several matrices with the same input, in one parallel
// pass (one wait for the workers instead of one per matrix). Every ws[i]
// has the same cols; x is quantised once per activation format.
Status MatVecs(ThreadPool& pool, const CpuKernels& kernels, std::span<const QuantMatrix> ws,
               const float* x, std::span<float* const> ys);

// Routed experts of one MoE layer for one token:
//   y += sum_k weight[k] * down_e( silu(gate_e x) * up_e x ),  e = experts[k]
// gate/up are stacked {hidden, ff, n_experts}, down {ff, hidden, n_experts}.
struct ExpertStack {
  quant::GgmlType gate_type, up_type, down_type;
  const void* gate;
  const void* up;
  const void* down;
  int64_t hidden = 0;
  int64_t ff = 0;
  int64_t n_experts = 0;
  uint32_t gate_layout_rows = 0, up_layout_rows = 0, down_layout_rows = 0;
};

class MoeScratch {
 public:
  std::vector<uint8_t> act_in[3];  // x quantised, per ActFormat
  std::vector<float> hidden;       // silu(gate) * up per expert
  std::vector<uint8_t> act_mid;    // hidden quantised for the down kernels
  std::vector<float> gate_up;      // raw gate and up outputs
};

Status RoutedExperts(ThreadPool& pool, const CpuKernels& kernels, const ExpertStack& experts,
                     const float* x, std::span<const int32_t> expert_ids,
                     std::span<const float> expert_weights, float* y, MoeScratch& scratch);

// One gated FFN: gate and up {cols hidden, rows ff}, down {cols ff, rows
// hidden}; its output is scaled by `weight`.
struct ExpertFfn {
  QuantMatrix gate, up, down;
  float weight = 1.0f;
};

// y += sum_i experts[i].weight * down_i( silu(gate_i x) * up_i x ) for one
// token. Experts may differ in ff and weight types (routed and shared
// experts, or one dense FFN) but share hidden. Two parallel passes over all
// of them: gate and up rows, then down rows, where each task owns a range
// of output rows and sums over the experts (no cross-thread reduction).
Status ExpertFfns(ThreadPool& pool, const CpuKernels& kernels, std::span<const ExpertFfn> experts,
                  const float* x, float* y, MoeScratch& scratch);

}  // namespace kt::cpu
