// The kt dialect: a model-level IR for MoE language models. One op is one
// model component (attention, router, experts, ...) so that cost model and
// placement reason about whole components, not about matmuls.
#ifndef KT_DIALECT_TD
#define KT_DIALECT_TD

include "mlir/IR/OpBase.td"

def Kt_Dialect : Dialect {
  let name = "kt";
  let cppNamespace = "::kt";
  let summary = "Model-level ops, quantised weights and placement for MoE models";
  let description = [{
    Functions `@decode` and `@prefill` hold model-level ops over activations
    of type `tensor<?xNxf32>` (tokens x features). Weights are module-level
    `kt.weight` symbols of type `!kt.qtensor<...>`, named by their GGUF
    tensor name and referenced by ops through symbol references, so that
    one weight is shared by both functions and placed once.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
    // Discardable attributes written by the passes.
    static constexpr ::llvm::StringLiteral kCostAttrName = "kt.cost";
    static constexpr ::llvm::StringLiteral kDeviceAttrName = "kt.device";
    static constexpr ::llvm::StringLiteral kReasonAttrName = "kt.reason";
  }];
}

class Kt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kt_Dialect, mnemonic, traits>;

#endif  // KT_DIALECT_TD
