// Measures the DRAM read bandwidth the worker pool can draw, the ceiling for
// decode on the CPU: every token streams the active experts' bytes once.
#pragma once

#include <cstdint>

#include "runtime/base/status.h"
#include "runtime/cpu/thread_pool.h"

namespace kt::cpu {

struct BandwidthResult {
  double median_gbps = 0;  // 1e9 bytes per second
  double best_gbps = 0;
  uint64_t bytes = 0;      // buffer size read per repetition
  int repeats = 0;
};

// Reads a `bytes`-sized buffer (far larger than the caches) `repeats` times
// with every worker of `pool` and reports GB/s.
StatusOr<BandwidthResult> MeasureReadBandwidth(ThreadPool& pool, uint64_t bytes, int repeats);

}  // namespace kt::cpu
