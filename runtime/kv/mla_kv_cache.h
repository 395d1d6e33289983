// MLA latent KV cache for one sequence: per layer and position, the
// normalized compressed KV (kv_lora_rank floats) and the RoPE'd shared key
// part (qk_rope_dim floats). Keys and values of every head are recomputed
// from these, which is what makes MLA's cache small (576 floats per token and
// layer for DeepSeek-V2/V3 instead of 2·H·192).
//
// Slots are indexed by position; a position is "filled" once every layer has
// been written for it. Paging and several sequences come later.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/base/status.h"

namespace kt::kv {

class MlaKvCache {
 public:
  // Fails when the sizes are zero or the cache would exceed `max_bytes`.
  static StatusOr<MlaKvCache> Create(uint32_t n_layer, uint32_t capacity, uint32_t kv_lora_rank,
                                     uint32_t rope_dim, uint64_t max_bytes = uint64_t{1} << 34);

  uint32_t n_layer() const { return n_layer_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t kv_lora_rank() const { return kv_lora_rank_; }
  uint32_t rope_dim() const { return rope_dim_; }
  // One past the highest filled position (0 when empty).
  uint32_t length() const { return length_; }

  // Stores a token's entry for `layer` at `pos`. Positions may be written in
  // any order and rewritten (a re-evaluated token replaces the old entry).
  Status Write(uint32_t layer, uint32_t pos, std::span<const float> latent, std::span<const float> k_pe);
  // Marks `pos` as filled for every layer (call after all layers were written).
  Status Commit(uint32_t pos);
  bool filled(uint32_t pos) const { return pos < capacity_ && filled_[pos]; }

  std::span<const float> Latent(uint32_t layer, uint32_t pos) const;
  std::span<const float> KPe(uint32_t layer, uint32_t pos) const;
  // Forgets every position >= pos (rewinding a sequence).
  void Truncate(uint32_t pos);

 private:
  size_t Offset(uint32_t layer, uint32_t pos) const {
    return (static_cast<size_t>(layer) * capacity_ + pos) * (kv_lora_rank_ + rope_dim_);
  }
  uint32_t n_layer_ = 0, capacity_ = 0, kv_lora_rank_ = 0, rope_dim_ = 0, length_ = 0;
  std::vector<float> data_;  // [layer][pos][latent | k_pe]
  std::vector<bool> filled_;
};

}  // namespace kt::kv
