// Cross-checks a Hugging Face config.json against the hyperparameters read
// from the GGUF: a file converted from a different checkpoint, or edited by
// hand, is caught before hours of compiling. Every mismatch names both
// values and where each came from.
#pragma once

#include <string>

#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::import {

// `gguf_name` is used in messages. Keys absent from config.json are not
// checked; a key of the wrong JSON type is an error.
Status CheckConfigJson(const std::string& config_path, const artifact::Hyperparameters& h,
                       const std::string& gguf_name);

// Same, for config text already in memory (`config_name` for messages).
Status CheckConfigJsonText(const std::string& text, const std::string& config_name,
                           const artifact::Hyperparameters& h, const std::string& gguf_name);

}  // namespace kt::import
