// Per-token cost of kt ops: weight bytes, bytes read, FLOPs, KV-cache growth
// and intensity. kt-annotate-costs writes these as #kt.cost; kt-place-ops
// ranks ops with them. The definitions are in the #kt.cost documentation
// (dialects/kt/IR/KtAttrs.td) and docs/compiler.md.
#pragma once

#include <cstdint>

#include "dialects/kt/IR/KtOps.h"
#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Support/LogicalResult.h"

namespace kt {

struct OpCost {
  uint64_t weight_bytes = 0;
  uint64_t touched_bytes = 0;
  uint64_t flops = 0;
  uint64_t kv_bytes = 0;
  double intensity = 0;
};

struct CostOptions {
  // Bytes per cached value: 2 for an f16 or bf16 KV cache.
  uint64_t kv_elem_bytes = 2;
};

// The kt.weight ops that `op` references through symbol attributes, in
// attribute order, each once. Fails (with an error on `op`) when a
// reference does not resolve to a kt.weight.
mlir::FailureOr<llvm::SmallVector<WeightOp>> ReferencedWeights(
    mlir::Operation *op, mlir::SymbolTableCollection &symbols);

// Cost of one kt op (not kt.weight) per decoded token.
mlir::FailureOr<OpCost> EstimateCost(mlir::Operation *op,
                                     mlir::SymbolTableCollection &symbols,
                                     const CostOptions &options);

CostAttr ToAttr(mlir::MLIRContext *context, const OpCost &cost);
OpCost FromAttr(CostAttr attr);

}  // namespace kt
