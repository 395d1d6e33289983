// Each kind of corrupt GGUF file gives its own error: the status code and a
// message that names the field (and usually its offset).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_test_util.h"

namespace kt::gguf {
namespace {

using testing::ByteBuilder;

constexpr uint32_t kF32 = 0, kQ8_0 = 8, kQ4_K = 12;

StatusOr<GgufFile> ParseBytes(const ByteBuilder& b) {
  return GgufFile::Parse(b.bytes.data(), b.bytes.size(), "test.gguf");
}

void ExpectError(const ByteBuilder& b, StatusCode code, const std::string& substr,
                 const std::string& substr2 = "") {
  StatusOr<GgufFile> f = ParseBytes(b);
  ASSERT_FALSE(f.ok()) << "parsed a corrupt file";
  EXPECT_EQ(f.status().code(), code) << f.status().ToString();
  EXPECT_NE(f.status().message().find(substr), std::string::npos) << f.status().ToString();
  if (!substr2.empty()) {
    EXPECT_NE(f.status().message().find(substr2), std::string::npos) << f.status().ToString();
  }
  EXPECT_NE(f.status().message().find("test.gguf"), std::string::npos) << f.status().ToString();
}

// A valid file: one kv, one f32 tensor [4, 2].
ByteBuilder ValidFile() {
  ByteBuilder b;
  b.Header(1, 1).Str("general.architecture").U32(8).Str("deepseek2");
  b.TensorInfo("w", {4, 2}, kF32, 0).PadTo(32);
  for (int i = 0; i < 8; ++i) b.Put<float>(static_cast<float>(i));
  return b;
}

TEST(GgufReader, ValidFileParses) {
  ByteBuilder b = ValidFile();
  StatusOr<GgufFile> f = ParseBytes(b);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_offset() % 32, 0u);
  EXPECT_EQ(*f->GetString("general.architecture"), "deepseek2");
  const GgufTensorInfo* t = f->FindTensor("w");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->n_bytes, 32u);
  EXPECT_EQ(t->n_elements(), 8u);
  float x;
  std::memcpy(&x, f->TensorData(*t) + 7 * 4, 4);
  EXPECT_EQ(x, 7.0f);
  EXPECT_EQ(f->FindTensor("nope"), nullptr);
  StatusOr<uint64_t> missing = f->GetUint("deepseek2.block_count");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("deepseek2.block_count"), std::string::npos);
  StatusOr<uint64_t> wrong_type = f->GetUint("general.architecture");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
}

TEST(GgufReader, Version2Parses) {
  ByteBuilder b;
  b.Header(0, 1, 2).Str("a").U32(4).U32(7);
  StatusOr<GgufFile> f = ParseBytes(b);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(*f->GetUint("a"), 7u);
}

TEST(GgufReader, EveryTruncationIsAnError) {
  ByteBuilder full = ValidFile();
  for (size_t n = 0; n < full.size(); ++n) {
    StatusOr<GgufFile> f = GgufFile::Parse(full.bytes.data(), n, "test.gguf");
    EXPECT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
  }
}

TEST(GgufReaderCorrupt, TruncatedHeader) {
  ByteBuilder b;
  b.U32(0x46554747).U32(3).U32(0);
  ExpectError(b, StatusCode::kDataLoss, "truncated file: tensor_count at offset 8");
}

TEST(GgufReaderCorrupt, TruncatedTensorInfo) {
  ByteBuilder b;
  b.Header(1, 0).Str("weight").U32(4).U64(4).U64(4);  // ne[2] and ne[3] missing
  ExpectError(b, StatusCode::kDataLoss, "truncated file: tensor 'weight' ne[2] at offset 58");
}

TEST(GgufReaderCorrupt, BadMagic) {
  ByteBuilder b;
  b.U32(0x46554746).U32(3).U64(0).U64(0);
  ExpectError(b, StatusCode::kInvalidArgument, "bad magic at offset 0");
}

TEST(GgufReaderCorrupt, UnsupportedVersion) {
  ByteBuilder b;
  b.Header(0, 0, 1);
  ExpectError(b, StatusCode::kUnimplemented, "unsupported version 1");
}

TEST(GgufReaderCorrupt, BigEndianFile) {
  ByteBuilder b;
  b.Header(0, 0, 0x03000000);
  ExpectError(b, StatusCode::kUnimplemented, "big-endian");
}

TEST(GgufReaderCorrupt, AbsurdKvCount) {
  ByteBuilder b;
  b.Header(0, uint64_t{1} << 60).Str("a").U32(4).U32(1);
  ExpectError(b, StatusCode::kDataLoss, "kv_count 1152921504606846976 at offset 16 is impossible");
}

TEST(GgufReaderCorrupt, AbsurdTensorCount) {
  ByteBuilder b;
  b.Header(~uint64_t{0}, 0).TensorInfo("w", {32}, kF32, 0);
  ExpectError(b, StatusCode::kDataLoss, "tensor_count 18446744073709551615 at offset 8");
}

TEST(GgufReaderCorrupt, AbsurdKeyLength) {
  ByteBuilder b;
  b.Header(0, 1).U64(uint64_t{1} << 62).U32(4).U32(1);
  ExpectError(b, StatusCode::kDataLoss, "key of kv #0 at offset 24 has length 4611686018427387904");
}

TEST(GgufReaderCorrupt, AbsurdStringValueLength) {
  ByteBuilder b;
  b.Header(0, 1).Str("k").U32(8).U64(1000).Zeros(10);
  ExpectError(b, StatusCode::kDataLoss, "string value of 'k' at offset 37 has length 1000");
}

TEST(GgufReaderCorrupt, UnknownValueType) {
  ByteBuilder b;
  b.Header(0, 1).Str("k").U32(13).U32(0);
  ExpectError(b, StatusCode::kDataLoss, "value type of 'k' at offset 33 is 13");
}

TEST(GgufReaderCorrupt, UnknownArrayElementType) {
  ByteBuilder b;
  b.Header(0, 1).Str("k").U32(9).U32(77).U64(0);
  ExpectError(b, StatusCode::kDataLoss, "array element type of 'k' at offset 37 is 77");
}

TEST(GgufReaderCorrupt, AbsurdArrayLength) {
  ByteBuilder b;
  b.Header(0, 1).Str("k").U32(9).U32(4).U64(1000).U32(1).U32(2);
  ExpectError(b, StatusCode::kDataLoss, "array length of 'k' at offset 41 is 1000",
              "hold at most 2 uint32");
}

TEST(GgufReaderCorrupt, AbsurdNestedArrayLength) {
  ByteBuilder b;  // an array of 3 arrays claims more than the file holds
  b.Header(0, 1).Str("k").U32(9).U32(9).U64(3).U32(5).U64(1).U32(-1).U32(8).U64(5).Zeros(12);
  ExpectError(b, StatusCode::kDataLoss, "array length of 'k'", "hold at most 1 string");
}

TEST(GgufReaderCorrupt, ArrayNestingTooDeep) {
  ByteBuilder b;
  b.Header(0, 1).Str("k").U32(9);
  for (int i = 0; i < 20; ++i) b.U32(9).U64(1);
  b.U32(4).U64(0);
  ExpectError(b, StatusCode::kOutOfRange, "array nesting depth of 'k'", "exceeds the limit");
}

TEST(GgufReaderCorrupt, DuplicateKey) {
  ByteBuilder b;
  b.Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(5).U32(2);
  ExpectError(b, StatusCode::kDataLoss, "duplicate key 'k' at offset 41");
}

TEST(GgufReaderCorrupt, AlignmentWrongType) {
  ByteBuilder b;
  b.Header(0, 1).Str("general.alignment").U32(10).U64(64);
  ExpectError(b, StatusCode::kDataLoss, "general.alignment at offset 24 has type uint64, must be uint32");
}

TEST(GgufReaderCorrupt, AlignmentNotPowerOfTwo) {
  ByteBuilder b;
  b.Header(0, 1).Str("general.alignment").U32(4).U32(48);
  ExpectError(b, StatusCode::kOutOfRange, "general.alignment at offset 24 is 48",
              "nonzero power of two");
}

TEST(GgufReaderCorrupt, AlignmentZero) {
  ByteBuilder b;
  b.Header(0, 1).Str("general.alignment").U32(4).U32(0);
  ExpectError(b, StatusCode::kOutOfRange, "general.alignment at offset 24 is 0");
}

TEST(GgufReaderCorrupt, ZeroDims) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {}, kF32, 0).Zeros(64);
  ExpectError(b, StatusCode::kOutOfRange, "tensor 'w' n_dims at offset 33 is 0, must be 1..4");
}

TEST(GgufReaderCorrupt, TooManyDims) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {1, 1, 1, 1, 1}, kF32, 0).Zeros(64);
  ExpectError(b, StatusCode::kOutOfRange, "tensor 'w' n_dims at offset 33 is 5");
}

TEST(GgufReaderCorrupt, ShapeOverflow) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0).Zeros(64);
  ExpectError(b, StatusCode::kOutOfRange, "tensor 'w' shape [4294967296, 4294967296]",
              "overflows");
}

TEST(GgufReaderCorrupt, DimensionAboveInt64) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {~uint64_t{0}}, kF32, 0).Zeros(64);
  ExpectError(b, StatusCode::kOutOfRange, "tensor 'w' shape", "does not fit int64");
}

TEST(GgufReaderCorrupt, ByteSizeOverflow) {
  ByteBuilder b;  // element count fits int64, bytes (x4) do not fit 64 bits
  b.Header(1, 0).TensorInfo("w", {uint64_t{1} << 31, uint64_t{1} << 31}, kF32, 0).Zeros(64);
  ExpectError(b, StatusCode::kOutOfRange, "its byte size does not fit");
}

TEST(GgufReaderCorrupt, UnknownTensorType) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {32}, 31, 0).Zeros(64);
  ExpectError(b, StatusCode::kUnimplemented, "tensor 'w' type at offset 45 is 31",
              "not a known ggml type");
}

TEST(GgufReaderCorrupt, RowNotMultipleOfBlock) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {128, 2}, kQ4_K, 0).Zeros(512);
  ExpectError(b, StatusCode::kDataLoss, "tensor 'w' ne[0] at offset 37 is 128",
              "q4_K block size 256");
}

TEST(GgufReaderCorrupt, MisalignedOffset) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {32}, kQ8_0, 16).PadTo(32).Zeros(128);
  ExpectError(b, StatusCode::kDataLoss, "tensor 'w' offset 16 at offset 49",
              "not a multiple of the alignment 32");
}

TEST(GgufReaderCorrupt, TensorPastFileEnd) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {64}, kQ8_0, 0).PadTo(32).Zeros(67);  // needs 68 bytes
  ExpectError(b, StatusCode::kDataLoss, "tensor 'w' data [0, +68)", "past the file end 131");
}

TEST(GgufReaderCorrupt, TensorOffsetPastFileEnd) {
  ByteBuilder b;
  b.Header(1, 0).TensorInfo("w", {32}, kQ8_0, uint64_t{1} << 63).PadTo(32).Zeros(64);
  ExpectError(b, StatusCode::kDataLoss, "tensor 'w' data", "past the file end");
}

TEST(GgufReaderCorrupt, OverlappingTensors) {
  ByteBuilder b;
  b.Header(2, 0).TensorInfo("a", {64}, kF32, 0).TensorInfo("b", {8}, kF32, 224).PadTo(32).Zeros(512);
  ExpectError(b, StatusCode::kDataLoss, "tensors 'a' [0, 256) and 'b' [224, 256) overlap");
}

TEST(GgufReaderCorrupt, DuplicateTensorName) {
  ByteBuilder b;
  b.Header(2, 0).TensorInfo("a", {8}, kF32, 0).TensorInfo("a", {8}, kF32, 32).PadTo(32).Zeros(64);
  ExpectError(b, StatusCode::kDataLoss, "duplicate tensor name 'a' at offset 57");
}

TEST(GgufReader, EmptyTensorsAndOutOfOrderOffsetsAreValid) {
  ByteBuilder b;
  b.Header(3, 0).TensorInfo("b", {8}, kF32, 32).TensorInfo("a", {8}, kF32, 0);
  b.TensorInfo("empty", {0, 5}, kF32, 64).PadTo(32).Zeros(64);
  StatusOr<GgufFile> f = ParseBytes(b);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->FindTensor("empty")->n_bytes, 0u);
  EXPECT_EQ(f->FindTensor("b")->offset, 32u);
}

TEST(GgufReader, OpenNamesMissingPath) {
  StatusOr<GgufFile> f = GgufFile::Open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("/nonexistent/dir/model.gguf"), std::string::npos);
  EXPECT_NE(f.status().message().find("No such file"), std::string::npos);
}

TEST(GgufReader, OpenEmptyFileIsTruncated) {
  std::string path = ::testing::TempDir() + "/kt_gguf_empty.gguf";
  std::FILE* out = std::fopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  std::fclose(out);
  StatusOr<GgufFile> f = GgufFile::Open(path);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(f.status().message().find("truncated file: magic at offset 0"), std::string::npos)
      << f.status().ToString();
  EXPECT_NE(f.status().message().find(path), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace kt::gguf
