// The per-tensor type rules follow llama.cpp's quantizer (src/llama-quant.cpp:
// tensor_allows_quantization, llama_tensor_get_type_impl for
// LLAMA_FTYPE_MOSTLY_Q4_K_M, tensor_type_fallback) as read in 2025, and
// convert_hf_to_gguf.py for the F32/F16 cases (1-D tensors, norms and
// ffn_gate_inp stay F32). They only need to cover the deepseek2 tensors this
// generator writes; expert counts of 8, which llama.cpp special-cases, are
// not used by any preset.
#include "compiler/gen/type_mix.h"

#include <cstdio>
#include <string>

namespace kt::gen {
namespace {

using quant::GgmlType;

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Tensors llama.cpp never quantizes: 1-D, not a ".weight", norms, router.
bool Quantizable(std::string_view name, const std::vector<uint64_t>& ne) {
  if (ne.size() < 2) return false;
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  if (Contains(name, "_norm.weight")) return false;
  if (Contains(name, "ffn_gate_inp.weight")) return false;
  return true;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and
// every third layer in between get more bits.
bool UseMoreBits(int i_layer, int n_layer) {
  return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

int LayerOf(std::string_view name) {
  int layer = -1;
  std::sscanf(std::string(name).c_str(), "blk.%d.", &layer);
  return layer;
}

// When ne[0] is not a multiple of the block size, llama.cpp swaps a K type
// for a 32-element type of about the same size (then F16 as a last resort).
GgmlType Fallback(GgmlType t, uint64_t ncols) {
  auto fits = [ncols](GgmlType x) { return ncols % quant::GgmlTypeInfoOf(x).block_elems == 0; };
  if (fits(t)) return t;
  GgmlType r = t;
  switch (t) {
    case GgmlType::kQ4_K: r = GgmlType::kQ5_0; break;
    case GgmlType::kQ5_K: r = GgmlType::kQ5_1; break;
    case GgmlType::kQ6_K: r = GgmlType::kQ8_0; break;
    default: break;
  }
  return fits(r) ? r : GgmlType::kF16;
}

GgmlType Q4KMType(std::string_view name, const std::vector<uint64_t>& ne, uint32_t n_layer, int i_attn_v,
                  int n_attn_v) {
  if (name == "output.weight") {
    // Q6_K unless the row does not fit K blocks; then Q8_0 (no further fallback).
    return ne[0] % 256 != 0 ? GgmlType::kQ8_0 : GgmlType::kQ6_K;
  }
  GgmlType t = GgmlType::kQ4_K;  // token_embd too: output.weight exists, so it is not tied
  // Only the exact names count as attn_v-like: attn_v_b.weight does not match "attn_v.weight".
  if (Contains(name, "attn_v.weight") || Contains(name, "attn_qkv.weight") || Contains(name, "attn_kv_b.weight")) {
    if (UseMoreBits(i_attn_v, n_attn_v)) t = GgmlType::kQ6_K;
  } else if (!Contains(name, "ffn_up") && !Contains(name, "ffn_gate") && Contains(name, "ffn_down")) {
    // Dense, routed (_exps) and shared (_shexp) down projections alike; the
    // layer comes from the name and the count is the model's block count.
    if (UseMoreBits(LayerOf(name), static_cast<int>(n_layer))) t = GgmlType::kQ6_K;
  }
  return Fallback(t, ne[0]);
}

}  // namespace

GgmlType ChooseType(WeightType type, std::string_view name, const std::vector<uint64_t>& ne, uint32_t n_layer,
                    int i_attn_v, int n_attn_v) {
  if (type == WeightType::kF32 || !Quantizable(name, ne)) return GgmlType::kF32;
  switch (type) {
    case WeightType::kF16: return GgmlType::kF16;
    case WeightType::kQ8_0: return Fallback(GgmlType::kQ8_0, ne[0]);
    case WeightType::kQ4_K_M: return Q4KMType(name, ne, n_layer, i_attn_v, n_attn_v);
    case WeightType::kF32: break;
  }
  return GgmlType::kF32;
}

}  // namespace kt::gen
