// What runs a model's forward pass. The engine drives one of these; the
// reference executor (plain float32) and the optimized CPU executor share
// the interface, and the CUDA-graph executor will too.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/model/deepseek_config.h"
#include "runtime/model/weight_table.h"

namespace kt::engine {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `tokens` at `positions` (consecutive, continuing the cache) and
  // appends one row of logits per token when `all_logits`, else only the last.
  virtual Status Forward(std::span<const int32_t> tokens, std::span<const uint32_t> positions,
                         bool all_logits, std::vector<float>* logits) = 0;
  // Forgets cached positions >= pos.
  virtual void Truncate(uint32_t pos) = 0;
  virtual const char* name() const = 0;
  // Bytes of weights one decode step reads (for bandwidth figures).
  virtual uint64_t DecodeBytesPerToken() const = 0;
};

enum class ExecutorKind { kReference, kCpu };

struct ExecutorOptions {
  ExecutorKind kind = ExecutorKind::kCpu;
  uint32_t context = 0;  // KV cache capacity in tokens
  int threads = 0;       // CPU executor: 0 = one per allowed CPU
};

StatusOr<std::unique_ptr<Executor>> CreateExecutor(const model::DeepseekConfig& config,
                                                   const model::WeightTable& weights,
                                                   const ExecutorOptions& options);

}  // namespace kt::engine
