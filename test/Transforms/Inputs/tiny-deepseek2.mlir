// A two-layer deepseek2-shaped model, small enough to check by hand:
// hidden 64, vocab 128, 2 heads, MLA without q_lora (kv_lora 32, nope 16,
// rope 8, v 16); layer 0 dense (ff 128), layer 1 MoE with 4 experts, top 2,
// sigmoid gating with a bias, one shared expert (ff 32). Linear weights are
// q8_0 (34 bytes per 32 values), norms f32. Used by the tests beside it.
module {
  kt.weight @token_embd.weight : !kt.qtensor<q8_0, 128x64>
  kt.weight @blk.0.attn_norm.weight : !kt.qtensor<f32, 64>
  kt.weight @blk.0.attn_q.weight : !kt.qtensor<q8_0, 48x64>
  kt.weight @blk.0.attn_kv_a_mqa.weight : !kt.qtensor<q8_0, 40x64>
  kt.weight @blk.0.attn_kv_a_norm.weight : !kt.qtensor<f32, 32>
  kt.weight @blk.0.attn_kv_b.weight : !kt.qtensor<q8_0, 64x32>
  kt.weight @blk.0.attn_output.weight : !kt.qtensor<q8_0, 64x32>
  kt.weight @blk.0.ffn_norm.weight : !kt.qtensor<f32, 64>
  kt.weight @blk.1.attn_norm.weight : !kt.qtensor<f32, 64>
  kt.weight @blk.1.attn_q.weight : !kt.qtensor<q8_0, 48x64>
  kt.weight @blk.1.attn_kv_a_mqa.weight : !kt.qtensor<q8_0, 40x64>
  kt.weight @blk.1.attn_kv_a_norm.weight : !kt.qtensor<f32, 32>
  kt.weight @blk.1.attn_kv_b.weight : !kt.qtensor<q8_0, 64x32>
  kt.weight @blk.1.attn_output.weight : !kt.qtensor<q8_0, 64x32>
  kt.weight @blk.1.ffn_norm.weight : !kt.qtensor<f32, 64>
  kt.weight @blk.0.ffn_gate.weight : !kt.qtensor<q8_0, 128x64>
  kt.weight @blk.0.ffn_up.weight : !kt.qtensor<q8_0, 128x64>
  kt.weight @blk.0.ffn_down.weight : !kt.qtensor<q8_0, 64x128>
  kt.weight @blk.1.ffn_gate_inp.weight : !kt.qtensor<f32, 4x64>
  kt.weight @blk.1.exp_probs_b.bias : !kt.qtensor<f32, 4>
  kt.weight @blk.1.ffn_gate_exps.weight : !kt.qtensor<q8_0, 4x32x64>
  kt.weight @blk.1.ffn_up_exps.weight : !kt.qtensor<q8_0, 4x32x64>
  kt.weight @blk.1.ffn_down_exps.weight : !kt.qtensor<q8_0, 4x64x32>
  kt.weight @blk.1.ffn_gate_shexp.weight : !kt.qtensor<q8_0, 32x64>
  kt.weight @blk.1.ffn_up_shexp.weight : !kt.qtensor<q8_0, 32x64>
  kt.weight @blk.1.ffn_down_shexp.weight : !kt.qtensor<q8_0, 64x32>
  kt.weight @output_norm.weight : !kt.qtensor<f32, 64>
  kt.weight @output.weight : !kt.qtensor<q8_0, 128x64>

  func.func @decode(%tokens: tensor<1xi32>, %pos: tensor<1xi32>) -> tensor<1xi32> {
    %h0 = kt.embed %tokens {table = @token_embd.weight} : tensor<1xi32> -> tensor<1x64xf32>
    %an0 = kt.rms_norm %h0 {weight = @blk.0.attn_norm.weight, eps = 1.0e-06 : f32, layer = 0 : i64} : tensor<1x64xf32>
    %att0 = kt.mla %an0, %pos {layer = 0 : i64, heads = 2 : i64, q_lora_rank = 0 : i64, kv_lora_rank = 32 : i64,
        qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, eps = 1.0e-06 : f32,
        rope = #kt.rope<freq_base = 1.0e+04>, q = @blk.0.attn_q.weight, kv_a = @blk.0.attn_kv_a_mqa.weight,
        kv_a_norm = @blk.0.attn_kv_a_norm.weight, kv_b = @blk.0.attn_kv_b.weight, o = @blk.0.attn_output.weight}
        : tensor<1x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
    %r0 = kt.add %h0, %att0 : tensor<1x64xf32>
    %fn0 = kt.rms_norm %r0 {weight = @blk.0.ffn_norm.weight, eps = 1.0e-06 : f32, layer = 0 : i64} : tensor<1x64xf32>
    %ffn0 = kt.ffn %fn0 {layer = 0 : i64, kind = #kt.ffn_kind<dense>, gate = @blk.0.ffn_gate.weight,
        up = @blk.0.ffn_up.weight, down = @blk.0.ffn_down.weight} : tensor<1x64xf32>
    %o0 = kt.add %r0, %ffn0 : tensor<1x64xf32>
    %an1 = kt.rms_norm %o0 {weight = @blk.1.attn_norm.weight, eps = 1.0e-06 : f32, layer = 1 : i64} : tensor<1x64xf32>
    %att1 = kt.mla %an1, %pos {layer = 1 : i64, heads = 2 : i64, q_lora_rank = 0 : i64, kv_lora_rank = 32 : i64,
        qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, eps = 1.0e-06 : f32,
        rope = #kt.rope<freq_base = 1.0e+04>, q = @blk.1.attn_q.weight, kv_a = @blk.1.attn_kv_a_mqa.weight,
        kv_a_norm = @blk.1.attn_kv_a_norm.weight, kv_b = @blk.1.attn_kv_b.weight, o = @blk.1.attn_output.weight}
        : tensor<1x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
    %r1 = kt.add %o0, %att1 : tensor<1x64xf32>
    %fn1 = kt.rms_norm %r1 {weight = @blk.1.ffn_norm.weight, eps = 1.0e-06 : f32, layer = 1 : i64} : tensor<1x64xf32>
    %gw, %ids = kt.router %fn1 {layer = 1 : i64, num_experts = 4 : i64, top_k = 2 : i64,
        gating = #kt.gating<sigmoid>, norm = true, scale = 2.5 : f32,
        weight = @blk.1.ffn_gate_inp.weight, bias = @blk.1.exp_probs_b.bias}
        : tensor<1x64xf32> -> tensor<1x2xf32>, tensor<1x2xi32>
    %exp = kt.experts %fn1, %gw, %ids {layer = 1 : i64, num_experts = 4 : i64, top_k = 2 : i64,
        gate = @blk.1.ffn_gate_exps.weight, up = @blk.1.ffn_up_exps.weight, down = @blk.1.ffn_down_exps.weight}
        : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32> -> tensor<1x64xf32>
    %sh = kt.ffn %fn1 {layer = 1 : i64, kind = #kt.ffn_kind<shared>, gate = @blk.1.ffn_gate_shexp.weight,
        up = @blk.1.ffn_up_shexp.weight, down = @blk.1.ffn_down_shexp.weight} : tensor<1x64xf32>
    %o1 = kt.add %r1, %exp : tensor<1x64xf32>
    %o2 = kt.add %o1, %sh : tensor<1x64xf32>
    %out = kt.rms_norm %o2 {weight = @output_norm.weight, eps = 1.0e-06 : f32} : tensor<1x64xf32>
    %logits = kt.lm_head %out {weight = @output.weight} : tensor<1x64xf32> -> tensor<1x128xf32>
    %next = kt.argmax %logits : tensor<1x128xf32> -> tensor<1xi32>
    return %next : tensor<1xi32>
  }

  func.func @prefill(%tokens: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?xi32> {
    %h0 = kt.embed %tokens {table = @token_embd.weight} : tensor<?xi32> -> tensor<?x64xf32>
    %an0 = kt.rms_norm %h0 {weight = @blk.0.attn_norm.weight, eps = 1.0e-06 : f32, layer = 0 : i64} : tensor<?x64xf32>
    %att0 = kt.mla %an0, %pos {layer = 0 : i64, heads = 2 : i64, q_lora_rank = 0 : i64, kv_lora_rank = 32 : i64,
        qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, eps = 1.0e-06 : f32,
        rope = #kt.rope<freq_base = 1.0e+04>, q = @blk.0.attn_q.weight, kv_a = @blk.0.attn_kv_a_mqa.weight,
        kv_a_norm = @blk.0.attn_kv_a_norm.weight, kv_b = @blk.0.attn_kv_b.weight, o = @blk.0.attn_output.weight}
        : tensor<?x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
    %r0 = kt.add %h0, %att0 : tensor<?x64xf32>
    %fn0 = kt.rms_norm %r0 {weight = @blk.0.ffn_norm.weight, eps = 1.0e-06 : f32, layer = 0 : i64} : tensor<?x64xf32>
    %ffn0 = kt.ffn %fn0 {layer = 0 : i64, kind = #kt.ffn_kind<dense>, gate = @blk.0.ffn_gate.weight,
        up = @blk.0.ffn_up.weight, down = @blk.0.ffn_down.weight} : tensor<?x64xf32>
    %o0 = kt.add %r0, %ffn0 : tensor<?x64xf32>
    %an1 = kt.rms_norm %o0 {weight = @blk.1.attn_norm.weight, eps = 1.0e-06 : f32, layer = 1 : i64} : tensor<?x64xf32>
    %att1 = kt.mla %an1, %pos {layer = 1 : i64, heads = 2 : i64, q_lora_rank = 0 : i64, kv_lora_rank = 32 : i64,
        qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, eps = 1.0e-06 : f32,
        rope = #kt.rope<freq_base = 1.0e+04>, q = @blk.1.attn_q.weight, kv_a = @blk.1.attn_kv_a_mqa.weight,
        kv_a_norm = @blk.1.attn_kv_a_norm.weight, kv_b = @blk.1.attn_kv_b.weight, o = @blk.1.attn_output.weight}
        : tensor<?x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
    %r1 = kt.add %o0, %att1 : tensor<?x64xf32>
    %fn1 = kt.rms_norm %r1 {weight = @blk.1.ffn_norm.weight, eps = 1.0e-06 : f32, layer = 1 : i64} : tensor<?x64xf32>
    %gw, %ids = kt.router %fn1 {layer = 1 : i64, num_experts = 4 : i64, top_k = 2 : i64,
        gating = #kt.gating<sigmoid>, norm = true, scale = 2.5 : f32,
        weight = @blk.1.ffn_gate_inp.weight, bias = @blk.1.exp_probs_b.bias}
        : tensor<?x64xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
    %exp = kt.experts %fn1, %gw, %ids {layer = 1 : i64, num_experts = 4 : i64, top_k = 2 : i64,
        gate = @blk.1.ffn_gate_exps.weight, up = @blk.1.ffn_up_exps.weight, down = @blk.1.ffn_down_exps.weight}
        : tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi32> -> tensor<?x64xf32>
    %sh = kt.ffn %fn1 {layer = 1 : i64, kind = #kt.ffn_kind<shared>, gate = @blk.1.ffn_gate_shexp.weight,
        up = @blk.1.ffn_up_shexp.weight, down = @blk.1.ffn_down_shexp.weight} : tensor<?x64xf32>
    %o1 = kt.add %r1, %exp : tensor<?x64xf32>
    %o2 = kt.add %o1, %sh : tensor<?x64xf32>
    %out = kt.rms_norm %o2 {weight = @output_norm.weight, eps = 1.0e-06 : f32} : tensor<?x64xf32>
    %logits = kt.lm_head %out {weight = @output.weight} : tensor<?x64xf32> -> tensor<?x128xf32>
    %next = kt.argmax %logits : tensor<?x128xf32> -> tensor<?xi32>
    return %next : tensor<?xi32>
  }
}
