// DequantizeRow / QuantizeRow: one table lookup per call, then the per-type
// reference kernel. The table is the single place that says which types kt
// implements; ggml_type.cc's flags are tested against it.
#include "kernels/quant/quant.h"

#include "kernels/quant/reference_rows.h"

namespace kt::quant {
namespace {

using DequantizeFn = void (*)(const void*, float*, int64_t);
using QuantizeFn = void (*)(const float*, void*, int64_t);

struct RowKernels {
  GgmlType type;
  DequantizeFn dequantize;
  QuantizeFn quantize;  // nullptr: no quantizer
};

constexpr RowKernels kKernels[] = {
    {GgmlType::kF32, ref::DequantizeF32, ref::QuantizeF32},
    {GgmlType::kF16, ref::DequantizeF16, ref::QuantizeF16},
    {GgmlType::kBF16, ref::DequantizeBF16, ref::QuantizeBF16},
    {GgmlType::kQ4_0, ref::DequantizeQ4_0, ref::QuantizeQ4_0},
    {GgmlType::kQ4_1, ref::DequantizeQ4_1, nullptr},
    {GgmlType::kQ5_0, ref::DequantizeQ5_0, ref::QuantizeQ5_0},
    {GgmlType::kQ5_1, ref::DequantizeQ5_1, nullptr},
    {GgmlType::kQ8_0, ref::DequantizeQ8_0, ref::QuantizeQ8_0},
    {GgmlType::kQ4_K, ref::DequantizeQ4_K, ref::QuantizeQ4_K},
    {GgmlType::kQ5_K, ref::DequantizeQ5_K, nullptr},
    {GgmlType::kQ6_K, ref::DequantizeQ6_K, ref::QuantizeQ6_K},
};

const RowKernels* FindKernels(GgmlType type) {
  for (const RowKernels& k : kKernels)
    if (k.type == type) return &k;
  return nullptr;
}

bool ValidLength(GgmlType type, int64_t n) {
  const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(type));
  return info != nullptr && n >= 0 && n % info->block_elems == 0;
}

}  // namespace

bool DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  const RowKernels* k = FindKernels(type);
  if (k == nullptr || !ValidLength(type, n)) return false;
  if (n > 0) k->dequantize(src, dst, n);
  return true;
}

bool QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n) {
  const RowKernels* k = FindKernels(type);
  if (k == nullptr || k->quantize == nullptr || !ValidLength(type, n)) return false;
  if (n > 0) k->quantize(src, dst, n);
  return true;
}

}  // namespace kt::quant
