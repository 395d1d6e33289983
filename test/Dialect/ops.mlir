// Round trip of every kt op, type and attribute, in custom and generic form.
// RUN: kt-opt %s | kt-opt | FileCheck %s
// RUN: kt-opt %s --mlir-print-op-generic | kt-opt | FileCheck %s

// CHECK: kt.weight @blk.3.ffn_up_exps.weight : !kt.qtensor<q4_K, 64x1408x2048>
kt.weight @blk.3.ffn_up_exps.weight : !kt.qtensor<Q4_K, 64x1408x2048>
// CHECK: kt.weight @blk.3.ffn_down_exps.weight : !kt.qtensor<q6_K, 64x2048x1536>
kt.weight @blk.3.ffn_down_exps.weight : !kt.qtensor<q6_K, 64x2048x1536>
// CHECK: kt.weight @bf : !kt.qtensor<bf16, 3x5>
kt.weight @bf : !kt.qtensor<bf16, 3x5>

// Low-rank query (q_lora_rank > 0) and the split k_b/v_b form of newer GGUFs.
kt.weight @q_a : !kt.qtensor<q8_0, 64x64>
kt.weight @q_a_norm : !kt.qtensor<f32, 64>
kt.weight @q_b : !kt.qtensor<q8_0, 48x64>
kt.weight @kv_a : !kt.qtensor<q8_0, 40x64>
kt.weight @kv_a_norm : !kt.qtensor<f32, 32>
kt.weight @k_b : !kt.qtensor<f16, 2x32x16>
kt.weight @v_b : !kt.qtensor<f16, 2x16x32>
kt.weight @o : !kt.qtensor<q8_0, 64x32>
kt.weight @gate_inp : !kt.qtensor<f32, 8x64>
kt.weight @bias : !kt.qtensor<f32, 8>
kt.weight @gate_exps : !kt.qtensor<q8_0, 8x32x64>
kt.weight @up_exps : !kt.qtensor<q8_0, 8x32x64>
kt.weight @down_exps : !kt.qtensor<q8_0, 8x64x32>

// CHECK-LABEL: func.func @prefill
func.func @prefill(%x: tensor<?x64xf32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  // CHECK: %[[A:.*]] = kt.mla %{{.*}}, %{{.*}} {{.*}}k_b = @k_b{{.*}}q_a = @q_a, q_a_norm = @q_a_norm, q_b = @q_b, q_lora_rank = 64 : i64{{.*}}rope = #kt.rope<freq_base = 1.000000e+04, scaling = yarn, factor = 4.000000e+01, original_context = 4096, yarn_log_multiplier = 1.000000e-01>{{.*}}v_b = @v_b{{.*}} : tensor<?x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
  %a = kt.mla %x, %pos {layer = 3 : i64, heads = 2 : i64, q_lora_rank = 64 : i64,
      kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64,
      v_head_dim = 16 : i64, eps = 1.0e-06 : f32,
      rope = #kt.rope<freq_base = 1.0e+04, scaling = yarn, factor = 40.0,
                      original_context = 4096, yarn_log_multiplier = 0.1>,
      q_a = @q_a, q_a_norm = @q_a_norm, q_b = @q_b, kv_a = @kv_a,
      kv_a_norm = @kv_a_norm, k_b = @k_b, v_b = @v_b, o = @o}
      : tensor<?x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: %[[W:.*]], %[[IDS:.*]] = kt.router %[[A]] {bias = @bias, gating = #kt.gating<sigmoid>, groups = 4 : i64, groups_used = 2 : i64, layer = 3 : i64, norm = true, num_experts = 8 : i64, scale = 2.500000e+00 : f32, top_k = 3 : i64, weight = @gate_inp} : tensor<?x64xf32> -> tensor<?x3xf32>, tensor<?x3xi32>
  %w, %ids = kt.router %a {layer = 3 : i64, num_experts = 8 : i64, top_k = 3 : i64,
      gating = #kt.gating<sigmoid>, groups = 4 : i64, groups_used = 2 : i64,
      norm = true, scale = 2.5 : f32, weight = @gate_inp, bias = @bias}
      : tensor<?x64xf32> -> tensor<?x3xf32>, tensor<?x3xi32>
  // CHECK: kt.experts %[[A]], %[[W]], %[[IDS]] {{.*}}kt.cost = #kt.cost<weight_bytes = 1, touched_bytes = 2, flops = 3, kv_bytes = 4, intensity = 5.000000e-01>, kt.device = #kt.device<cuda:1>, kt.reason = "hand-placed"
  %e = kt.experts %a, %w, %ids {layer = 3 : i64, num_experts = 8 : i64, top_k = 3 : i64,
      gate = @gate_exps, up = @up_exps, down = @down_exps,
      kt.device = #kt.device<cuda:1>, kt.reason = "hand-placed",
      kt.cost = #kt.cost<weight_bytes = 1, touched_bytes = 2, flops = 3, kv_bytes = 4, intensity = 0.5>}
      : tensor<?x64xf32>, tensor<?x3xf32>, tensor<?x3xi32> -> tensor<?x64xf32>
  // CHECK: kt.add %[[A]], %{{.*}} {kt.device = #kt.device<cpu>} : tensor<?x64xf32>
  %r = kt.add %a, %e {kt.device = #kt.device<cpu>} : tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}
