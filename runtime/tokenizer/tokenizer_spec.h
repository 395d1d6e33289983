// The tokenizer's inputs as plain data. The compiler copies these from GGUF
// metadata (tokenizer.ggml.*) into the artifact; keeping the struct free of
// GGUF types lets the runtime build a tokenizer without the GGUF library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kt::tokenizer {

// Values of tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct TokenizerSpec {
  std::string model;                // tokenizer.ggml.model; only "gpt2" (byte-level BPE)
  std::string pre;                  // tokenizer.ggml.pre: "deepseek-llm" or "deepseek-v3"
  std::vector<std::string> tokens;  // token texts; normal tokens in GPT-2 byte-to-unicode form
  std::vector<int32_t> token_types; // TokenType per token; empty means all normal
  std::vector<std::string> merges;  // "left right", lowest rank first
  int32_t bos = -1;                 // -1: none
  int32_t eos = -1;
  bool add_bos = false;
};

}  // namespace kt::tokenizer
