// The kt dialect: ops, types and attributes.
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/kt/IR/KtAttrs.h"
#include "dialects/kt/IR/KtDialect.h"
#include "dialects/kt/IR/KtTypes.h"

#define GET_OP_CLASSES
#include "dialects/kt/IR/KtOps.h.inc"
