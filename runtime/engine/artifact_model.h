// Turns a verified artifact into what the executors consume: the model
// config, a weight table over the mapped tensors (no copies), and the
// tokenizer spec; and checks that this machine can run the artifact's target.
#pragma once

#include <string>
#include <unordered_map>

#include "runtime/artifact/artifact.h"
#include "runtime/base/status.h"
#include "runtime/model/deepseek_config.h"
#include "runtime/model/weight_table.h"
#include "runtime/tokenizer/tokenizer_spec.h"

namespace kt::engine {

// Hyperparameters of the manifest -> DeepseekConfig; the score bias is on
// when the artifact holds exp_probs_b tensors.
StatusOr<model::DeepseekConfig> ConfigFromManifest(const artifact::Manifest& manifest);

tokenizer::TokenizerSpec TokenizerSpecFromManifest(const artifact::Manifest& manifest);

// A WeightTable whose views point into the artifact's mapping: GGUF blocks,
// or Q4_K repacked eight rows at a time (WeightView::layout_rows); any other
// layout is an error naming the tensor.
class ArtifactWeightTable : public model::WeightTable {
 public:
  static StatusOr<ArtifactWeightTable> Create(const artifact::Artifact& artifact);
  const model::WeightView* Find(std::string_view name) const override;

 private:
  std::unordered_map<std::string, model::WeightView> views_;
};

// Fails with a message that says what to do when the artifact needs a CPU
// ISA this machine lacks or places ops on a GPU and `gpu_available` is false.
Status CheckTarget(const artifact::Manifest& manifest, bool gpu_available);

}  // namespace kt::engine
