// What `ktc compile` copies from a deepseek2 GGUF into the artifact manifest:
// the hyperparameters (every deepseek2.* key the runtime reads) and the
// tokenizer (tokenizer.ggml.*). No MLIR here.
#pragma once

#include <string>
#include <vector>

#include "compiler/gguf/gguf.h"
#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::import {

// Architectures this importer understands (general.architecture values).
const std::vector<std::string>& SupportedArchitectures();

// Checks general.architecture; an unsupported one is an error listing the
// supported ones.
Status CheckArchitecture(const gguf::GgufFile& file);

// Reads every deepseek2.* hyperparameter. Missing required keys, values of
// the wrong type and inconsistent values are errors naming the key and file.
StatusOr<artifact::Hyperparameters> ReadHyperparameters(const gguf::GgufFile& file);

// Reads tokenizer.ggml.* and tokenizer.chat_template (optional keys default).
StatusOr<artifact::Tokenizer> ReadTokenizer(const gguf::GgufFile& file);

// Per-head attention sizes, resolved from the two GGUF conventions (legacy
// key_length/value_length or the *_mla keys of split k_b/v_b files).
struct AttentionDims {
  uint32_t qk_nope = 0;
  uint32_t qk_rope = 0;
  uint32_t v = 0;
};
StatusOr<AttentionDims> ResolveAttentionDims(const artifact::Hyperparameters& h, const std::string& file);

}  // namespace kt::import
