#include "compiler/gguf/gguf_json.h"

#include <cmath>
#include <cstdio>

namespace kt::gguf {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

void AppendDouble(std::string* out, double v) {
  if (std::isnan(v)) { *out += "\"nan\""; return; }
  if (std::isinf(v)) { *out += v > 0 ? "\"inf\"" : "\"-inf\""; return; }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);  // 17 digits round-trip any double
  *out += buf;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    if (n > 1) {
      out->append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
    ++i;
  }
  *out += '"';
}

void AppendJsonValue(std::string* out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kUint8: case GgufType::kUint16: case GgufType::kUint32: case GgufType::kUint64:
      *out += std::to_string(v.u);
      return;
    case GgufType::kInt8: case GgufType::kInt16: case GgufType::kInt32: case GgufType::kInt64:
      *out += std::to_string(v.i);
      return;
    case GgufType::kFloat32: case GgufType::kFloat64:
      AppendDouble(out, v.f);
      return;
    case GgufType::kBool:
      *out += v.u ? "true" : "false";
      return;
    case GgufType::kString:
      AppendJsonString(out, v.str);
      return;
    case GgufType::kArray:
      *out += '[';
      for (size_t i = 0; i < v.elems.size(); ++i) {
        if (i) *out += ", ";
        if (v.elem_type == GgufType::kArray) {
          *out += '{';
          AppendJsonTypedValue(out, v.elems[i]);
          *out += '}';
        } else {
          AppendJsonValue(out, v.elems[i]);
        }
      }
      *out += ']';
      return;
  }
  *out += "null";
}

void AppendJsonTypedValue(std::string* out, const GgufValue& v) {
  *out += "\"type\": \"";
  *out += GgufTypeName(v.type);
  *out += '"';
  if (v.type == GgufType::kArray) {
    *out += ", \"elem_type\": \"";
    *out += GgufTypeName(v.elem_type);
    *out += '"';
  }
  *out += ", \"value\": ";
  AppendJsonValue(out, v);
}

}  // namespace kt::gguf
