// Small UTF-8 helpers shared by the tokenizer and its streaming decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kt::tokenizer {

// Length of the sequence that starts with `lead`, or 0 if `lead` cannot
// start one (a continuation byte or 0xF8..0xFF).
size_t Utf8SequenceLength(uint8_t lead);

// Decodes one code point at text[pos]; returns its length, or 0 if the bytes
// there are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
size_t DecodeUtf8(std::string_view text, size_t pos, uint32_t* code_point);

// Offset of the first invalid byte, or text.size() if all of it is valid.
size_t FindInvalidUtf8(std::string_view text);

// Appends the UTF-8 encoding of `cp` (must be <= U+10FFFF).
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace kt::tokenizer
