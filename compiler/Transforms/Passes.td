#ifndef KT_COMPILER_TRANSFORMS_PASSES_TD
#define KT_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KtAnnotateCosts : Pass<"kt-annotate-costs", "::mlir::ModuleOp"> {
  let summary = "Attach a #kt.cost (bytes, FLOPs, KV bytes per token) to every kt op";
  let description = [{
    Computes, per decoded token, the weight bytes an op owns, the bytes it
    reads, its FLOPs (2 per weight element read), the KV-cache bytes it
    appends and its intensity (FLOPs per owned weight byte). Routed experts
    read the expected `top_k / num_experts` share of their weights; an
    embedding reads one row and computes nothing; MLA appends
    `(kv_lora_rank + qk_rope_head_dim) * kv-elem-bytes`.

    Before:
    ```mlir
    %e = kt.experts %n, %w, %ids {num_experts = 4 : i64, top_k = 2 : i64, ...}
    ```
    After:
    ```mlir
    %e = kt.experts %n, %w, %ids {num_experts = 4 : i64, top_k = 2 : i64, ...,
        kt.cost = #kt.cost<weight_bytes = 26112, touched_bytes = 13056,
                           flops = 24576, kv_bytes = 0, intensity = 0.94...>}
    ```
  }];
  let options = [
    Option<"kvElemBytes", "kv-elem-bytes", "unsigned", "2",
           "Bytes per KV-cache value (2 for an f16/bf16 cache)">
  ];
  let dependentDialects = ["::kt::KtDialect"];
}

def KtPlaceOps : Pass<"kt-place-ops", "::mlir::ModuleOp"> {
  let summary = "Place every kt op and weight on the GPU or the CPU within a VRAM budget";
  let description = [{
    Ops that share weights (the same layer in `@decode` and `@prefill`) are
    one unit and share one decision. With `vram=0` everything goes to the
    CPU. Otherwise the GPU first holds what must be there: the KV cache for
    `ctx` tokens, a workspace for activations, every attention (kt.mla) and
    the small glue ops (norms, routers, residual adds); a budget below that
    is an error that states the minimum. The rest of the budget is filled in
    this order, lower layers first within a rank, skipping units that do
    not fit: 1 shared experts, 2 dense FFNs, 3 lm_head and embedding,
    4 routed experts. Everything else runs on the CPU. Every op and weight
    gets `kt.device` and every op a `kt.reason`; the module gets a
    `kt.placement` summary.

    `rules=FILE` reads placement rules (a YAML list, see docs/compiler.md):
    the first rule whose `match` regex fully matches an op's name
    (blk.3.experts, blk.0.attn, output, token_embd) or whose `tensor` regex
    matches one of its weights pins it to `device` (cpu, gpu, cuda:N).
    Pinned units are placed before anything else and are never moved; GPU
    pins count against the budget (an error if they alone exceed it), CPU
    pins override the required set, and a layer's KV cache is reserved in
    VRAM only when its attention is on the GPU. A rule that decides no op
    is a warning.

    Before:
    ```mlir
    %a = kt.mla %n, %pos {...}
    %e = kt.experts %n, %w, %ids {...}
    ```
    After `--kt-place-ops="vram=64KiB ctx=128"`:
    ```mlir
    %a = kt.mla %n, %pos {..., kt.device = #kt.device<cuda:0>,
                          kt.reason = "rank 0 attention: required on the GPU"}
    %e = kt.experts %n, %w, %ids {..., kt.device = #kt.device<cpu>,
        kt.reason = "rank 4 routed experts, layer 1: 26112 B do not fit in the 9000 B left"}
    ```
  }];
  let options = [
    Option<"vram", "vram", "std::string", "\"0\"",
           "VRAM budget: bytes or a size such as 14GiB, 512MiB, 1.5GB; 0 = CPU only">,
    Option<"ctx", "ctx", "uint64_t", "4096",
           "Context length the KV cache is reserved for, in tokens">,
    Option<"workspace", "workspace", "std::string", "\"auto\"",
           "Activation workspace to reserve; auto = 3 x chunk x widest activation x 4 B + one row of logits">,
    Option<"chunk", "chunk", "uint64_t", "512",
           "Prefill chunk (tokens) the automatic workspace is sized for">,
    Option<"kvElemBytes", "kv-elem-bytes", "unsigned", "2",
           "Bytes per KV-cache value when an op has no #kt.cost">,
    Option<"gpu", "gpu", "unsigned", "0", "CUDA device ordinal to place on">,
    Option<"rules", "rules", "std::string", "\"\"",
           "Placement rules file (YAML) whose first matching rule pins an op to a device">
  ];
  let dependentDialects = ["::kt::KtDialect"];
}

#endif  // KT_COMPILER_TRANSFORMS_PASSES_TD
