#include "dialects/kt/IR/KtTypes.h"

#include "dialects/kt/IR/KtDialect.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/kt/IR/KtTypes.cpp.inc"

namespace kt {

void KtDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/kt/IR/KtTypes.cpp.inc"
      >();
}

namespace {

// Product of `dims`, or nullopt on overflow.
std::optional<uint64_t> CheckedProduct(llvm::ArrayRef<int64_t> dims, uint64_t start) {
  uint64_t total = start;
  for (int64_t d : dims) {
    if (d <= 0 || __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total))
      return std::nullopt;
  }
  return total;
}

}  // namespace

// `!kt.qtensor<q4_K, 64x1408x2048>`; the format may also be a string
// literal, for ggml names the MLIR lexer reads as integer types ("i8").
mlir::Type QTensorType::parse(mlir::AsmParser &parser) {
  llvm::SMLoc loc = parser.getCurrentLocation();
  std::string name;
  llvm::StringRef keyword;
  if (parser.parseLess())
    return {};
  if (succeeded(parser.parseOptionalKeyword(&keyword))) {
    name = keyword.str();
  } else if (parser.parseString(&name)) {
    return {};
  }
  std::optional<quant::GgmlType> format = quant::ParseGgmlType(name);
  if (!format) {
    parser.emitError(loc) << "unknown ggml type '" << name
                          << "' (expected a name such as f32, f16, q8_0, q4_K)";
    return {};
  }
  llvm::SmallVector<int64_t> shape;
  if (parser.parseComma() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/false) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(loc); },
                    parser.getContext(), *format, shape);
}

void QTensorType::print(mlir::AsmPrinter &printer) const {
  printer << "<" << getFormatInfo().name << ", ";
  llvm::interleave(getShape(), printer, "x");
  printer << ">";
}

mlir::LogicalResult QTensorType::verify(
    llvm::function_ref<mlir::InFlightDiagnostic()> emitError,
    quant::GgmlType format, llvm::ArrayRef<int64_t> shape) {
  const quant::GgmlTypeInfo &info = quant::GgmlTypeInfoOf(format);
  if (shape.empty())
    return emitError() << "qtensor needs at least one dimension";
  for (int64_t d : shape) {
    if (d <= 0)
      return emitError() << "qtensor dimensions must be positive, got " << d;
  }
  int64_t contiguous = shape.back();
  if (contiguous % info.block_elems != 0)
    return emitError() << "qtensor contiguous (last) dimension " << contiguous
                       << " is not a multiple of the " << info.name
                       << " block size " << info.block_elems;
  std::optional<uint64_t> row = quant::RowBytes(format, contiguous);
  if (!row || !CheckedProduct(shape.drop_back(), *row) ||
      !CheckedProduct(shape, 1) ||
      *CheckedProduct(shape, 1) > static_cast<uint64_t>(INT64_MAX))
    return emitError() << "qtensor size overflows 64 bits";
  return mlir::success();
}

const quant::GgmlTypeInfo &QTensorType::getFormatInfo() const {
  return quant::GgmlTypeInfoOf(getFormat());
}

int64_t QTensorType::getNumElements() const {
  return static_cast<int64_t>(*CheckedProduct(getShape(), 1));
}

uint64_t QTensorType::getSizeInBytes() const {
  return *CheckedProduct(getShape().drop_back(),
                         *quant::RowBytes(getFormat(), getShape().back()));
}

}  // namespace kt
