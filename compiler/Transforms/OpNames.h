// The names `ktc plan` prints for kt ops (blk.3.experts, blk.0.attn, output,
// token_embd, output_norm). Placement rules match these names, so the pass
// and the plan report must agree on them: both call OpName.
#pragma once

#include <string>

#include "mlir/IR/Operation.h"

namespace kt {

// The name of an op that owns weights; "" for weightless ops (kt.add,
// kt.argmax), which the caller names by position. @decode and @prefill
// copies of an op get the same name.
std::string OpName(mlir::Operation *op);

}  // namespace kt
