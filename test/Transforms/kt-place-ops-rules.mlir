// kt-place-ops rules=FILE: placement rules (Inputs/rules-*.yaml) on the tiny
// model of kt-place-ops.mlir. Sizes (bytes): KV cache 8000 per layer at
// ctx=100, workspace 6656, MLA 10464 each, norms 256 each, router 1040,
// shared experts 6528, dense FFN 26112, embedding and lm_head 8704 each,
// routed experts 26112; all weights 99408.

// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB ctx=100 chunk=4 rules=%S/Inputs/rules-mixed.yaml" 2>%t.warn | FileCheck %s --check-prefix=MIXED
// RUN: FileCheck %s --check-prefix=WARN < %t.warn
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=0 ctx=100 chunk=4 rules=%S/Inputs/rules-cpu.yaml" | FileCheck %s --check-prefix=ZERO
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB ctx=100 chunk=4 rules=%S/Inputs/rules-cpu.yaml" | FileCheck %s --check-prefix=ROOM
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=98128 ctx=100 chunk=4 rules=%S/Inputs/rules-gpu-pins.yaml" | FileCheck %s --check-prefix=PINS
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=98127 ctx=100 chunk=4 rules=%S/Inputs/rules-gpu-pins.yaml" 2>&1 | FileCheck %s --check-prefix=PINMIN
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=40000 ctx=100 chunk=4 rules=%S/Inputs/rules-gpu-pins.yaml" 2>&1 | FileCheck %s --check-prefix=OVER
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=0 rules=%S/Inputs/rules-gpu-pins.yaml" 2>&1 | FileCheck %s --check-prefix=OVER0

// Malformed files: each error names the file, line and column.
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-bad-yaml.yaml" 2>&1 | FileCheck %s --check-prefix=BADYAML
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-bad-regex.yaml" 2>&1 | FileCheck %s --check-prefix=BADREGEX
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-bad-device.yaml" 2>&1 | FileCheck %s --check-prefix=BADDEVICE
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-bad-key.yaml" 2>&1 | FileCheck %s --check-prefix=BADKEY
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-no-pattern.yaml" 2>&1 | FileCheck %s --check-prefix=NOPATTERN
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-both.yaml" 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-bad-layout.yaml" 2>&1 | FileCheck %s --check-prefix=LAYOUT
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-cuda1.yaml" 2>&1 | FileCheck %s --check-prefix=CUDA1
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/rules-not-list.yaml" 2>&1 | FileCheck %s --check-prefix=NOTLIST
// RUN: not kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-place-ops="vram=1MiB rules=%S/Inputs/no-such-rules.yaml" 2>&1 | FileCheck %s --check-prefix=NOFILE

// rules-mixed: experts to the GPU (rule 1, before rule 3 that would take
// them); attention to the CPU (so no KV cache in VRAM); the rest of layer 1
// to the CPU; lm_head by its tensor, with a kernel. Only the unpinned rank 0
// units (3 norms, 768 B) are required: minimum 6656 + 768 + 26112 pinned.
// MIXED: kt.placement = {cpu_weights = 37712 : i64, ctx = 100 : i64, gpu_weights = 61696 : i64, kv_cache = 0 : i64, min_vram = 33536 : i64, vram = 1048576 : i64, workspace = 6656 : i64}
// MIXED-LABEL: func.func @decode
//       MIXED: kt.embed {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 3 embedding: 8704 B fit in the 988928 B left"
//       MIXED: kt.rms_norm {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 0 norm, layer 0: required on the GPU when vram > 0"
//       MIXED: kt.mla {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 0 attention, layer 0: pinned to the CPU by rule {{.*}}rules-mixed.yaml:4 (match blk\\.[0-9]+\\.attn)"
//       MIXED: kt.ffn {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 2 dense FFN, layer 0: 26112 B fit
//       MIXED: kt.rms_norm {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 0 norm, layer 1: pinned to the CPU by rule {{.*}}rules-mixed.yaml:6 (match blk\\.1\\..*)"
//       MIXED: kt.mla {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 0 attention, layer 1: pinned to the CPU by rule {{.*}}rules-mixed.yaml:4
//       MIXED: kt.router {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 0 router, layer 1: pinned to the CPU by rule {{.*}}rules-mixed.yaml:6
//       MIXED: kt.experts {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 4 routed experts, layer 1: pinned to the GPU by rule {{.*}}rules-mixed.yaml:2 (match blk\\.1\\.experts)"
//       MIXED: kt.ffn {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 1 shared experts, layer 1: pinned to the CPU by rule {{.*}}rules-mixed.yaml:6
//       MIXED: kt.lm_head {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 3 lm_head: pinned to the CPU by rule {{.*}}rules-mixed.yaml:8 (tensor output\\.weight), kernel my_gemv, layout ggml"
//       MIXED: kt.argmax {{.*}}kt.device = #kt.device<cpu>
// MIXED-LABEL: func.func @prefill
//       MIXED: kt.mla {{.*}}kt.device = #kt.device<cpu>
//       MIXED: kt.experts {{.*}}kt.device = #kt.device<cuda:0>

// A rule that matches nothing, and one whose ops an earlier rule took, warn.
// WARN: warning: kt-place-ops: {{.*}}rules-mixed.yaml:12: rule (match "blk\.7\.attn") matches no op
// WARN: warning: kt-place-ops: {{.*}}rules-mixed.yaml:14: rule (match "blk\.0\.attn") decides nothing: every op it matches was taken by an earlier rule

// vram=0 with CPU pins: everything on the CPU, the pinned op says why.
// ZERO: kt.placement = {cpu_weights = 99408 : i64, ctx = 100 : i64, gpu_weights = 0 : i64, kv_cache = 0 : i64, min_vram = 0 : i64, vram = 0 : i64, workspace = 0 : i64}
// ZERO: kt.experts {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 4 routed experts, layer 1: pinned to the CPU by rule {{.*}}rules-cpu.yaml:1
// ZERO: kt.lm_head {{.*}}kt.device = #kt.device<cpu>, kt.reason = "vram=0: everything runs on the CPU"

// With room for everything, the experts a rule pins to the CPU stay there.
// ROOM: kt.placement = {cpu_weights = 26112 : i64, ctx = 100 : i64, gpu_weights = 73296 : i64, kv_cache = 16000 : i64, min_vram = 45904 : i64
// ROOM: kt.experts {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 4 routed experts, layer 1: pinned to the CPU by rule
// ROOM: kt.lm_head {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 3 lm_head: 8704 B fit

// GPU pins (experts by name on cuda:0, the dense FFN by its tensors) join
// the minimum: 45904 + 2 x 26112 = 98128. At exactly that, nothing else fits.
// PINS: kt.placement = {cpu_weights = 23936 : i64, ctx = 100 : i64, gpu_weights = 75472 : i64, kv_cache = 16000 : i64, min_vram = 98128 : i64, vram = 98128 : i64, workspace = 6656 : i64}
// PINS: kt.ffn {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 2 dense FFN, layer 0: pinned to the GPU by rule {{.*}}rules-gpu-pins.yaml:3 (tensor blk\\.0\\.ffn_(gate|up|down)\\.weight)"
// PINS: kt.experts {{.*}}kt.device = #kt.device<cuda:0>, kt.reason = "rank 4 routed experts, layer 1: pinned to the GPU by rule {{.*}}rules-gpu-pins.yaml:1
// PINS: kt.ffn {{.*}}kt.device = #kt.device<cpu>, kt.reason = "rank 1 shared experts, layer 1: 6528 B do not fit in the 0 B left"
// PINMIN: error: kt-place-ops: vram=98127 (98127 B) is below the minimum of 98128 B (95.83 KiB) for a GPU plan: KV cache 16000 B for ctx=100, workspace 6656 B, attention/norm/router weights 23248 B, weights pinned to the GPU by rules 52224 B: {{.*}}rules-gpu-pins.yaml:1 (26112 B), {{.*}}rules-gpu-pins.yaml:3 (26112 B); use vram >= 98128{{$}}

// Pinned weights alone above the budget: the error names both and the rules.
// OVER: error: kt-place-ops: rules pin 52224 B (51.00 KiB) of weights to the GPU, more than the whole budget vram=40000 (40000 B): {{.*}}rules-gpu-pins.yaml:1 (26112 B), {{.*}}rules-gpu-pins.yaml:3 (26112 B)
// OVER0: error: kt-place-ops: rules pin 52224 B (51.00 KiB) of weights to the GPU, more than the whole budget vram=0 (0 B)

// BADYAML: error: kt-place-ops: {{.*}}rules-bad-yaml.yaml:3:1: malformed YAML: end of sequence flow not found
// BADREGEX: error: kt-place-ops: {{.*}}rules-bad-regex.yaml:3:10: bad regex "blk\.(1|2\.attn":
// BADDEVICE: error: kt-place-ops: {{.*}}rules-bad-device.yaml:2:11: unknown device 'tpu' (expected cpu, gpu or cuda:N)
// BADKEY: error: kt-place-ops: {{.*}}rules-bad-key.yaml:2:3: unknown key 'devcie' in a rule (expected match, tensor, device, kernel, layout)
// NOPATTERN: error: kt-place-ops: {{.*}}rules-no-pattern.yaml:1:3: a rule needs match (an op name regex) or tensor (a tensor name regex)
// BOTH: error: kt-place-ops: {{.*}}rules-both.yaml:2:3: a rule has both match and tensor; use one per rule
// LAYOUT: error: kt-place-ops: {{.*}}rules-bad-layout.yaml:3:11: layout 'amx' is unsupported (only ggml is accepted now)
// CUDA1: error: kt-place-ops: {{.*}}rules-cuda1.yaml:1: device cuda:1, but this plan places on one GPU, cuda:0 (several GPUs are not supported yet)
// NOTLIST: error: kt-place-ops: {{.*}}rules-not-list.yaml:1:1: the rules file must be a YAML list of rules
// NOFILE: error: kt-place-ops: {{.*}}no-such-rules.yaml: cannot read rules file
