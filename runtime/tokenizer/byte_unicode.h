// GPT-2's reversible byte <-> unicode mapping. Byte-level BPE vocabularies
// store token texts with every byte replaced by a printable code point
// (space -> U+0120 'Ġ'), so that merges never see raw control bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kt::tokenizer {

// UTF-8 of the code point standing for `byte`.
const std::string& ByteToUnicode(uint8_t byte);

// Appends the byte-level form of `text` to `out`.
void AppendByteEncoded(std::string_view text, std::string* out);

// Reverses AppendByteEncoded. A code point outside the mapping (possible in
// hand-made vocabularies) is copied through unchanged rather than dropped.
void AppendByteDecoded(std::string_view encoded, std::string* out);

}  // namespace kt::tokenizer
