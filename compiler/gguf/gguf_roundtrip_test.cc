// Writer -> reader round trips of every value type (nested arrays included)
// and of tensors of several ggml types; writer misuse gives errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_sample.h"

namespace kt::gguf {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void ExpectSameValue(const GgufValue& want, const GgufValue& got, const std::string& where) {
  ASSERT_EQ(want.type, got.type) << where;
  switch (want.type) {
    case GgufType::kArray:
      ASSERT_EQ(want.elem_type, got.elem_type) << where;
      ASSERT_EQ(want.elems.size(), got.elems.size()) << where;
      for (size_t i = 0; i < want.elems.size(); ++i)
        ExpectSameValue(want.elems[i], got.elems[i], where + "[" + std::to_string(i) + "]");
      return;
    case GgufType::kString: EXPECT_EQ(want.str, got.str) << where; return;
    case GgufType::kFloat32:
      EXPECT_EQ(static_cast<float>(want.f), static_cast<float>(got.f)) << where;
      return;
    case GgufType::kFloat64: EXPECT_EQ(want.f, got.f) << where; return;
    case GgufType::kInt8: case GgufType::kInt16: case GgufType::kInt32: case GgufType::kInt64:
      EXPECT_EQ(want.i, got.i) << where;
      return;
    default: EXPECT_EQ(want.u, got.u) << where; return;
  }
}

class RoundTrip : public ::testing::TestWithParam<uint64_t> {};

TEST_P(RoundTrip, SampleReadsBackExactly) {
  const uint64_t seed = GetParam();
  SampleGguf sample = MakeSampleGguf(seed);
  std::string path = TempPath("kt_gguf_roundtrip_" + std::to_string(seed) + ".gguf");
  ASSERT_TRUE(WriteSampleGguf(sample, path, seed).ok());
  StatusOr<GgufFile> f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), sample.alignment);
  EXPECT_EQ(f->data_offset() % sample.alignment, 0u);

  size_t extra = sample.alignment != 32 ? 1 : 0;  // general.alignment added by the writer
  ASSERT_EQ(f->kvs().size(), sample.kvs.size() + extra);
  for (size_t i = 0; i < sample.kvs.size(); ++i) {
    EXPECT_EQ(f->kvs()[i].key, sample.kvs[i].key);
    ExpectSameValue(sample.kvs[i].value, f->kvs()[i].value, sample.kvs[i].key);
  }
  if (extra) {
    EXPECT_EQ(*f->GetUint("general.alignment"), sample.alignment);
  }

  ASSERT_EQ(f->tensors().size(), sample.tensors.size());
  uint64_t end = 0;
  for (size_t i = 0; i < sample.tensors.size(); ++i) {
    const SampleTensor& want = sample.tensors[i];
    const GgufTensorInfo* got = f->FindTensor(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got, &f->tensors()[i]);  // declaration order is kept
    EXPECT_EQ(got->type, want.type);
    EXPECT_EQ(got->ne, want.ne);
    ASSERT_EQ(got->n_bytes, want.data.size()) << want.name;
    EXPECT_EQ(got->offset % sample.alignment, 0u);
    EXPECT_GE(got->offset, end);
    end = got->offset + got->n_bytes;
    EXPECT_EQ(std::memcmp(f->TensorData(*got), want.data.data(), want.data.size()), 0) << want.name;
  }
  // Padding after the last tensor as gguf-py writes it.
  EXPECT_EQ(f->file_size() % sample.alignment, 0u);
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Seeds, RoundTrip, ::testing::Values(0, 1, 2, 3, 4, 17, 12345));

TEST(GgufWriter, PaddingBetweenTensorsIsZero) {
  std::string path = TempPath("kt_gguf_padding.gguf");
  GgufWriter w(64);
  ASSERT_TRUE(w.AddTensor("a", quant::GgmlType::kF32, {3}).ok());
  ASSERT_TRUE(w.AddTensor("b", quant::GgmlType::kF32, {2}).ok());
  ASSERT_TRUE(w.Open(path).ok());
  const uint8_t ones[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  ASSERT_TRUE(w.WriteTensorData(ones, 20).ok());
  ASSERT_TRUE(w.Close().ok());
  StatusOr<GgufFile> f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->tensors()[1].offset, 64u);
  const uint8_t* data = f->TensorData(f->tensors()[0]);
  for (int i = 12; i < 64; ++i) EXPECT_EQ(data[i], 0) << i;
  EXPECT_EQ(f->file_size(), f->data_offset() + 128);
  std::remove(path.c_str());
}

TEST(GgufWriter, CloseBeforeAllBytesIsAnError) {
  std::string path = TempPath("kt_gguf_short.gguf");
  std::remove(path.c_str());
  {
    GgufWriter w;
    ASSERT_TRUE(w.AddTensor("a", quant::GgmlType::kQ8_0, {32, 2}).ok());
    ASSERT_TRUE(w.Open(path).ok());
    uint8_t buf[40] = {};
    ASSERT_TRUE(w.WriteTensorData(buf, 40).ok());
    Status s = w.Close();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("tensor 'a' at 40 of 68 bytes"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(path), std::string::npos);
  }
  // Nothing that looks complete is left behind.
  EXPECT_EQ(std::fopen(path.c_str(), "rb"), nullptr);
  EXPECT_EQ(std::fopen((path + ".tmp").c_str(), "rb"), nullptr);
}

TEST(GgufWriter, WritingPastTheLastTensorIsAnError) {
  std::string path = TempPath("kt_gguf_long.gguf");
  GgufWriter w;
  ASSERT_TRUE(w.AddTensor("a", quant::GgmlType::kF32, {2}).ok());
  ASSERT_TRUE(w.Open(path).ok());
  uint8_t buf[12] = {};
  Status s = w.WriteTensorData(buf, 12);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("4 bytes written past the last tensor"), std::string::npos) << s.ToString();
}

TEST(GgufWriter, RejectsBadTensorsAndKeys) {
  GgufWriter w;
  Status s = w.AddTensor("q", quant::GgmlType::kQ4_K, {128});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("block size 256"), std::string::npos) << s.ToString();
  EXPECT_FALSE(w.AddTensor("x", quant::GgmlType::kF32, {}).ok());
  EXPECT_FALSE(w.AddTensor("x", quant::GgmlType::kF32, {1, 1, 1, 1, 1}).ok());
  EXPECT_FALSE(w.AddTensor(std::string(64, 'n'), quant::GgmlType::kF32, {1}).ok());
  ASSERT_TRUE(w.AddTensor("x", quant::GgmlType::kF32, {1}).ok());
  s = w.AddTensor("x", quant::GgmlType::kF32, {1});
  EXPECT_NE(s.message().find("duplicate tensor name 'x'"), std::string::npos) << s.ToString();

  w.AddKv("k", GgufValue::U32(1));
  w.AddKv("k", GgufValue::U32(2));
  s = w.Open(TempPath("kt_gguf_dupkey.gguf"));
  EXPECT_NE(s.message().find("duplicate key 'k'"), std::string::npos) << s.ToString();

  GgufWriter mixed;
  mixed.AddKv("m", GgufValue::Array(GgufType::kInt32, {GgufValue::I32(1), GgufValue::U8(2)}));
  s = mixed.Open(TempPath("kt_gguf_mixed.gguf"));
  EXPECT_NE(s.message().find("array of int32 holds a uint8"), std::string::npos) << s.ToString();

  GgufWriter bad_align(48);
  s = bad_align.Open(TempPath("kt_gguf_align.gguf"));
  EXPECT_NE(s.message().find("alignment 48 is not a power of two"), std::string::npos) << s.ToString();
}

TEST(GgufWriter, OpenNamesUnwritablePath) {
  GgufWriter w;
  Status s = w.Open("/nonexistent/dir/out.gguf");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("/nonexistent/dir/out.gguf"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace kt::gguf
