// Pieces of GenerateModel shared with its tests; not a public API.
#pragma once

#include <string>

#include "compiler/gen/gen.h"
#include "compiler/gen/tokenizer.h"
#include "compiler/gguf/gguf.h"

namespace kt::gen {

// Adds general.*, deepseek2.* and tokenizer.* metadata to `w`.
void AddModelKvs(gguf::GgufWriter& w, const ModelSpec& spec, const Vocab& vocab, WeightType type);
// The HF-style config.json text for the model.
std::string ConfigJson(const ModelSpec& spec, const Vocab& vocab);
// Writes tensor `t`'s rows [row_begin, row_end) into `dst` in its stored
// type. Returns false when the quantizer refuses the type.
bool FillRows(const TensorPlan& t, uint64_t seed, uint64_t row_begin, uint64_t row_end, uint8_t* dst);

}  // namespace kt::gen
