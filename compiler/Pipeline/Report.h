// Text and JSON renderings of an Analysis for `ktc plan` and `ktc compile`.
#pragma once

#include <string>

#include "compiler/Pipeline/Analysis.h"

namespace kt::pipeline {

struct Bandwidths {
  double dram_gbps = 100;
  double hbm_gbps = 3000;
};

// "1.50 GiB (1610612736 B)"-free short form: "1.5 GiB".
std::string HumanBytes(uint64_t bytes);

// Per-op table of @decode (layer, op, device, bytes, intensity, reason).
std::string PlanTable(const Analysis& a);
// VRAM and DRAM totals, KV cache, weight bytes vs the GGUF, predicted speed.
std::string PlanTotals(const Analysis& a, const Bandwidths& bw);
// Everything above as one JSON object.
std::string PlanJson(const Analysis& a, const Bandwidths& bw);

}  // namespace kt::pipeline
