// The optimized CPU executor: the same deepseek2 forward pass as the
// reference, with every matrix product on the quantised-weight kernels of the
// best ISA this CPU has, spread over the pinned worker pool; routed experts
// grouped per expert so a prompt reads each expert's weights once.
#pragma once

#include <memory>

#include "runtime/engine/executor.h"

namespace kt::engine {

StatusOr<std::unique_ptr<Executor>> CreateCpuExecutor(const model::DeepseekConfig& config,
                                                      const model::WeightTable& weights,
                                                      const ExecutorOptions& options);

}  // namespace kt::engine
