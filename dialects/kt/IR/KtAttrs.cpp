#include "dialects/kt/IR/KtAttrs.h"

#include "dialects/kt/IR/KtDialect.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"

#include "dialects/kt/IR/KtEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kt/IR/KtAttrs.cpp.inc"

namespace kt {

void KtDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kt/IR/KtAttrs.cpp.inc"
      >();
}

// `#kt.device<cpu>` | `#kt.device<cuda:N>`
mlir::Attribute DeviceAttr::parse(mlir::AsmParser &parser, mlir::Type) {
  llvm::SMLoc loc = parser.getCurrentLocation();
  llvm::StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<DeviceKind> kind = symbolizeDeviceKind(keyword);
  if (!kind) {
    parser.emitError(loc) << "unknown device '" << keyword
                          << "' (expected cpu or cuda:N)";
    return {};
  }
  unsigned index = 0;
  if (*kind == DeviceKind::cuda &&
      (parser.parseColon() || parser.parseInteger(index)))
    return {};
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); },
                    parser.getContext(), *kind, index);
}

void DeviceAttr::print(mlir::AsmPrinter &printer) const {
  printer << "<" << stringifyDeviceKind(getKind());
  if (getKind() == DeviceKind::cuda)
    printer << ":" << getIndex();
  printer << ">";
}

mlir::LogicalResult DeviceAttr::verify(
    llvm::function_ref<mlir::InFlightDiagnostic()> emitError, DeviceKind kind,
    unsigned index) {
  if (kind == DeviceKind::cpu && index != 0)
    return emitError() << "the cpu device has no index";
  return mlir::success();
}

mlir::LogicalResult RopeAttr::verify(
    llvm::function_ref<mlir::InFlightDiagnostic()> emitError,
    llvm::APFloat freq_base, RopeScaling scaling, llvm::APFloat factor,
    int64_t original_context, llvm::APFloat yarn_log_multiplier,
    llvm::APFloat beta_fast, llvm::APFloat beta_slow) {
  if (!(freq_base.convertToDouble() > 0))
    return emitError() << "rope freq_base must be positive, got "
                       << freq_base.convertToDouble();
  if (!(factor.convertToDouble() > 0))
    return emitError() << "rope factor must be positive, got "
                       << factor.convertToDouble();
  if (original_context < 0)
    return emitError() << "rope original_context must not be negative";
  if (scaling == RopeScaling::yarn && original_context == 0)
    return emitError() << "yarn scaling needs original_context > 0";
  return mlir::success();
}

}  // namespace kt
