// JSON rendering of GGUF metadata, shared by `ktc gguf-info --json` and the
// test file generator. A value renders as the members
//   "type": "uint32", "value": 7
//   "type": "array", "elem_type": "int32", "value": [1, 2]
// and an element of an array of arrays as {"type": "array", "elem_type": ..., "value": [...]}.
// Non-finite floats render as the strings "nan", "inf" and "-inf" (JSON has no
// such numbers); invalid UTF-8 bytes become U+FFFD.
#pragma once

#include <string>
#include <string_view>

#include "compiler/gguf/gguf.h"

namespace kt::gguf {

void AppendJsonString(std::string* out, std::string_view s);
// Appends `"type": ..., ["elem_type": ...,] "value": ...` (no braces).
void AppendJsonTypedValue(std::string* out, const GgufValue& v);
// Appends just the value: a number, bool, string, or array.
void AppendJsonValue(std::string* out, const GgufValue& v);

}  // namespace kt::gguf
