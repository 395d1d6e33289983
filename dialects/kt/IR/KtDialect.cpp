#include "dialects/kt/IR/KtOps.h"

#include "dialects/kt/IR/KtDialect.cpp.inc"

namespace kt {

void KtDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialects/kt/IR/KtOps.cpp.inc"
      >();
}

// The passes' discardable attributes are checked wherever they appear, so a
// hand-edited or stale placement fails at parse time, not in the writer.
mlir::LogicalResult KtDialect::verifyOperationAttribute(
    mlir::Operation *op, mlir::NamedAttribute attr) {
  mlir::StringRef name = attr.getName().getValue();
  mlir::Attribute value = attr.getValue();
  if (name == kCostAttrName) {
    if (!llvm::isa<CostAttr>(value))
      return op->emitError() << "'" << name << "' must be a #kt.cost, got " << value;
    return mlir::success();
  }
  if (name == kDeviceAttrName) {
    if (!llvm::isa<DeviceAttr>(value))
      return op->emitError() << "'" << name << "' must be a #kt.device, got " << value;
    return mlir::success();
  }
  if (name == kReasonAttrName) {
    if (!llvm::isa<mlir::StringAttr>(value))
      return op->emitError() << "'" << name << "' must be a string, got " << value;
    return mlir::success();
  }
  // Summaries on the module are dictionaries; anything else under kt. is a
  // typo that would silently be ignored downstream.
  if (name == "kt.placement" && llvm::isa<mlir::DictionaryAttr>(value))
    return mlir::success();
  return op->emitError() << "unknown kt attribute '" << name << "'";
}

}  // namespace kt
