// The synthetic models' tokenizer: byte-level BPE (GPT-2 byte-to-unicode
// alphabet) learned deterministically from a small bundled corpus, plus the
// DeepSeek-V3 special tokens and a chat template.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"

namespace kt::gen {

// llama.cpp token types (tokenizer.ggml.token_type).
enum TokenType : int32_t {
  kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4,
  kTokenUnused = 5, kTokenByte = 6,
};

struct Vocab {
  std::vector<std::string> tokens;  // in GPT-2 byte-to-unicode spelling
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // "left right", highest priority first
  uint32_t bos_id = 0;
  uint32_t eos_id = 0;
  uint32_t n_learned = 0;           // tokens before placeholder padding
};

// The GPT-2 byte-to-unicode character of byte `b`, UTF-8 encoded.
std::string ByteToUnicode(uint8_t b);
// Maps raw bytes to their GPT-2 spelling.
std::string BytesToTokenText(std::string_view bytes);

// Learns up to `n_merges` merges from the bundled corpus, then appends the
// special tokens; pads with unused placeholders up to `pad_to` tokens when
// pad_to is larger (an error when it is smaller than the learned vocabulary).
StatusOr<Vocab> BuildVocab(uint32_t n_merges, uint32_t pad_to);

// The bundled corpus (English prose, code, some Chinese and Japanese).
std::string_view Corpus();
// A DeepSeek-V3-style chat template (Jinja) for tokenizer.chat_template.
std::string_view ChatTemplate();

inline constexpr const char* kBosToken = "<｜begin▁of▁sentence｜>";
inline constexpr const char* kEosToken = "<｜end▁of▁sentence｜>";

}  // namespace kt::gen
