#include "runtime/kv/mla_kv_cache.h"

#include <algorithm>

namespace kt::kv {

StatusOr<MlaKvCache> MlaKvCache::Create(uint32_t n_layer, uint32_t capacity, uint32_t kv_lora_rank,
                                        uint32_t rope_dim, uint64_t max_bytes) {
  if (n_layer == 0 || capacity == 0 || kv_lora_rank == 0 || rope_dim == 0) {
    return KT_ERROR(kInvalidArgument, "MLA KV cache: layers (", n_layer, "), capacity (", capacity,
                    "), kv_lora_rank (", kv_lora_rank, ") and rope_dim (", rope_dim, ") must be non-zero");
  }
  // Each factor is < 2^32, so the products below cannot overflow 64 bits
  // before the check against max_bytes (itself far below 2^64).
  const uint64_t per_token = (uint64_t{kv_lora_rank} + rope_dim) * sizeof(float);
  const uint64_t per_layer = per_token * capacity;
  if (per_layer > max_bytes || per_layer * n_layer > max_bytes) {
    return KT_ERROR(kResourceExhausted, "MLA KV cache of ", n_layer, " layers x ", capacity, " tokens x ",
                    per_token, " bytes exceeds the limit of ", max_bytes, " bytes");
  }
  MlaKvCache cache;
  cache.n_layer_ = n_layer;
  cache.capacity_ = capacity;
  cache.kv_lora_rank_ = kv_lora_rank;
  cache.rope_dim_ = rope_dim;
  cache.data_.assign(per_layer * n_layer / sizeof(float), 0.0f);
  cache.filled_.assign(capacity, false);
  return cache;
}

Status MlaKvCache::Write(uint32_t layer, uint32_t pos, std::span<const float> latent, std::span<const float> k_pe) {
  if (layer >= n_layer_ || pos >= capacity_) {
    return KT_ERROR(kOutOfRange, "MLA KV cache: write at layer ", layer, ", position ", pos, " outside ", n_layer_,
                    " layers x ", capacity_, " positions");
  }
  if (latent.size() != kv_lora_rank_ || k_pe.size() != rope_dim_) {
    return KT_ERROR(kInvalidArgument, "MLA KV cache: entry of ", latent.size(), "+", k_pe.size(),
                    " floats, expected ", kv_lora_rank_, "+", rope_dim_);
  }
  float* dst = data_.data() + Offset(layer, pos);
  std::copy(latent.begin(), latent.end(), dst);
  std::copy(k_pe.begin(), k_pe.end(), dst + kv_lora_rank_);
  return Status::Ok();
}

Status MlaKvCache::Commit(uint32_t pos) {
  if (pos >= capacity_) {
    return KT_ERROR(kOutOfRange, "MLA KV cache: position ", pos, " is past the capacity ", capacity_);
  }
  filled_[pos] = true;
  length_ = std::max(length_, pos + 1);
  return Status::Ok();
}

std::span<const float> MlaKvCache::Latent(uint32_t layer, uint32_t pos) const {
  return {data_.data() + Offset(layer, pos), kv_lora_rank_};
}

std::span<const float> MlaKvCache::KPe(uint32_t layer, uint32_t pos) const {
  return {data_.data() + Offset(layer, pos) + kv_lora_rank_, rope_dim_};
}

void MlaKvCache::Truncate(uint32_t pos) {
  for (uint32_t p = pos; p < capacity_; ++p) filled_[p] = false;
  length_ = std::min(length_, pos);
  while (length_ > 0 && !filled_[length_ - 1]) --length_;
}

}  // namespace kt::kv
