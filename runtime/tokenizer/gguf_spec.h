// Test-only: reads a TokenizerSpec from a GGUF's tokenizer.ggml.* keys. The
// runtime gets its spec from the artifact; this exists for the unit tests and
// the kt_tokenize tool, which work on GGUF files directly.
#pragma once

#include <string>

#include "runtime/base/status.h"
#include "runtime/tokenizer/tokenizer_spec.h"

namespace kt::tokenizer {

StatusOr<TokenizerSpec> ReadTokenizerSpecFromGguf(const std::string& path);

}  // namespace kt::tokenizer
