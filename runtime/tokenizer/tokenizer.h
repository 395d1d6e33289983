// Byte-level BPE tokenizer (GGUF tokenizer.ggml.model = "gpt2") with the
// DeepSeek pre-tokenizers. Built from a TokenizerSpec; immutable and safe to
// share between threads once created.
//
//   KT_ASSIGN_OR_RETURN(auto tok, Tokenizer::Create(spec));
//   KT_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok->Encode(prompt, {.add_bos = true, .parse_special = true}));
//   StreamDecoder stream(*tok);
//   for (int32_t id : generated) { KT_ASSIGN_OR_RETURN(std::string text, stream.Push(id)); emit(text); }
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/tokenizer/pretokenizer.h"
#include "runtime/tokenizer/tokenizer_spec.h"

namespace kt::tokenizer {

struct EncodeOptions {
  bool add_bos = false;
  // Recognise control tokens (<｜User｜>, <｜end▁of▁sentence｜>, ...) written
  // in the text. User-defined tokens are always recognised, as in llama.cpp
  // and Hugging Face. Leave false for untrusted text.
  bool parse_special = false;
};

class Tokenizer {
 public:
  // Checks the spec (model, pre-tokenizer, sizes, ids in range, merge syntax).
  static StatusOr<std::unique_ptr<Tokenizer>> Create(const TokenizerSpec& spec);

  // `text` must be valid UTF-8; otherwise kInvalidArgument naming the offset.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text, const EncodeOptions& options = {}) const;

  // The bytes a token stands for. Control and unknown tokens give their text
  // only with `render_special`, else nothing; unused tokens give nothing.
  // A piece may end inside a UTF-8 sequence: see StreamDecoder.
  StatusOr<std::string> TokenBytes(int32_t id, bool render_special = false) const;

  // Concatenated TokenBytes; the result is UTF-8 when the ids came from Encode.
  StatusOr<std::string> Decode(std::span<const int32_t> ids, bool render_special = false) const;

  int32_t n_tokens() const { return static_cast<int32_t>(texts_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  TokenType type(int32_t id) const { return types_[id]; }
  const std::string& text(int32_t id) const { return texts_[id]; }
  // Id of a token by its stored text (e.g. "<｜User｜>"), or -1.
  int32_t Find(std::string_view text) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  Tokenizer() = default;
  Status AppendSpecialSplit(std::string_view text, bool parse_special, std::vector<int32_t>* out,
                            std::unordered_map<std::string, std::vector<int32_t>>* cache) const;
  void AppendBpe(std::string_view word, std::vector<int32_t>* out) const;

  std::vector<std::string> texts_;
  std::vector<TokenType> types_;
  std::vector<std::string> decoded_;  // byte form of each normal token, precomputed
  std::unordered_map<std::string, int32_t> by_text_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
  int32_t byte_token_[256];                      // id of the single-byte token, or -1
  std::vector<int32_t> specials_;                // control/unknown/user-defined, longest text first
  std::unique_ptr<PreTokenizer> pre_;
  int32_t bos_ = -1;
  int32_t eos_ = -1;
  bool add_bos_ = false;
};

// Turns a stream of token ids into UTF-8 text, holding back the bytes of a
// character whose UTF-8 sequence is split across tokens until it completes.
// Bytes that can never become valid UTF-8 are passed through as they are.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false)
      : tokenizer_(tokenizer), render_special_(render_special) {}
  StatusOr<std::string> Push(int32_t id);
  // Whatever is still held (an incomplete sequence at the end of the stream).
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  std::string pending_;
};

}  // namespace kt::tokenizer
