// Plain float32 building blocks of the reference executor. Sums are
// accumulated in double so that the reference is closer to exact than any
// optimized path it is compared with; weights are dequantized one row at a
// time (no full-model float copy).
#pragma once

#include <cstdint>
#include <span>

#include "kernels/quant/ggml_type.h"
#include "runtime/model/weight_table.h"

namespace kt::reference {

// A range of rows of a weight tensor (any dequantizable type), ne[0] wide.
// Rows of a 3-D tensor {ne0, ne1, ne2} are numbered i1 + i2 * ne1, so expert
// or head `e` of such a tensor is Rows(e * ne1, ne1).
struct RowMatrix {
  quant::GgmlType type = quant::GgmlType::kF32;
  const uint8_t* data = nullptr;  // first row
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t row_bytes = 0;
  uint32_t layout_rows = 0;  // as model::WeightView::layout_rows

  // The whole tensor. The view must have been checked (BindDeepseekWeights).
  static RowMatrix Of(const model::WeightView& view);
  RowMatrix Rows(int64_t first, int64_t count) const;
  // Dequantizes row `r` into cols floats; aborts on a broken invariant (a type
  // that BindDeepseekWeights would have rejected).
  void Row(int64_t r, float* out) const;
};

// y[r] = sum_c W[r][c] * x[c]; x has W.cols entries, y has W.rows.
void MatVec(const RowMatrix& w, std::span<const float> x, std::span<float> y);
// y[c] = sum_r W[r][c] * x[r]; x has W.rows entries, y has W.cols.
void MatTVec(const RowMatrix& w, std::span<const float> x, std::span<float> y);

// out = x / sqrt(mean(x^2) + eps) * weight (weight may alias nothing else).
void RmsNorm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out);
// In place, numerically stable (max subtracted).
void Softmax(std::span<float> x);
float Silu(float x);
double Dot(std::span<const float> a, std::span<const float> b);

}  // namespace kt::reference
