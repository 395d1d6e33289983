// Where the reference executor (and later the runtime) finds weights: a table
// from GGUF tensor names ("blk.3.attn_kv_a_mqa.weight") to typed, shaped,
// read-only bytes. It owns nothing; the memory belongs to whoever filled it
// (a mapped GGUF in tests, kt's artifact in the runtime).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernels/quant/ggml_type.h"
#include "runtime/base/status.h"

namespace kt::model {

struct WeightView {
  quant::GgmlType type = quant::GgmlType::kF32;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};  // ne[0] is contiguous; unused dims are 1
  const void* data = nullptr;
  uint64_t n_bytes = 0;  // bytes readable at `data`
  // 0: ggml rows. 8: Q4_K rows interleaved in groups of 8
  // (kernels/cpu/q4k_x8.h); ne[1] is then a multiple of 8.
  uint32_t layout_rows = 0;

  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
};

class WeightTable {
 public:
  virtual ~WeightTable() = default;
  // nullptr when the table has no tensor of that name.
  virtual const WeightView* Find(std::string_view name) const = 0;

  // kNotFound naming the tensor when absent.
  StatusOr<WeightView> Get(std::string_view name) const;
};

// A WeightTable backed by a hash map; filled by tests and loaders.
class MapWeightTable final : public WeightTable {
 public:
  void Add(std::string name, const WeightView& view) { map_[std::move(name)] = view; }
  const WeightView* Find(std::string_view name) const override;
  size_t size() const { return map_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, WeightView, Hash, std::equal_to<>> map_;
};

}  // namespace kt::model
