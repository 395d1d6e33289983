#include "compiler/CostModel/CostModel.h"
#include "compiler/Transforms/Passes.h"

namespace kt {

#define GEN_PASS_DEF_KTANNOTATECOSTS
#include "compiler/Transforms/Passes.h.inc"

namespace {

class AnnotateCostsPass : public impl::KtAnnotateCostsBase<AnnotateCostsPass> {
 public:
  using KtAnnotateCostsBase::KtAnnotateCostsBase;

  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    mlir::SymbolTableCollection symbols;
    CostOptions options;
    options.kv_elem_bytes = kvElemBytes;
    mlir::Dialect *kt_dialect = getContext().getLoadedDialect<KtDialect>();
    mlir::WalkResult result = module.walk([&](mlir::Operation *op) {
      if (op->getDialect() != kt_dialect || llvm::isa<WeightOp>(op))
        return mlir::WalkResult::advance();
      mlir::FailureOr<OpCost> cost = EstimateCost(op, symbols, options);
      if (failed(cost))
        return mlir::WalkResult::interrupt();
      op->setAttr(KtDialect::kCostAttrName, ToAttr(&getContext(), *cost));
      return mlir::WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

}  // namespace
}  // namespace kt
