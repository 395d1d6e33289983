// kt attributes: enums, #kt.device, #kt.rope, #kt.cost.
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/kt/IR/KtEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kt/IR/KtAttrs.h.inc"
