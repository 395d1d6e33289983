// The kt dialect class. Most users want KtOps.h, which includes everything.
#pragma once

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "dialects/kt/IR/KtDialect.h.inc"
