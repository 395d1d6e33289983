#ifndef KT_ATTRS_TD
#define KT_ATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "dialects/kt/IR/KtDialect.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Kt_GatingSoftmax : I32EnumAttrCase<"softmax", 1>;
def Kt_GatingSigmoid : I32EnumAttrCase<"sigmoid", 2>;
// Values follow GGUF's `expert_gating_func` so an importer can cast.
def Kt_Gating : I32EnumAttr<"Gating", "router score function",
    [Kt_GatingSoftmax, Kt_GatingSigmoid]> {
  let cppNamespace = "::kt";
  let genSpecializedAttr = 0;
}
def Kt_GatingAttr : EnumAttr<Kt_Dialect, Kt_Gating, "gating"> {
  let assemblyFormat = "`<` $value `>`";
}

def Kt_RopeScalingNone : I32EnumAttrCase<"none", 0>;
def Kt_RopeScalingLinear : I32EnumAttrCase<"linear", 1>;
def Kt_RopeScalingYarn : I32EnumAttrCase<"yarn", 2>;
def Kt_RopeScaling : I32EnumAttr<"RopeScaling", "RoPE context scaling",
    [Kt_RopeScalingNone, Kt_RopeScalingLinear, Kt_RopeScalingYarn]> {
  let cppNamespace = "::kt";
  let genSpecializedAttr = 0;
}

def Kt_FfnKindDense : I32EnumAttrCase<"dense", 0>;
def Kt_FfnKindShared : I32EnumAttrCase<"shared", 1>;
def Kt_FfnKind : I32EnumAttr<"FfnKind",
    "a dense layer's FFN or a MoE layer's shared experts",
    [Kt_FfnKindDense, Kt_FfnKindShared]> {
  let cppNamespace = "::kt";
  let genSpecializedAttr = 0;
}
def Kt_FfnKindAttr : EnumAttr<Kt_Dialect, Kt_FfnKind, "ffn_kind"> {
  let assemblyFormat = "`<` $value `>`";
}

def Kt_DeviceKindCpu : I32EnumAttrCase<"cpu", 0>;
def Kt_DeviceKindCuda : I32EnumAttrCase<"cuda", 1>;
def Kt_DeviceKind : I32EnumAttr<"DeviceKind", "kind of device",
    [Kt_DeviceKindCpu, Kt_DeviceKindCuda]> {
  let cppNamespace = "::kt";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Kt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Kt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// A float kept as an APFloat (double semantics): LLVM has no hash for
// double, and APFloat prints the way MLIR float literals do.
def Kt_DoubleParameter : APFloatParameter<"a double"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
      double value = 0;
      if ($_parser.parseFloat(value))
        return ::mlir::failure();
      return ::llvm::APFloat(value);
    }() }];
  let printer = "$_printer.printFloat($_self)";
}
class Kt_DefaultDouble<string value> : APFloatParameter<"a double"> {
  let parser = Kt_DoubleParameter.parser;
  let printer = Kt_DoubleParameter.printer;
  let defaultValue = "::llvm::APFloat(" # value # ")";
}

def Kt_RopeScalingParameter : EnumParameter<Kt_RopeScaling> {
  let defaultValue = "::kt::RopeScaling::none";
}

def Kt_DeviceAttr : Kt_Attr<"Device", "device"> {
  let summary = "Where an op runs and its weights live";
  let description = [{
    `#kt.device<cpu>` or `#kt.device<cuda:N>` (N is the CUDA ordinal). The
    CPU has no index: one CPU expert pool spans all NUMA nodes.
  }];
  let parameters = (ins EnumParameter<Kt_DeviceKind>:$kind,
                        "unsigned":$index);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static DeviceAttr getCpu(::mlir::MLIRContext *context) {
      return get(context, DeviceKind::cpu, 0);
    }
    static DeviceAttr getCuda(::mlir::MLIRContext *context, unsigned index) {
      return get(context, DeviceKind::cuda, index);
    }
    bool isCpu() const { return getKind() == DeviceKind::cpu; }
  }];
}

def Kt_RopeAttr : Kt_Attr<"Rope", "rope"> {
  let summary = "Rotary position embedding parameters";
  let description = [{
    GGUF keys `rope.freq_base` and `rope.scaling.{type, factor,
    original_context_length, yarn_log_multiplier}`; `beta_fast`/`beta_slow`
    are YaRN's ramp bounds (32 and 1 unless the model says otherwise).
    Fields with defaults may be omitted:
    `#kt.rope<freq_base = 1.0e+04, scaling = yarn, factor = 4.0e+01,
    original_context = 4096, yarn_log_multiplier = 7.07e-02>`.
  }];
  let parameters = (ins
    Kt_DoubleParameter:$freq_base,
    Kt_RopeScalingParameter:$scaling,
    Kt_DefaultDouble<"1.0">:$factor,
    DefaultValuedParameter<"int64_t", "0">:$original_context,
    Kt_DefaultDouble<"0.0">:$yarn_log_multiplier,
    Kt_DefaultDouble<"32.0">:$beta_fast,
    Kt_DefaultDouble<"1.0">:$beta_slow
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Kt_CostAttr : Kt_Attr<"Cost", "cost"> {
  let summary = "Per-token cost of one op, written by kt-annotate-costs";
  let description = [{
    All counts are per token at decode. `weight_bytes`: bytes of the op's
    weights (what it occupies where it lives). `touched_bytes`: weight bytes
    read per token (for routed experts the expected top_k/num_experts
    share). `flops`: 2 per weight element touched (multiply + add).
    `kv_bytes`: KV-cache bytes appended per token. `intensity`: flops per
    resident weight byte, i.e. how much work each byte earns where it lives.
  }];
  let parameters = (ins
    "uint64_t":$weight_bytes,
    "uint64_t":$touched_bytes,
    "uint64_t":$flops,
    "uint64_t":$kv_bytes,
    Kt_DoubleParameter:$intensity
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif  // KT_ATTRS_TD
