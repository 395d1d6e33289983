// Costs of the tiny model, checked against hand arithmetic. q8_0 stores 32
// values in 34 bytes, so a row of 64 is 68 B and a row of 32 is 34 B.
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-annotate-costs | FileCheck %s
// RUN: kt-opt %S/Inputs/tiny-deepseek2.mlir --kt-annotate-costs="kv-elem-bytes=1" | FileCheck %s --check-prefix=KV1

// CHECK-LABEL: func.func @decode
// Embedding 128x64 q8_0 = 128*68 B; a token reads one 68 B row, no FLOPs.
//       CHECK: kt.embed {{.*}}kt.cost = #kt.cost<weight_bytes = 8704, touched_bytes = 68, flops = 0, kv_bytes = 0, intensity = 0.000000e+00>
// Norm: 64 f32 = 256 B, 2 FLOPs per element.
//       CHECK: kt.rms_norm {{.*}}kt.cost = #kt.cost<weight_bytes = 256, touched_bytes = 256, flops = 128, kv_bytes = 0, intensity = 5.000000e-01>
// MLA: q 48x64 (3264 B) + kv_a 40x64 (2720) + kv_a_norm 32 f32 (128) + kv_b 64x32
// (2176) + o 64x32 (2176) = 10464 B and 9760 values; KV (32 + 8) * 2 B.
//       CHECK: kt.mla {{.*}}kt.cost = #kt.cost<weight_bytes = 10464, touched_bytes = 10464, flops = 19520, kv_bytes = 80, intensity = 1.86544{{[0-9]*}}>
//       CHECK: kt.add {{.*}}kt.cost = #kt.cost<weight_bytes = 0, touched_bytes = 0, flops = 0, kv_bytes = 0, intensity = 0.000000e+00>
//       CHECK: kt.rms_norm
// Dense FFN: 3 x 128x64 = 3 x 8704 B, 24576 values.
//       CHECK: kt.ffn {{.*}}kind = #kt.ffn_kind<dense>{{.*}}kt.cost = #kt.cost<weight_bytes = 26112, touched_bytes = 26112, flops = 49152, kv_bytes = 0, intensity = 1.88235{{[0-9]*}}>
//       CHECK: kt.mla {{.*}}layer = 1
// Router: 4x64 f32 (1024 B) + bias 4 f32 (16 B), 260 values.
//       CHECK: kt.router {{.*}}kt.cost = #kt.cost<weight_bytes = 1040, touched_bytes = 1040, flops = 520, kv_bytes = 0, intensity = 5.000000e-01>
// Routed experts: 3 x 4 experts x 32x64 = 26112 B; top 2 of 4 read half.
//       CHECK: kt.experts {{.*}}kt.cost = #kt.cost<weight_bytes = 26112, touched_bytes = 13056, flops = 24576, kv_bytes = 0, intensity = 0.941176{{[0-9]*}}>
// Shared expert: 3 x 32x64 = 6528 B.
//       CHECK: kt.ffn {{.*}}kind = #kt.ffn_kind<shared>{{.*}}kt.cost = #kt.cost<weight_bytes = 6528, touched_bytes = 6528, flops = 12288, kv_bytes = 0, intensity = 1.88235{{[0-9]*}}>
//       CHECK: kt.lm_head {{.*}}kt.cost = #kt.cost<weight_bytes = 8704, touched_bytes = 8704, flops = 16384, kv_bytes = 0, intensity = 1.88235{{[0-9]*}}>
//       CHECK: kt.argmax {{.*}}kt.cost = #kt.cost<weight_bytes = 0,

// The same weights cost the same in @prefill.
// CHECK-LABEL: func.func @prefill
//       CHECK: kt.mla {{.*}}kt.cost = #kt.cost<weight_bytes = 10464, touched_bytes = 10464, flops = 19520, kv_bytes = 80,
//       CHECK: kt.experts {{.*}}kt.cost = #kt.cost<weight_bytes = 26112, touched_bytes = 13056,

// KV1-LABEL: func.func @decode
//       KV1: kt.mla {{.*}}kv_bytes = 40,
