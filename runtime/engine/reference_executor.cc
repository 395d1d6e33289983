// The reference executor behind the Executor interface, for `--executor
// reference` and for tests of the optimized paths.
#include <memory>

#include "runtime/engine/cpu_executor.h"
#include "runtime/engine/executor.h"
#include "runtime/kv/mla_kv_cache.h"
#include "runtime/model/deepseek_weights.h"
#include "runtime/reference/forward.h"

namespace kt::engine {
namespace {

class ReferenceExecutor : public Executor {
 public:
  ReferenceExecutor(reference::ReferenceModel model, kv::MlaKvCache cache, uint64_t decode_bytes)
      : model_(std::move(model)), cache_(std::move(cache)), decode_bytes_(decode_bytes) {}

  Status Forward(std::span<const int32_t> tokens, std::span<const uint32_t> positions, bool all_logits,
                 std::vector<float>* logits) override {
    std::vector<float> rows;
    KT_RETURN_IF_ERROR(model_.Forward(tokens, positions, cache_, reference::MlaForm::kAbsorbed, &rows));
    const size_t vocab = model_.config().vocab;
    const size_t first = all_logits ? 0 : tokens.size() - 1;
    logits->insert(logits->end(), rows.begin() + first * vocab, rows.end());
    return Status::Ok();
  }
  void Truncate(uint32_t pos) override { cache_.Truncate(pos); }
  const char* name() const override { return "reference"; }
  uint64_t DecodeBytesPerToken() const override { return decode_bytes_; }

 private:
  reference::ReferenceModel model_;
  kv::MlaKvCache cache_;
  uint64_t decode_bytes_;
};

}  // namespace

StatusOr<std::unique_ptr<Executor>> CreateExecutor(const model::DeepseekConfig& config,
                                                   const model::WeightTable& weights,
                                                   const ExecutorOptions& options) {
  if (options.kind == ExecutorKind::kCpu) return CreateCpuExecutor(config, weights, options);
  KT_ASSIGN_OR_RETURN(reference::ReferenceModel model, reference::ReferenceModel::Create(config, weights));
  KT_ASSIGN_OR_RETURN(model::DeepseekWeights bound, model::BindDeepseekWeights(config, weights));
  const uint32_t context = options.context ? options.context : config.context_length;
  KT_ASSIGN_OR_RETURN(kv::MlaKvCache cache,
                      kv::MlaKvCache::Create(config.n_layer, context, config.kv_lora_rank, config.qk_rope_dim));
  return std::unique_ptr<Executor>(new ReferenceExecutor(std::move(model), std::move(cache), model::DecodeWeightBytes(config, bound)));
}

}  // namespace kt::engine
