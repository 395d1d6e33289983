// Which ggml type each tensor gets under a --type choice.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "compiler/gen/gen.h"
#include "kernels/quant/ggml_type.h"

namespace kt::gen {

// The stored type of tensor `name` with shape `ne` in a model of `n_layer`
// blocks. `n_attn_v` is the number of attn_v-like tensors (attn_kv_b) in the
// file and `i_attn_v` this tensor's index among them in llama.cpp's visiting
// order; both only matter for attn_kv_b.
quant::GgmlType ChooseType(WeightType type, std::string_view name, const std::vector<uint64_t>& ne,
                           uint32_t n_layer, int i_attn_v, int n_attn_v);

}  // namespace kt::gen
