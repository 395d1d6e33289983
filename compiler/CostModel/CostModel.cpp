#include "compiler/CostModel/CostModel.h"

#include "llvm/ADT/TypeSwitch.h"

namespace kt {
namespace {

// a * num / den without intermediate overflow; `num <= den` in all uses, so
// the result fits whenever `a` does.
uint64_t ScaleBy(uint64_t a, uint64_t num, uint64_t den) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * num / den);
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

}  // namespace

mlir::FailureOr<llvm::SmallVector<WeightOp>> ReferencedWeights(
    mlir::Operation *op, mlir::SymbolTableCollection &symbols) {
  llvm::SmallVector<WeightOp> weights;
  for (mlir::NamedAttribute attr : op->getAttrs()) {
    auto ref = llvm::dyn_cast<mlir::FlatSymbolRefAttr>(attr.getValue());
    if (!ref)
      continue;
    auto weight = symbols.lookupNearestSymbolFrom<WeightOp>(op, ref.getAttr());
    if (!weight)
      return op->emitOpError() << attr.getName() << " " << ref
                               << " does not name a kt.weight";
    if (!llvm::is_contained(weights, weight))
      weights.push_back(weight);
  }
  return weights;
}

mlir::FailureOr<OpCost> EstimateCost(mlir::Operation *op,
                                     mlir::SymbolTableCollection &symbols,
                                     const CostOptions &options) {
  auto weights = ReferencedWeights(op, symbols);
  if (failed(weights))
    return mlir::failure();
  OpCost cost;
  uint64_t elements = 0;
  for (WeightOp weight : *weights) {
    QTensorType type = weight.getQType();
    cost.weight_bytes = SaturatingAdd(cost.weight_bytes, type.getSizeInBytes());
    elements = SaturatingAdd(elements, static_cast<uint64_t>(type.getNumElements()));
  }
  // By default every weight element is read once per token and costs one
  // multiply-add.
  cost.touched_bytes = cost.weight_bytes;
  uint64_t touched_elements = elements;
  llvm::TypeSwitch<mlir::Operation *>(op)
      .Case<EmbedOp>([&](EmbedOp embed) {
        // A lookup reads one row and computes nothing.
        QTensorType table = (*weights)[0].getQType();
        cost.touched_bytes = *quant::RowBytes(table.getFormat(), table.getShape()[1]);
        touched_elements = 0;
      })
      .Case<ExpertsOp>([&](ExpertsOp experts) {
        // Each token uses top_k of num_experts equally sized experts; over
        // many tokens that is the expected share read.
        uint64_t k = experts.getTopK(), n = experts.getNumExperts();
        cost.touched_bytes = ScaleBy(cost.weight_bytes, k, n);
        touched_elements = ScaleBy(elements, k, n);
      })
      .Case<MlaOp>([&](MlaOp mla) {
        // The latent cache keeps the compressed KV and the shared rope key.
        cost.kv_bytes = static_cast<uint64_t>(mla.getKvLoraRank() +
                                              mla.getQkRopeHeadDim()) *
                        options.kv_elem_bytes;
      });
  cost.flops = touched_elements > UINT64_MAX / 2 ? UINT64_MAX : 2 * touched_elements;
  cost.intensity = cost.weight_bytes == 0
                       ? 0.0
                       : static_cast<double>(cost.flops) /
                             static_cast<double>(cost.weight_bytes);
  return cost;
}

CostAttr ToAttr(mlir::MLIRContext *context, const OpCost &cost) {
  return CostAttr::get(context, cost.weight_bytes, cost.touched_bytes, cost.flops,
                       cost.kv_bytes, llvm::APFloat(cost.intensity));
}

OpCost FromAttr(CostAttr attr) {
  return OpCost{attr.getWeightBytes(), attr.getTouchedBytes(), attr.getFlops(),
                attr.getKvBytes(), attr.getIntensity().convertToDouble()};
}

}  // namespace kt
