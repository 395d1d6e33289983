#include "kernels/quant/ggml_type.h"

#include <array>
#include <cctype>
#include <limits>

namespace kt::quant {
namespace {

constexpr GgmlTypeInfo kTypes[] = {
    {GgmlType::kF32, "f32", 1, 4, true, true},
    {GgmlType::kF16, "f16", 1, 2, true, true},
    {GgmlType::kQ4_0, "q4_0", 32, 18, true, true},
    {GgmlType::kQ4_1, "q4_1", 32, 20, true, false},
    {GgmlType::kQ5_0, "q5_0", 32, 22, true, true},
    {GgmlType::kQ5_1, "q5_1", 32, 24, true, false},
    {GgmlType::kQ8_0, "q8_0", 32, 34, true, true},
    {GgmlType::kQ8_1, "q8_1", 32, 36, false, false},
    {GgmlType::kQ2_K, "q2_K", 256, 84, false, false},
    {GgmlType::kQ3_K, "q3_K", 256, 110, false, false},
    {GgmlType::kQ4_K, "q4_K", 256, 144, true, true},
    {GgmlType::kQ5_K, "q5_K", 256, 176, true, false},
    {GgmlType::kQ6_K, "q6_K", 256, 210, true, true},
    {GgmlType::kQ8_K, "q8_K", 256, 292, false, false},
    {GgmlType::kIQ2_XXS, "iq2_xxs", 256, 66, false, false},
    {GgmlType::kIQ2_XS, "iq2_xs", 256, 74, false, false},
    {GgmlType::kIQ3_XXS, "iq3_xxs", 256, 98, false, false},
    {GgmlType::kIQ1_S, "iq1_s", 256, 50, false, false},
    {GgmlType::kIQ4_NL, "iq4_nl", 32, 18, false, false},
    {GgmlType::kIQ3_S, "iq3_s", 256, 110, false, false},
    {GgmlType::kIQ2_S, "iq2_s", 256, 82, false, false},
    {GgmlType::kIQ4_XS, "iq4_xs", 256, 136, false, false},
    {GgmlType::kI8, "i8", 1, 1, false, false},
    {GgmlType::kI16, "i16", 1, 2, false, false},
    {GgmlType::kI32, "i32", 1, 4, false, false},
    {GgmlType::kI64, "i64", 1, 8, false, false},
    {GgmlType::kF64, "f64", 1, 8, false, false},
    {GgmlType::kIQ1_M, "iq1_m", 256, 56, false, false},
    {GgmlType::kBF16, "bf16", 1, 2, true, true},
    {GgmlType::kTQ1_0, "tq1_0", 256, 54, false, false},
    {GgmlType::kTQ2_0, "tq2_0", 256, 66, false, false},
    {GgmlType::kMXFP4, "mxfp4", 32, 17, false, false},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

const GgmlTypeInfo* FindGgmlType(uint32_t id) {
  for (const GgmlTypeInfo& info : kTypes)
    if (static_cast<uint32_t>(info.type) == id) return &info;
  return nullptr;
}

const GgmlTypeInfo& GgmlTypeInfoOf(GgmlType type) {
  return *FindGgmlType(static_cast<uint32_t>(type));
}

std::optional<GgmlType> ParseGgmlType(std::string_view name) {
  for (const GgmlTypeInfo& info : kTypes)
    if (EqualsIgnoreCase(info.name, name)) return info.type;
  return std::nullopt;
}

std::optional<uint64_t> RowBytes(GgmlType type, uint64_t n) {
  const GgmlTypeInfo& info = GgmlTypeInfoOf(type);
  if (n % info.block_elems != 0) return std::nullopt;
  uint64_t blocks = n / info.block_elems;
  if (blocks > std::numeric_limits<uint64_t>::max() / info.block_bytes) return std::nullopt;
  return blocks * info.block_bytes;
}

}  // namespace kt::quant
