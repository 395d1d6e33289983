#include "runtime/base/status.h"

#include <gtest/gtest.h>

namespace kt {
namespace {

StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return KT_ERROR(kInvalidArgument, "value ", v, " is not positive");
  return v * 2;
}

Status Chain(int v, int* out) {
  KT_ASSIGN_OR_RETURN(*out, ParsePositive(v));
  KT_RETURN_IF_ERROR(Status::Ok());
  return Status::Ok();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = KT_ERROR(kDataLoss, "bad magic at offset ", 0);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "corrupt data: bad magic at offset 0");
  EXPECT_NE(s.line(), 0);
}

TEST(StatusTest, PropagatesThroughMacros) {
  int out = 0;
  EXPECT_TRUE(Chain(3, &out).ok());
  EXPECT_EQ(out, 6);
  Status s = Chain(-1, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "value -1 is not positive");
}

TEST(StatusTest, WithContextPrefixes) {
  Status s = KT_ERROR(kNotFound, "no key").WithContext("model.gguf");
  EXPECT_EQ(s.message(), "model.gguf: no key");
}

}  // namespace
}  // namespace kt
