// GGUF -> deepseek2 model glue for tools and tests (not the runtime, which
// gets its config and weights from kt's artifact): reads DeepseekConfig from
// GGUF metadata and exposes the file's tensors as a WeightTable.
//
//   KT_ASSIGN_OR_RETURN(auto model, GgufDeepseekModel::Open("tiny.gguf"));
//   auto ref = reference::ReferenceModel::Create(model->config, model->table);
#pragma once

#include <memory>
#include <string>

#include "compiler/gguf/gguf.h"
#include "runtime/model/deepseek_config.h"
#include "runtime/model/weight_table.h"

namespace kt::gguf_model {

// Reads every deepseek2 hyperparameter; missing required keys are kNotFound
// naming the key, a different architecture is kInvalidArgument.
StatusOr<model::DeepseekConfig> DeepseekConfigFromGguf(const gguf::GgufFile& file);

// Adds every tensor of `file` to `table` (views into the file's mapping).
Status AddGgufTensors(const gguf::GgufFile& file, model::MapWeightTable& table);

struct GgufDeepseekModel {
  gguf::GgufFile file;
  model::MapWeightTable table;  // points into `file`
  model::DeepseekConfig config;

  static StatusOr<std::unique_ptr<GgufDeepseekModel>> Open(const std::string& path);
};

}  // namespace kt::gguf_model
