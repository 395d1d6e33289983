// GgufValue accessors and constructors, and the value-type names.
#include <limits>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_internal.h"

namespace kt::gguf {

const char* GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

StatusOr<uint64_t> GgufValue::AsUint(std::string_view key) const {
  if (IsUnsignedType(type)) return u;
  if (IsSignedType(type)) {
    if (i < 0) return KT_ERROR(kOutOfRange, "key '", key, "' is negative (", i, "), expected unsigned");
    return static_cast<uint64_t>(i);
  }
  return KT_ERROR(kInvalidArgument, "key '", key, "' has type ", GgufTypeName(type),
                  ", expected an integer");
}

StatusOr<int64_t> GgufValue::AsInt(std::string_view key) const {
  if (IsSignedType(type)) return i;
  if (IsUnsignedType(type)) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return KT_ERROR(kOutOfRange, "key '", key, "' value ", u, " does not fit int64");
    return static_cast<int64_t>(u);
  }
  return KT_ERROR(kInvalidArgument, "key '", key, "' has type ", GgufTypeName(type),
                  ", expected an integer");
}

StatusOr<double> GgufValue::AsFloat(std::string_view key) const {
  if (IsFloatType(type)) return f;
  if (IsUnsignedType(type)) return static_cast<double>(u);
  if (IsSignedType(type)) return static_cast<double>(i);
  return KT_ERROR(kInvalidArgument, "key '", key, "' has type ", GgufTypeName(type),
                  ", expected a number");
}

StatusOr<bool> GgufValue::AsBool(std::string_view key) const {
  if (type == GgufType::kBool) return u != 0;
  return KT_ERROR(kInvalidArgument, "key '", key, "' has type ", GgufTypeName(type),
                  ", expected bool");
}

StatusOr<std::string> GgufValue::AsString(std::string_view key) const {
  if (type == GgufType::kString) return str;
  return KT_ERROR(kInvalidArgument, "key '", key, "' has type ", GgufTypeName(type),
                  ", expected string");
}

GgufValue GgufValue::U32(uint32_t v) {
  GgufValue r;
  r.type = GgufType::kUint32;
  r.u = v;
  return r;
}
GgufValue GgufValue::I32(int32_t v) {
  GgufValue r;
  r.type = GgufType::kInt32;
  r.i = v;
  return r;
}
GgufValue GgufValue::U64(uint64_t v) {
  GgufValue r;
  r.type = GgufType::kUint64;
  r.u = v;
  return r;
}
GgufValue GgufValue::F32(float v) {
  GgufValue r;
  r.type = GgufType::kFloat32;
  r.f = v;
  return r;
}
GgufValue GgufValue::Bool(bool v) {
  GgufValue r;
  r.type = GgufType::kBool;
  r.u = v ? 1 : 0;
  return r;
}
GgufValue GgufValue::Str(std::string v) {
  GgufValue r;
  r.type = GgufType::kString;
  r.str = std::move(v);
  return r;
}
GgufValue GgufValue::StrArray(const std::vector<std::string>& v) {
  GgufValue r;
  r.type = GgufType::kArray;
  r.elem_type = GgufType::kString;
  r.elems.reserve(v.size());
  for (const std::string& s : v) r.elems.push_back(Str(s));
  return r;
}
GgufValue GgufValue::I32Array(const std::vector<int32_t>& v) {
  GgufValue r;
  r.type = GgufType::kArray;
  r.elem_type = GgufType::kInt32;
  r.elems.reserve(v.size());
  for (int32_t x : v) r.elems.push_back(I32(x));
  return r;
}
GgufValue GgufValue::F32Array(const std::vector<float>& v) {
  GgufValue r;
  r.type = GgufType::kArray;
  r.elem_type = GgufType::kFloat32;
  r.elems.reserve(v.size());
  for (float x : v) r.elems.push_back(F32(x));
  return r;
}

namespace {
GgufValue MakeUnsigned(GgufType t, uint64_t v) {
  GgufValue r;
  r.type = t;
  r.u = v;
  return r;
}
GgufValue MakeSigned(GgufType t, int64_t v) {
  GgufValue r;
  r.type = t;
  r.i = v;
  return r;
}
}  // namespace

GgufValue GgufValue::U8(uint8_t v) { return MakeUnsigned(GgufType::kUint8, v); }
GgufValue GgufValue::U16(uint16_t v) { return MakeUnsigned(GgufType::kUint16, v); }
GgufValue GgufValue::I8(int8_t v) { return MakeSigned(GgufType::kInt8, v); }
GgufValue GgufValue::I16(int16_t v) { return MakeSigned(GgufType::kInt16, v); }
GgufValue GgufValue::I64(int64_t v) { return MakeSigned(GgufType::kInt64, v); }
GgufValue GgufValue::F64(double v) {
  GgufValue r;
  r.type = GgufType::kFloat64;
  r.f = v;
  return r;
}
GgufValue GgufValue::Array(GgufType elem_type, std::vector<GgufValue> elems) {
  GgufValue r;
  r.type = GgufType::kArray;
  r.elem_type = elem_type;
  r.elems = std::move(elems);
  return r;
}

uint64_t GgufTensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;  // the reader and writer reject products that overflow
  return n;
}

}  // namespace kt::gguf
