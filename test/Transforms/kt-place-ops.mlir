// One tiny model (see Inputs/tiny-deepseek2.mlir) placed at several budgets.
// Sizes (bytes): KV cache 2 layers x (32 + 8) x 2 B x ctx 100 = 16000;
// workspace 3 x chunk 4 x widest 128 x 4 B + vocab 128 x 4 B = 6656;
// rank 0 weights: 2 x MLA 10464 + 5 norms x 256 + router 1040 = 23248.
// Minimum = 45904. Then: shared experts 6528, dense FFN 26112, embedding
// 8704, lm_head 8704, routed experts 26112 (all weights: 99408).

// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=0 ctx=100 chunk=4" | FileCheck %s --check-prefix=ZERO
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=45903 ctx=100 chunk=4" 2>&1 | FileCheck %s --check-prefix=SMALL
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=45904 ctx=100 chunk=4" | FileCheck %s --check-prefix=MIN
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-annotate-costs --kt-place-ops="vram=90000 ctx=100 chunk=4" | FileCheck %s --check-prefix=MID
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB ctx=100 chunk=4" | FileCheck %s --check-prefix=ALL
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=14G" 2>&1 | FileCheck %s --check-prefix=BADSIZE

// vram=0: everything on the CPU, nothing reserved.
// ZERO: kt.placement = {cpu_weights = 99408 : i64, ctx = 100 : i64, gpu_weights = 0 : i64, kv_cache = 0 : i64, min_vram = 0 : i64, vram = 0 : i64, workspace = 0 : i64}
// ZERO-NOT: cuda
// ZERO-LABEL: func.func @decode
//       ZERO: kt.embed {{.*}}kt.device = #kt.device<cpu>, kt.reason = "vram=0: everything runs on the CPU"
//       ZERO: kt.mla {{.*}}kt.device = #kt.device<cpu>
//       ZERO: kt.add {{.*}}kt.device = #kt.device<cpu>
//       ZERO: kt.experts {{.*}}kt.device = #kt.device<cpu>
//       ZERO: kt.argmax {{.*}}kt.device = #kt.device<cpu>
// ZERO-LABEL: func.func @prefill
//       ZERO: kt.mla {{.*}}kt.device = #kt.device<cpu>

// One byte short: the error states the minimum and what it is made of.
// SMALL: error: kt-place-ops: vram=45903 (45903 B) is below the minimum of 45904 B (44.83 KiB) for a GPU plan: KV cache 16000 B for ctx=100, workspace 6656 B, attention/norm/router weights 23248 B; use vram >= 45904 or vram=0 for a CPU-only plan

// Exactly the minimum: rank 0 on the GPU, nothing else fits.
// MIN: kt.placement = {cpu_weights = 76160 : i64, ctx = 100 : i64, gpu_weights = 23248 : i64, kv_cache = 16000 : i64, min_vram = 45904 : i64, vram = 45904 : i64, workspace = 6656 : i64}
// MIN-LABEL: func.func @decode
//       MIN: kt.embed {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 3 embedding: 8704 B do not fit in the 0 B left"
//       MIN: kt.rms_norm {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 0 norm, layer 0: required on the GPU when vram > 0"
//       MIN: kt.mla {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 0 attention, layer 0: required on the GPU when vram > 0"
//       MIN: kt.ffn {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 2 dense FFN, layer 0: 26112 B do not fit in the 0 B left"
//       MIN: kt.router {{.*}}kt.device = #kt.device<cuda:0>
//       MIN: kt.experts {{.*}}kt.device = #kt.device<cpu>
//       MIN: kt.ffn {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 1 shared experts, layer 1: 6528 B do not fit in the 0 B left"

// 90000: 44096 B left after the minimum. Shared (6528) and dense (26112) fit,
// then the embedding (8704) leaves 2752: lm_head and routed experts go to the CPU.
// MID: kt.placement = {cpu_weights = 34816 : i64, ctx = 100 : i64, gpu_weights = 64592 : i64, kv_cache = 16000 : i64, min_vram = 45904 : i64, vram = 90000 : i64, workspace = 6656 : i64}
// MID: kt.weight @token_embd.weight {kt.device = #kt.device<cuda:0>}
// MID: kt.weight @blk.1.ffn_gate_exps.weight {kt.device = #kt.device<cpu>}
// MID: kt.weight @blk.1.ffn_gate_shexp.weight {kt.device = #kt.device<cuda:0>}
// MID: kt.weight @output.weight {kt.device = #kt.device<cpu>}
// MID-LABEL: func.func @decode
//       MID: kt.embed {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 3 embedding: 8704 B fit in the 11456 B left"
//       MID: kt.mla {{.*}}kt.device = #kt.device<cuda:0>
//       MID: kt.ffn {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 2 dense FFN, layer 0: 26112 B fit in the 37568 B left"
//       MID: kt.experts {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 4 routed experts, layer 1: 26112 B do not fit in the 2752 B left"
//       MID: kt.ffn {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 1 shared experts, layer 1: 6528 B fit in the 44096 B left"
//       MID: kt.lm_head {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 3 lm_head: 8704 B do not fit in the 2752 B left"
//       MID: kt.argmax {{.*}}kt.device = #kt.device<cpu>, kt.reason = "argmax: runs where its logits are"
// @prefill shares the weights and so the decisions.
// MID-LABEL: func.func @prefill
//       MID: kt.embed {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 3 embedding: 8704 B fit in the 11456 B left"
//       MID: kt.experts {{.*}}kt.device = #kt.device<cpu>
//       MID: kt.lm_head {{.*}}kt.device = #kt.device<cpu>

// 1 MiB: everything fits.
// ALL: kt.placement = {cpu_weights = 0 : i64, ctx = 100 : i64, gpu_weights = 99408 : i64, kv_cache = 16000 : i64, min_vram = 45904 : i64, vram = 1048576 : i64, workspace = 6656 : i64}
// ALL-NOT: #kt.device<cpu>
// ALL-LABEL: func.func @decode
//       ALL: kt.experts {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 4 routed experts, layer 1: 26112 B fit in the 952624 B left"
//       ALL: kt.argmax {{.*}}kt.device = #kt.device<cuda:0>

// BADSIZE: error: kt-place-ops: cannot read vram='14G' (expected bytes or a size such as 14GiB, 512MiB)
