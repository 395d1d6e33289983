// Compiler passes over the kt dialect: cost annotation and placement.
#pragma once

#include <memory>

#include "dialects/kt/IR/KtOps.h"
#include "mlir/Pass/Pass.h"

namespace kt {

#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"

}  // namespace kt
