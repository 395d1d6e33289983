#include "runtime/reference/ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cpu/q4k_x8.h"
#include "kernels/quant/quant.h"

namespace kt::reference {

RowMatrix RowMatrix::Of(const model::WeightView& view) {
  RowMatrix m;
  m.type = view.type;
  m.data = static_cast<const uint8_t*>(view.data);
  m.rows = view.rows();
  m.cols = view.ne[0];
  m.row_bytes = quant::RowBytes(view.type, static_cast<uint64_t>(view.ne[0])).value_or(0);
  m.layout_rows = view.layout_rows;
  return m;
}

RowMatrix RowMatrix::Rows(int64_t first, int64_t count) const {
  if (first < 0 || count < 0 || first + count > rows || (layout_rows != 0 && first % layout_rows != 0)) {
    std::fprintf(stderr, "kt reference: rows [%lld, +%lld) outside a matrix of %lld rows\n",
                 static_cast<long long>(first), static_cast<long long>(count), static_cast<long long>(rows));
    std::abort();
  }
  RowMatrix m = *this;
  m.data = data + static_cast<uint64_t>(first) * row_bytes;
  m.rows = count;
  return m;
}

void RowMatrix::Row(int64_t r, float* out) const {
  const uint8_t* row = data + static_cast<uint64_t>(r) * row_bytes;
  // Interleaved rows are first copied back to their ggml form.
  thread_local std::vector<uint8_t> plain;
  if (layout_rows == cpu::kQ4KX8Rows && type == quant::GgmlType::kQ4_K && r >= 0 && r < rows) {
    plain.resize(row_bytes);
    cpu::UnpackRowQ4KX8(data + static_cast<uint64_t>(r / 8) * 8 * row_bytes, cols, static_cast<int>(r % 8),
                        plain.data());
    row = plain.data();
  } else if (layout_rows != 0) {
    row = nullptr;
  }
  if (r < 0 || r >= rows || row == nullptr || !quant::DequantizeRow(type, row, out, cols)) {
    std::fprintf(stderr, "kt reference: cannot dequantize row %lld of a %lld x %lld %s matrix\n",
                 static_cast<long long>(r), static_cast<long long>(rows), static_cast<long long>(cols),
                 std::string(quant::GgmlTypeInfoOf(type).name).c_str());
    std::abort();
  }
}

double Dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

void MatVec(const RowMatrix& w, std::span<const float> x, std::span<float> y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    w.Row(r, row.data());
    y[r] = static_cast<float>(Dot(row, x.first(static_cast<size_t>(w.cols))));
  }
}

void MatTVec(const RowMatrix& w, std::span<const float> x, std::span<float> y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  std::vector<double> acc(static_cast<size_t>(w.cols), 0.0);
  for (int64_t r = 0; r < w.rows; ++r) {
    w.Row(r, row.data());
    for (int64_t c = 0; c < w.cols; ++c) acc[c] += static_cast<double>(x[r]) * row[c];
  }
  for (int64_t c = 0; c < w.cols; ++c) y[c] = static_cast<float>(acc[c]);
}

void RmsNorm(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out) {
  double sum_sq = 0.0;
  for (float v : x) sum_sq += static_cast<double>(v) * v;
  const double scale = 1.0 / std::sqrt(sum_sq / static_cast<double>(x.size()) + eps);
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i] * scale) * weight[i];
}

void Softmax(std::span<float> x) {
  if (x.empty()) return;
  const float max = *std::max_element(x.begin(), x.end());
  double sum = 0.0;
  for (float& v : x) {
    v = std::exp(v - max);
    sum += v;
  }
  for (float& v : x) v = static_cast<float>(v / sum);
}

float Silu(float x) { return x / (1.0f + std::exp(-x)); }

}  // namespace kt::reference
