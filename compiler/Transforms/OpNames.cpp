#include "compiler/Transforms/OpNames.h"

#include "dialects/kt/IR/KtOps.h"

namespace kt {

std::string OpName(mlir::Operation *op) {
  std::string blk;
  if (auto layer = op->getAttrOfType<mlir::IntegerAttr>("layer"))
    blk = "blk." + std::to_string(layer.getInt()) + ".";
  if (llvm::isa<EmbedOp>(op)) return "token_embd";
  if (auto norm = llvm::dyn_cast<RmsNormOp>(op)) {
    // A norm is named after its weight: blk.0.attn_norm, output_norm.
    llvm::StringRef w = norm.getWeight();
    w.consume_back(".weight");
    return w.str();
  }
  if (llvm::isa<MlaOp>(op)) return blk + "attn";
  if (llvm::isa<RouterOp>(op)) return blk + "router";
  if (llvm::isa<ExpertsOp>(op)) return blk + "experts";
  if (auto ffn = llvm::dyn_cast<FfnOp>(op))
    return blk + (ffn.getKind() == FfnKind::shared ? "shared_experts" : "ffn");
  if (llvm::isa<LmHeadOp>(op)) return "output";
  return "";
}

}  // namespace kt
