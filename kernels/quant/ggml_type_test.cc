#include "kernels/quant/ggml_type.h"

#include <gtest/gtest.h>

namespace kt::quant {
namespace {

TEST(GgmlTypeTest, KnownAndUnknownIds) {
  ASSERT_NE(FindGgmlType(12), nullptr);
  EXPECT_EQ(FindGgmlType(12)->name, "q4_K");
  EXPECT_EQ(FindGgmlType(12)->block_bytes, 144u);
  EXPECT_EQ(FindGgmlType(4), nullptr);
  EXPECT_EQ(FindGgmlType(31), nullptr);
  EXPECT_EQ(FindGgmlType(1000), nullptr);
}

TEST(GgmlTypeTest, ParseIsCaseInsensitive) {
  EXPECT_EQ(ParseGgmlType("Q4_K"), GgmlType::kQ4_K);
  EXPECT_EQ(ParseGgmlType("bf16"), GgmlType::kBF16);
  EXPECT_FALSE(ParseGgmlType("q4_k_m").has_value());
}

TEST(GgmlTypeTest, RowBytes) {
  EXPECT_EQ(RowBytes(GgmlType::kQ8_0, 64), 68u);
  EXPECT_EQ(RowBytes(GgmlType::kQ6_K, 512), 420u);
  EXPECT_FALSE(RowBytes(GgmlType::kQ4_K, 100).has_value());
  EXPECT_FALSE(RowBytes(GgmlType::kF32, ~0ull).has_value());
}

}  // namespace
}  // namespace kt::quant
