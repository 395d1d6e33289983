#ifndef KT_TYPES_TD
#define KT_TYPES_TD

include "mlir/IR/AttrTypeBase.td"
include "dialects/kt/IR/KtDialect.td"

def Kt_QTensorType : TypeDef<Kt_Dialect, "QTensor"> {
  let mnemonic = "qtensor";
  let summary = "A weight tensor stored in a ggml quantisation format";
  let description = [{
    `!kt.qtensor<q4_K, 64x1408x2048>`: element format (a ggml type name as
    llama.cpp prints it, case-insensitive on input) and the logical shape in
    row-major (numpy) order. The LAST dimension is the contiguous one: it is
    ggml's ne[0], so GGUF's `ne = [2048, 1408, 64]` is written `64x1408x2048`.
    For a linear layer the shape is `[out, in]`, like torch's `weight`.
    Quantised formats pack the contiguous dimension in blocks, so the block
    size must divide it.
  }];
  let parameters = (ins
    "::kt::quant::GgmlType":$format,
    ArrayRefParameter<"int64_t">:$shape
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    const ::kt::quant::GgmlTypeInfo &getFormatInfo() const;
    int64_t getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
    // Bytes in the GGUF file; the verifier guarantees this does not overflow.
    uint64_t getSizeInBytes() const;
  }];
}

#endif  // KT_TYPES_TD
