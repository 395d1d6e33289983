// JSON rendering: escapes, invalid UTF-8, non-finite floats, nested arrays.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/gguf/gguf_json.h"

namespace kt::gguf {
namespace {

std::string Str(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(GgufJson, EscapesControlCharactersAndQuotes) {
  EXPECT_EQ(Str(std::string("a\"b\\c\n\t\x01\x7f", 9)), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
  EXPECT_EQ(Str(std::string("\0x", 2)), "\"\\u0000x\"");
}

TEST(GgufJson, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Str("é中🙂"), "\"é中🙂\"");
  EXPECT_EQ(Str("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(Str("a\xc3"), "\"a\\ufffd\"");            // truncated sequence
  EXPECT_EQ(Str("\xc0\xaf"), "\"\\ufffd\\ufffd\"");   // overlong '/'
  EXPECT_EQ(Str("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(Str("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
}

TEST(GgufJson, NumbersAndNonFiniteFloats) {
  std::string out;
  AppendJsonTypedValue(&out, GgufValue::F32(0.1f));
  EXPECT_EQ(out, "\"type\": \"float32\", \"value\": 0.10000000149011612");
  out.clear();
  AppendJsonValue(&out, GgufValue::F64(std::nan("")));
  EXPECT_EQ(out, "\"nan\"");
  out.clear();
  AppendJsonValue(&out, GgufValue::F64(-INFINITY));
  EXPECT_EQ(out, "\"-inf\"");
  out.clear();
  AppendJsonValue(&out, GgufValue::I64(INT64_MIN));
  EXPECT_EQ(out, "-9223372036854775808");
}

TEST(GgufJson, NestedArraysCarryTheirElementTypes) {
  GgufValue v = GgufValue::Array(GgufType::kArray, {GgufValue::I32Array({1, 2}),
                                                    GgufValue::StrArray({"x"})});
  std::string out;
  AppendJsonTypedValue(&out, v);
  EXPECT_EQ(out,
            "\"type\": \"array\", \"elem_type\": \"array\", \"value\": ["
            "{\"type\": \"array\", \"elem_type\": \"int32\", \"value\": [1, 2]}, "
            "{\"type\": \"array\", \"elem_type\": \"string\", \"value\": [\"x\"]}]");
}

}  // namespace
}  // namespace kt::gguf
