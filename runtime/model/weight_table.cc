#include "runtime/model/weight_table.h"

namespace kt::model {

StatusOr<WeightView> WeightTable::Get(std::string_view name) const {
  const WeightView* view = Find(name);
  if (view == nullptr) return KT_ERROR(kNotFound, "weight tensor '", name, "' is missing");
  return *view;
}

const WeightView* MapWeightTable::Find(std::string_view name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

}  // namespace kt::model
