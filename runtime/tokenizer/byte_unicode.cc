#include "runtime/tokenizer/byte_unicode.h"

#include <array>
#include <unordered_map>

#include "runtime/tokenizer/utf8.h"

namespace kt::tokenizer {
namespace {

struct ByteTables {
  std::array<std::string, 256> byte_to_utf8;
  std::unordered_map<uint32_t, uint8_t> code_point_to_byte;

  ByteTables() {
    // Printable Latin-1 bytes stand for themselves; the other 68 bytes take
    // the code points from U+0100 upwards in byte order.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cp = printable ? b : next++;
      AppendUtf8(cp, &byte_to_utf8[b]);
      code_point_to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const ByteTables& Tables() {
  static const ByteTables tables;
  return tables;
}

}  // namespace

const std::string& ByteToUnicode(uint8_t byte) { return Tables().byte_to_utf8[byte]; }

void AppendByteEncoded(std::string_view text, std::string* out) {
  const ByteTables& t = Tables();
  for (char c : text) out->append(t.byte_to_utf8[static_cast<uint8_t>(c)]);
}

void AppendByteDecoded(std::string_view encoded, std::string* out) {
  const ByteTables& t = Tables();
  size_t pos = 0;
  while (pos < encoded.size()) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(encoded, pos, &cp);
    if (len == 0) {  // not UTF-8: pass the byte through
      out->push_back(encoded[pos++]);
      continue;
    }
    auto it = t.code_point_to_byte.find(cp);
    if (it != t.code_point_to_byte.end()) {
      out->push_back(static_cast<char>(it->second));
    } else {
      out->append(encoded.substr(pos, len));
    }
    pos += len;
  }
}

}  // namespace kt::tokenizer
