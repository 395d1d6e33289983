// Pre-tokenization: splits text into the pieces that BPE merges never cross.
// Each model family has a list of regexes applied in order; every regex
// splits the pieces left by the previous ones into its matches and the gaps
// between them (both kept), as llama.cpp and the Hugging Face
// "Sequence of Split(isolated)" pre-tokenizers do. A regex sees one piece at
// a time, so anchors and lookaheads stop at piece boundaries.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"

namespace kt::tokenizer {

// Names accepted for tokenizer.ggml.pre, for error messages and --help.
const std::vector<std::string>& SupportedPreTokenizers();

class PreTokenizer {
 public:
  // kInvalidArgument for an unknown name, listing the supported ones.
  static StatusOr<std::unique_ptr<PreTokenizer>> Create(std::string_view name);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Appends the pieces of `text` (valid UTF-8, checked by the caller) to
  // `pieces` as views into `text`, in order; they cover `text` exactly.
  Status Split(std::string_view text, std::vector<std::string_view>* pieces) const;

  const std::string& name() const { return name_; }

 private:
  struct Regex;
  PreTokenizer() = default;
  std::string name_;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace kt::tokenizer
