#include "runtime/tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <utility>

namespace kt::tokenizer {
namespace {

// White space as llama.cpp classifies it (Unicode White_Space). PCRE2's \s
// differs between versions (U+0085, U+180E), so the class is spelled out.
#define KT_WS "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
#define KT_S "[" KT_WS "]"
#define KT_NOT_S "[^" KT_WS "]"

// DeepSeek-LLM (V2, V2-Lite): the regex list of its tokenizer.json as
// llama.cpp applies it. The letter class is an explicit list of cased-letter
// ranges, written as escapes because several of its code points (U+1F7D,
// U+1FBE, U+2126, U+212A, ...) change under NFC and editors normalise them.
const char* const kDeepSeekLlm[] = {
    "[\\r\\n]",
    KT_S "?[\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"
    "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"
    "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
    "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
    "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
    "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
    "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
    "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
    "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
    "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
    "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
    KT_S "?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}"
    "\\x{3001}-\\x{3002}]+",  // tokenizer.json says U+3000-U+3002, see below
    KT_S "+$",
    // tokenizer.json: [一-龥ࠀ-一가-퟿]. llama.cpp turns non-ASCII white space
    // into U+000B before matching explicit ranges, so U+1680, U+2000-U+200A,
    // U+2028, U+2029, U+202F, U+205F and U+3000 never match them; the ranges
    // leave those out to tokenize as llama.cpp does.
    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{167F}\\x{1681}-\\x{1FFF}\\x{200B}-\\x{2027}\\x{202A}-\\x{202E}"
    "\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
    "\\p{N}+",
};

// DeepSeek-V3 / R1: digits in groups of up to three, runs of CJK ideographs
// and kana, then a GPT-4-like split.
const char* const kDeepSeekV3[] = {
    "\\p{N}{1,3}",
    "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
    "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\\r\\n]*"
    "|" KT_S "*[\\r\\n]+"
    "|" KT_S "+(?!" KT_NOT_S ")"
    "|" KT_S "+",
};

struct PreTokenizerDef {
  const char* name;
  const char* const* regexes;
  size_t count;
};

const PreTokenizerDef kDefs[] = {
    {"deepseek-llm", kDeepSeekLlm, std::size(kDeepSeekLlm)},
    {"deepseek-v3", kDeepSeekV3, std::size(kDeepSeekV3)},
};

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  ~Regex() {
    pcre2_match_data_free(match);
    pcre2_code_free(code);
  }
};

PreTokenizer::~PreTokenizer() = default;

const std::vector<std::string>& SupportedPreTokenizers() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& def : kDefs) v.emplace_back(def.name);
    return v;
  }();
  return names;
}

StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(std::string_view name) {
  const PreTokenizerDef* def = nullptr;
  for (const auto& d : kDefs) {
    if (name == d.name) def = &d;
  }
  if (def == nullptr) {
    std::string list;
    for (const auto& n : SupportedPreTokenizers()) list += (list.empty() ? "" : ", ") + n;
    return KT_ERROR(kInvalidArgument, "unknown pre-tokenizer '", name, "' (tokenizer.ggml.pre); supported: ", list);
  }
  std::unique_ptr<PreTokenizer> pre(new PreTokenizer());
  pre->name_ = def->name;
  for (size_t i = 0; i < def->count; ++i) {
    auto regex = std::make_unique<Regex>();
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    // DOLLAR_ENDONLY: `$` is the end of the piece, as in ECMAScript, not
    // also "before a final newline".
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(def->regexes[i]), PCRE2_ZERO_TERMINATED,
                                PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &error_offset, nullptr);
    if (regex->code == nullptr) {
      return KT_ERROR(kInternal, "pre-tokenizer '", def->name, "' regex ", i, " does not compile at offset ",
                      error_offset, ": ", Pcre2Message(error));
    }
    pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is absent
    regex->match = pcre2_match_data_create_from_pattern(regex->code, nullptr);
    if (regex->match == nullptr) return KT_ERROR(kResourceExhausted, "pcre2 match data");
    pre->regexes_.push_back(std::move(regex));
  }
  return pre;
}

Status PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* pieces) const {
  std::vector<std::string_view> current;
  if (!text.empty()) current.push_back(text);
  std::vector<std::string_view> next;
  for (const auto& regex : regexes_) {
    next.clear();
    for (std::string_view piece : current) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t gap_start = 0;
      size_t offset = 0;
      while (offset < piece.size()) {
        const int rc = pcre2_match(regex->code, subject, piece.size(), offset, PCRE2_NO_UTF_CHECK, regex->match,
                                   nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return KT_ERROR(kInternal, "pre-tokenizer '", name_, "': pcre2_match: ", Pcre2Message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(regex->match);
        const size_t begin = ov[0], end = ov[1];
        if (end == begin) {  // none of our regexes match empty, but never loop forever
          offset = begin + 1;
          while (offset < piece.size() && (static_cast<uint8_t>(piece[offset]) & 0xC0) == 0x80) ++offset;
          continue;
        }
        if (begin > gap_start) next.push_back(piece.substr(gap_start, begin - gap_start));
        next.push_back(piece.substr(begin, end - begin));
        gap_start = offset = end;
      }
      if (gap_start < piece.size()) next.push_back(piece.substr(gap_start));
    }
    current.swap(next);
  }
  pieces->insert(pieces->end(), current.begin(), current.end());
  return Status::Ok();
}

}  // namespace kt::tokenizer
