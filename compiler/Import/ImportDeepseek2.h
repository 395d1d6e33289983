// GGUF (general.architecture = deepseek2) -> kt dialect module: one
// kt.weight per GGUF tensor (symbol = the GGUF name, type = its ggml type and
// shape) and the functions @decode (one token) and @prefill (a chunk) built
// from model-level ops. Covers DeepSeek-V2, V2-Lite, V2.5, V3, R1 and
// Kimi-K2 files: with or without q_lora, softmax or sigmoid gating, with or
// without the exp_probs_b selection bias and expert groups, legacy attn_kv_b
// or split attn_k_b/attn_v_b.
#pragma once

#include "compiler/gguf/gguf.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::import {

// `h` comes from ReadHyperparameters(file). The context must have the kt and
// func dialects loaded. A missing or mis-shaped tensor is an error naming
// the tensor and the file; the returned module passes mlir::verify.
StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> ImportDeepseek2(mlir::MLIRContext* context, const gguf::GgufFile& file,
                                                            const artifact::Hyperparameters& h);

}  // namespace kt::import
