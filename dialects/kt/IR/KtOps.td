#ifndef KT_OPS_TD
#define KT_OPS_TD

include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "dialects/kt/IR/KtDialect.td"
include "dialects/kt/IR/KtTypes.td"
include "dialects/kt/IR/KtAttrs.td"

// Activations are tokens x features; the token count is dynamic in @prefill.
def Kt_Act : Type<And<[
    CPred<"::llvm::isa<::mlir::RankedTensorType>($_self)">,
    CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getRank() == 2">,
    CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getElementType().isF32()">,
    CPred<"!::llvm::cast<::mlir::RankedTensorType>($_self).isDynamicDim(1)">]>,
    "2D f32 tensor (tokens x features) with a static feature count">;
def Kt_Tokens : 1DTensorOf<[I32]>;
defvar Kt_WeightRef = FlatSymbolRefAttr;
defvar Kt_OptWeightRef = OptionalAttr<FlatSymbolRefAttr>;

// Ops that name weights verify the referenced kt.weight types against their
// own operand types and attributes.
class Kt_WeightUserOp<string mnemonic, list<Trait> traits = []>
    : Kt_Op<mnemonic, traits # [DeclareOpInterfaceMethods<SymbolUserOpInterface>]>;

def Kt_WeightOp : Kt_Op<"weight", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "A model weight, named by its GGUF tensor name";
  let description = [{
    ```mlir
    kt.weight @blk.3.ffn_up_exps.weight : !kt.qtensor<q4_K, 64x1408x2048>
    ```
    The symbol is the exact GGUF tensor name, so the artifact writer finds
    the bytes by name. Ops in `@decode` and `@prefill` reference the same
    symbol, so the weight is stored and placed once.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Kt_QTensorType>:$type);
  let assemblyFormat = "$sym_name attr-dict `:` $type";
  let extraClassDeclaration = [{
    QTensorType getQType() { return ::llvm::cast<QTensorType>(getType()); }
  }];
}

def Kt_EmbedOp : Kt_WeightUserOp<"embed", [Pure]> {
  let summary = "Token embedding lookup";
  let description = [{
    ```mlir
    %h = kt.embed %tokens {table = @token_embd.weight}
        : tensor<?xi32> -> tensor<?x2048xf32>
    ```
    `table` is `[vocab, hidden]`.
  }];
  let arguments = (ins Kt_Tokens:$tokens, Kt_WeightRef:$table);
  let results = (outs Kt_Act:$result);
  let assemblyFormat = "$tokens attr-dict `:` type($tokens) `->` type($result)";
  let hasVerifier = 1;
}

def Kt_RmsNormOp : Kt_WeightUserOp<"rms_norm", [Pure, SameOperandsAndResultType]> {
  let summary = "RMS normalisation with a learned scale";
  let description = [{
    ```mlir
    %n = kt.rms_norm %h {weight = @blk.0.attn_norm.weight, eps = 1.0e-06 : f32,
                         layer = 0 : i64} : tensor<?x2048xf32>
    ```
    `weight` is `[hidden]`. `layer` is absent for the output norm.
  }];
  let arguments = (ins Kt_Act:$input, Kt_WeightRef:$weight, F32Attr:$eps,
                       OptionalAttr<I64Attr>:$layer);
  let results = (outs Kt_Act:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kt_MlaOp : Kt_WeightUserOp<"mla"> {
  let summary = "Multi-head latent attention (DeepSeek-V2/V3), with its KV cache";
  let description = [{
    One attention block: query projection (directly with `q`, or through
    the low-rank `q_a` -> `q_a_norm` -> `q_b` when `q_lora_rank > 0`), the
    compressed KV projection `kv_a` (`kv_lora_rank + qk_rope_head_dim`
    outputs) normalised by `kv_a_norm`, the per-head up-projection (legacy
    GGUF `kv_b`, or split `k_b` and `v_b` as newer llama.cpp writes it), RoPE
    on the rope part, attention over the latent cache and the output
    projection `o`. The cache holds `kv_lora_rank + qk_rope_head_dim` values
    per token and layer. Not pure: it appends to the KV cache.

    Weight shapes (row-major, `[out, in]`): q `[heads*(nope+rope), hidden]`;
    q_a `[q_lora, hidden]`; q_a_norm `[q_lora]`; q_b `[heads*(nope+rope),
    q_lora]`; kv_a `[kv_lora+rope, hidden]`; kv_a_norm `[kv_lora]`; kv_b
    `[heads*(nope+v), kv_lora]`; k_b `[heads, kv_lora, nope]`; v_b `[heads,
    v, kv_lora]`; o `[hidden, heads*v]`.

    ```mlir
    %a = kt.mla %n, %pos {layer = 0 : i64, heads = 16 : i64,
        q_lora_rank = 0 : i64, kv_lora_rank = 512 : i64,
        qk_nope_head_dim = 128 : i64, qk_rope_head_dim = 64 : i64,
        v_head_dim = 128 : i64, eps = 1.0e-06 : f32,
        rope = #kt.rope<freq_base = 1.0e+04>,
        q = @blk.0.attn_q.weight, kv_a = @blk.0.attn_kv_a_mqa.weight,
        kv_a_norm = @blk.0.attn_kv_a_norm.weight,
        kv_b = @blk.0.attn_kv_b.weight, o = @blk.0.attn_output.weight}
        : tensor<?x2048xf32>, tensor<?xi32> -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins
    Kt_Act:$input, Kt_Tokens:$positions,
    I64Attr:$layer, I64Attr:$heads, I64Attr:$q_lora_rank, I64Attr:$kv_lora_rank,
    I64Attr:$qk_nope_head_dim, I64Attr:$qk_rope_head_dim, I64Attr:$v_head_dim,
    F32Attr:$eps, Kt_RopeAttr:$rope,
    Kt_OptWeightRef:$q, Kt_OptWeightRef:$q_a, Kt_OptWeightRef:$q_a_norm,
    Kt_OptWeightRef:$q_b,
    Kt_WeightRef:$kv_a, Kt_WeightRef:$kv_a_norm,
    Kt_OptWeightRef:$kv_b, Kt_OptWeightRef:$k_b, Kt_OptWeightRef:$v_b,
    Kt_WeightRef:$o
  );
  let results = (outs Kt_Act:$result);
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` type($input) `,` type($positions)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kt_RouterOp : Kt_WeightUserOp<"router", [Pure]> {
  let summary = "MoE gating: scores, group-limited top-k, weights";
  let description = [{
    Scores `gating(weight @ x)` (softmax or sigmoid) for `num_experts`
    experts; when `groups > 1` only the best `groups_used` groups are
    eligible (DeepSeek-V3); `bias` (GGUF `exp_probs_b`) is added for the
    choice only, not to the weights. The `top_k` chosen weights are
    normalised to sum 1 when `norm`, then multiplied by `scale`.

    ```mlir
    %w, %ids = kt.router %n {layer = 1 : i64, num_experts = 64 : i64,
        top_k = 6 : i64, gating = #kt.gating<softmax>, groups = 1 : i64,
        groups_used = 1 : i64, norm = false, scale = 1.0 : f32,
        weight = @blk.1.ffn_gate_inp.weight}
        : tensor<?x2048xf32> -> tensor<?x6xf32>, tensor<?x6xi32>
    ```
    `weight` is `[num_experts, hidden]`, `bias` `[num_experts]`.
  }];
  let arguments = (ins
    Kt_Act:$input, I64Attr:$layer, I64Attr:$num_experts, I64Attr:$top_k,
    Kt_GatingAttr:$gating,
    DefaultValuedAttr<I64Attr, "1">:$groups,
    DefaultValuedAttr<I64Attr, "1">:$groups_used,
    DefaultValuedAttr<BoolAttr, "false">:$norm,
    DefaultValuedAttr<F32Attr, "1.0f">:$scale,
    Kt_WeightRef:$weight, Kt_OptWeightRef:$bias
  );
  let results = (outs 2DTensorOf<[F32]>:$weights, 2DTensorOf<[I32]>:$ids);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($weights) `,` type($ids)
  }];
  let hasVerifier = 1;
}

def Kt_ExpertsOp : Kt_WeightUserOp<"experts", [Pure]> {
  let summary = "Routed experts: each token through its top_k SwiGLU experts";
  let description = [{
    `sum_k w[t,k] * down_e(silu(gate_e(x)) * up_e(x))` with `e = ids[t,k]`.
    Weights hold all experts: gate and up `[num_experts, ff, hidden]`, down
    `[num_experts, hidden, ff]` (GGUF `ffn_{gate,up,down}_exps`).

    ```mlir
    %e = kt.experts %n, %w, %ids {layer = 1 : i64, num_experts = 64 : i64,
        top_k = 6 : i64, gate = @blk.1.ffn_gate_exps.weight,
        up = @blk.1.ffn_up_exps.weight, down = @blk.1.ffn_down_exps.weight}
        : tensor<?x2048xf32>, tensor<?x6xf32>, tensor<?x6xi32> -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins
    Kt_Act:$input, 2DTensorOf<[F32]>:$weights, 2DTensorOf<[I32]>:$ids,
    I64Attr:$layer, I64Attr:$num_experts, I64Attr:$top_k,
    Kt_WeightRef:$gate, Kt_WeightRef:$up, Kt_WeightRef:$down
  );
  let results = (outs Kt_Act:$result);
  let assemblyFormat = [{
    $input `,` $weights `,` $ids attr-dict `:` type($input) `,` type($weights)
    `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Kt_FfnOp : Kt_WeightUserOp<"ffn", [Pure, SameOperandsAndResultType]> {
  let summary = "SwiGLU feed-forward: a dense layer's FFN or shared experts";
  let description = [{
    `down(silu(gate(x)) * up(x))`; gate and up `[ff, hidden]`, down
    `[hidden, ff]`. `kind = shared` marks a MoE layer's shared experts
    (GGUF `ffn_*_shexp`, all shared experts fused into one ff), which the
    placement ranks above dense FFNs.

    ```mlir
    %f = kt.ffn %n {layer = 0 : i64, kind = #kt.ffn_kind<dense>,
        gate = @blk.0.ffn_gate.weight, up = @blk.0.ffn_up.weight,
        down = @blk.0.ffn_down.weight} : tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins Kt_Act:$input, I64Attr:$layer, Kt_FfnKindAttr:$kind,
                       Kt_WeightRef:$gate, Kt_WeightRef:$up, Kt_WeightRef:$down);
  let results = (outs Kt_Act:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Kt_AddOp : Kt_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "Residual addition";
  let arguments = (ins Kt_Act:$lhs, Kt_Act:$rhs);
  let results = (outs Kt_Act:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Kt_LmHeadOp : Kt_WeightUserOp<"lm_head", [Pure]> {
  let summary = "Output projection to vocabulary logits";
  let description = [{
    `weight` is `[vocab, hidden]` (GGUF `output.weight`).
    ```mlir
    %l = kt.lm_head %n {weight = @output.weight}
        : tensor<?x2048xf32> -> tensor<?x102400xf32>
    ```
  }];
  let arguments = (ins Kt_Act:$input, Kt_WeightRef:$weight);
  let results = (outs Kt_Act:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Kt_ArgmaxOp : Kt_Op<"argmax", [Pure]> {
  let summary = "Greedy token choice per row of logits";
  let arguments = (ins Kt_Act:$logits);
  let results = (outs Kt_Tokens:$result);
  let assemblyFormat = "$logits attr-dict `:` type($logits) `->` type($result)";
  let hasVerifier = 1;
}

#endif  // KT_OPS_TD
