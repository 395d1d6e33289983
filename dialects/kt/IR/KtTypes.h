// !kt.qtensor: a weight in a ggml storage format.
#pragma once

#include "kernels/quant/ggml_type.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "dialects/kt/IR/KtTypes.h.inc"
