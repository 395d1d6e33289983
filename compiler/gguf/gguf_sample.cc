#include "compiler/gguf/gguf_sample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace kt::gguf {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {  // splitmix64
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  float Float() { return static_cast<float>(static_cast<int64_t>(Next() % 2000001) - 1000000) / 1024.0f; }

 private:
  uint64_t state_;
};

std::string RandomText(Rng& rng) {
  // ASCII, quotes, backslash, control characters and multi-byte UTF-8.
  static const char* const kPieces[] = {"a", "Z", "9", " ", "\"", "\\", "\n", "\t", "\x01",
                                        "\x1f", "\x7f", "é", "▁", "中文", "🙂", "<|end|>", "/"};
  std::string s;
  uint64_t n = rng.Below(12);
  for (uint64_t i = 0; i < n; ++i) s += kPieces[rng.Below(std::size(kPieces))];
  return s;
}

GgufValue ScalarOf(GgufType t, Rng& rng) {
  switch (t) {
    case GgufType::kUint8: return GgufValue::U8(static_cast<uint8_t>(rng.Next()));
    case GgufType::kInt8: return GgufValue::I8(static_cast<int8_t>(rng.Next()));
    case GgufType::kUint16: return GgufValue::U16(static_cast<uint16_t>(rng.Next()));
    case GgufType::kInt16: return GgufValue::I16(static_cast<int16_t>(rng.Next()));
    case GgufType::kUint32: return GgufValue::U32(static_cast<uint32_t>(rng.Next()));
    case GgufType::kInt32: return GgufValue::I32(static_cast<int32_t>(rng.Next()));
    case GgufType::kUint64: return GgufValue::U64(rng.Next());
    case GgufType::kInt64: return GgufValue::I64(static_cast<int64_t>(rng.Next()));
    case GgufType::kFloat32: return GgufValue::F32(rng.Float());
    case GgufType::kFloat64: return GgufValue::F64(static_cast<double>(rng.Float()) / 3.0);
    case GgufType::kBool: return GgufValue::Bool(rng.Below(2) == 1);
    case GgufType::kString: return GgufValue::Str(RandomText(rng));
    case GgufType::kArray: break;
  }
  return GgufValue::Array(GgufType::kUint8, {});
}

GgufValue ArrayOf(GgufType t, uint64_t n, Rng& rng) {
  std::vector<GgufValue> elems;
  for (uint64_t i = 0; i < n; ++i) elems.push_back(ScalarOf(t, rng));
  return GgufValue::Array(t, std::move(elems));
}

constexpr GgufType kScalarTypes[] = {
    GgufType::kUint8, GgufType::kInt8, GgufType::kUint16, GgufType::kInt16,
    GgufType::kUint32, GgufType::kInt32, GgufType::kFloat32, GgufType::kBool,
    GgufType::kString, GgufType::kUint64, GgufType::kInt64, GgufType::kFloat64};

}  // namespace

SampleGguf MakeSampleGguf(uint64_t seed) {
  Rng rng(seed);
  SampleGguf s;
  static constexpr uint32_t kAlignments[] = {32, 64, 16, 256, 8};
  s.alignment = kAlignments[seed % std::size(kAlignments)];
  s.kvs.push_back({"general.architecture", GgufValue::Str("deepseek2")});
  s.kvs.push_back({"general.name", GgufValue::Str("kt sample " + std::to_string(seed))});
  for (GgufType t : kScalarTypes) {
    s.kvs.push_back({std::string("test.scalar.") + GgufTypeName(t), ScalarOf(t, rng)});
    s.kvs.push_back({std::string("test.array.") + GgufTypeName(t), ArrayOf(t, 1 + rng.Below(40), rng)});
  }
  // Extremes that a narrowing bug would lose.
  s.kvs.push_back({"test.extreme.u64", GgufValue::U64(std::numeric_limits<uint64_t>::max())});
  s.kvs.push_back({"test.extreme.i64", GgufValue::I64(std::numeric_limits<int64_t>::min())});
  s.kvs.push_back({"test.extreme.i8", GgufValue::I8(-128)});
  s.kvs.push_back({"test.extreme.f64", GgufValue::F64(1e300)});
  s.kvs.push_back({"test.extreme.f32_tiny", GgufValue::F32(1e-40f)});
  s.kvs.push_back({"test.array.empty", GgufValue::Array(GgufType::kInt32, {})});
  s.kvs.push_back({"test.string.empty", GgufValue::Str("")});
  // Arrays of arrays, two and three levels deep, with differing inner lengths.
  std::vector<GgufValue> nested;
  for (int i = 0; i < 3; ++i) nested.push_back(ArrayOf(GgufType::kInt32, rng.Below(5), rng));
  s.kvs.push_back({"test.nested.i32", GgufValue::Array(GgufType::kArray, std::move(nested))});
  std::vector<GgufValue> deep;
  for (int i = 0; i < 2; ++i) {
    std::vector<GgufValue> mid;
    for (int j = 0; j < 2; ++j) mid.push_back(ArrayOf(GgufType::kString, 1 + rng.Below(3), rng));
    deep.push_back(GgufValue::Array(GgufType::kArray, std::move(mid)));
  }
  s.kvs.push_back({"test.nested.deep_strings", GgufValue::Array(GgufType::kArray, std::move(deep))});
  s.kvs.push_back({"test.random_text", GgufValue::Str(RandomText(rng))});

  struct Spec {
    const char* name;
    quant::GgmlType type;
    std::vector<uint64_t> ne;
  };
  const uint64_t a = 1 + rng.Below(3), b = 1 + rng.Below(4);
  const Spec specs[] = {
      {"token_embd.weight", quant::GgmlType::kQ8_0, {64, a * 3}},
      {"blk.0.attn_norm.weight", quant::GgmlType::kF32, {5 + b}},
      {"blk.0.ffn_up.weight", quant::GgmlType::kQ4_K, {256, b}},
      {"blk.0.ffn_down.weight", quant::GgmlType::kQ6_K, {256, 2, a}},
      {"blk.0.attn_q.weight", quant::GgmlType::kF16, {7, b, 2, a}},
      {"blk.0.attn_k.weight", quant::GgmlType::kBF16, {3, 3}},
      {"blk.0.ffn_gate.weight", quant::GgmlType::kQ4_0, {32 * b}},
      {"blk.0.ffn_gate_inp.weight", quant::GgmlType::kQ5_0, {64, 2}},
      {"output.weight", quant::GgmlType::kF32, {1}},
  };
  for (const Spec& spec : specs) {
    SampleTensor t{spec.name, spec.type, spec.ne, {}};
    const quant::GgmlTypeInfo& info = quant::GgmlTypeInfoOf(spec.type);
    uint64_t n = spec.ne[0] / info.block_elems * info.block_bytes;
    for (size_t d = 1; d < spec.ne.size(); ++d) n *= spec.ne[d];
    t.data.resize(n);
    if (spec.type == quant::GgmlType::kF32) {
      for (uint64_t i = 0; i < n / 4; ++i) {
        float x = rng.Float();
        std::memcpy(t.data.data() + 4 * i, &x, 4);
      }
    } else {
      // Raw bytes: readers must not interpret them, only carry them.
      for (uint8_t& byte : t.data) byte = static_cast<uint8_t>(rng.Next());
    }
    s.tensors.push_back(std::move(t));
  }
  return s;
}

Status WriteSampleGguf(const SampleGguf& sample, const std::string& path, uint64_t seed) {
  GgufWriter w(sample.alignment);
  for (const GgufKv& kv : sample.kvs) w.AddKv(kv.key, kv.value);
  for (const SampleTensor& t : sample.tensors) KT_RETURN_IF_ERROR(w.AddTensor(t.name, t.type, t.ne));
  KT_RETURN_IF_ERROR(w.Open(path));
  std::vector<uint8_t> all;
  for (const SampleTensor& t : sample.tensors) all.insert(all.end(), t.data.begin(), t.data.end());
  Rng rng(seed ^ 0xC0FFEE);
  for (size_t pos = 0; pos < all.size();) {
    size_t n = std::min<size_t>(all.size() - pos, 1 + rng.Below(300));
    KT_RETURN_IF_ERROR(w.WriteTensorData(all.data() + pos, n));
    pos += n;
  }
  return w.Close();
}

}  // namespace kt::gguf
