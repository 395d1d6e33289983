// Verifier messages of the kt dialect.
// RUN: kt-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{qtensor contiguous (last) dimension 100 is not a multiple of the q4_K block size 256}}
kt.weight @w : !kt.qtensor<q4_K, 4x100>

// -----

// expected-error @+1 {{unknown ggml type 'q9_9'}}
kt.weight @w : !kt.qtensor<q9_9, 32>

// -----

// expected-error @+1 {{qtensor dimensions must be positive, got 0}}
kt.weight @w : !kt.qtensor<f32, 0x4>

// -----

kt.weight @token_embd.weight : !kt.qtensor<q8_0, 128x32>
func.func @decode(%t: tensor<1xi32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{table weight @token_embd.weight has shape 128x32, expected ?x64 ([vocab, hidden])}}
  %h = kt.embed %t {table = @token_embd.weight} : tensor<1xi32> -> tensor<1x64xf32>
  return %h : tensor<1x64xf32>
}

// -----

func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{gate @missing does not name a kt.weight}}
  %f = kt.ffn %x {layer = 0 : i64, kind = #kt.ffn_kind<dense>, gate = @missing,
                  up = @missing, down = @missing} : tensor<1x64xf32>
  return %f : tensor<1x64xf32>
}

// -----

kt.weight @gate : !kt.qtensor<q8_0, 128x64>
kt.weight @up : !kt.qtensor<q8_0, 128x64>
kt.weight @down : !kt.qtensor<q8_0, 64x96>
func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{down weight @down has shape 64x96, expected 64x128 ([hidden, ff])}}
  %f = kt.ffn %x {layer = 0 : i64, kind = #kt.ffn_kind<dense>, gate = @gate,
                  up = @up, down = @down} : tensor<1x64xf32>
  return %f : tensor<1x64xf32>
}

// -----

func.func @decode(%x: tensor<1x64xf32>, %p: tensor<1xi32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{q_lora_rank = 0 needs q and no q_a, q_a_norm, q_b}}
  %a = kt.mla %x, %p {layer = 0 : i64, heads = 2 : i64, q_lora_rank = 0 : i64,
      kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64,
      v_head_dim = 16 : i64, eps = 1.0e-06 : f32, rope = #kt.rope<freq_base = 1.0e+04>,
      kv_a = @kv_a, kv_a_norm = @kv_a_norm, kv_b = @kv_b, o = @o}
      : tensor<1x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
  return %a : tensor<1x64xf32>
}

// -----

func.func @decode(%x: tensor<1x64xf32>, %p: tensor<1xi32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{needs either kv_b or both k_b and v_b}}
  %a = kt.mla %x, %p {layer = 0 : i64, heads = 2 : i64, q_lora_rank = 0 : i64,
      kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64,
      v_head_dim = 16 : i64, eps = 1.0e-06 : f32, rope = #kt.rope<freq_base = 1.0e+04>,
      q = @q, kv_a = @kv_a, kv_a_norm = @kv_a_norm, kv_b = @kv_b, k_b = @k_b, o = @o}
      : tensor<1x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
  return %a : tensor<1x64xf32>
}

// -----

kt.weight @q : !kt.qtensor<q8_0, 48x64>
kt.weight @kv_a : !kt.qtensor<q8_0, 32x64>
kt.weight @kv_a_norm : !kt.qtensor<f32, 32>
kt.weight @kv_b : !kt.qtensor<q8_0, 64x32>
kt.weight @o : !kt.qtensor<q8_0, 64x32>
func.func @decode(%x: tensor<1x64xf32>, %p: tensor<1xi32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{kv_a weight @kv_a has shape 32x64, expected 40x64 ([kv_lora_rank+qk_rope, hidden])}}
  %a = kt.mla %x, %p {layer = 0 : i64, heads = 2 : i64, q_lora_rank = 0 : i64,
      kv_lora_rank = 32 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64,
      v_head_dim = 16 : i64, eps = 1.0e-06 : f32, rope = #kt.rope<freq_base = 1.0e+04>,
      q = @q, kv_a = @kv_a, kv_a_norm = @kv_a_norm, kv_b = @kv_b, o = @o}
      : tensor<1x64xf32>, tensor<1xi32> -> tensor<1x64xf32>
  return %a : tensor<1x64xf32>
}

// -----

func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{top_k 8 exceeds the 6 experts in 3 of 4 groups}}
  %w, %ids = kt.router %x {layer = 1 : i64, num_experts = 8 : i64, top_k = 8 : i64,
      gating = #kt.gating<sigmoid>, groups = 4 : i64, groups_used = 3 : i64, weight = @g}
      : tensor<1x64xf32> -> tensor<1x8xf32>, tensor<1x8xi32>
  return %w : tensor<1x8xf32>
}

// -----

func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{groups 3 does not divide num_experts 8}}
  %w, %ids = kt.router %x {layer = 1 : i64, num_experts = 8 : i64, top_k = 2 : i64,
      gating = #kt.gating<softmax>, groups = 3 : i64, weight = @g}
      : tensor<1x64xf32> -> tensor<1x2xf32>, tensor<1x2xi32>
  return %w : tensor<1x2xf32>
}

// -----

func.func @decode(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %w, %ids = kt.router %x {layer = 1 : i64, num_experts = 8 : i64, top_k = 2 : i64,
      gating = #kt.gating<softmax>, weight = @g}
      : tensor<1x64xf32> -> tensor<1x2xf32>, tensor<1x2xi32>
  // expected-error @+1 {{num_experts 4 differs from its router's 8}}
  %e = kt.experts %x, %w, %ids {layer = 1 : i64, num_experts = 4 : i64, top_k = 2 : i64,
      gate = @a, up = @b, down = @c}
      : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32> -> tensor<1x64xf32>
  return %e : tensor<1x64xf32>
}

// -----

kt.weight @gate : !kt.qtensor<q8_0, 4x32x64>
kt.weight @up : !kt.qtensor<q8_0, 4x32x64>
kt.weight @down : !kt.qtensor<q8_0, 4x32x64>
func.func @decode(%x: tensor<1x64xf32>, %w: tensor<1x2xf32>, %ids: tensor<1x2xi32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{down weight @down has shape 4x32x64, expected 4x64x32 ([num_experts, hidden, ff])}}
  %e = kt.experts %x, %w, %ids {layer = 1 : i64, num_experts = 4 : i64, top_k = 2 : i64,
      gate = @gate, up = @up, down = @down}
      : tensor<1x64xf32>, tensor<1x2xf32>, tensor<1x2xi32> -> tensor<1x64xf32>
  return %e : tensor<1x64xf32>
}

// -----

// expected-error @+1 {{unknown device 'tpu' (expected cpu or cuda:N)}}
func.func @decode() attributes {kt.device = #kt.device<tpu>} {
  return
}

// -----

// expected-error @+1 {{unknown kt attribute 'kt.devcie'}}
func.func @decode() attributes {kt.devcie = #kt.device<cpu>} {
  return
}

// -----

// expected-error @+1 {{yarn scaling needs original_context > 0}}
func.func @decode() attributes {r = #kt.rope<freq_base = 1.0e+04, scaling = yarn>} {
  return
}

// -----

func.func @decode(%x: tensor<1x?xf32>) -> tensor<1x?xf32> {
  // expected-error @+1 {{'kt.add' op operand #0 must be 2D f32 tensor (tokens x features) with a static feature count}}
  %r = kt.add %x, %x : tensor<1x?xf32>
  return %r : tensor<1x?xf32>
}
