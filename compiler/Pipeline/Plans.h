// Placement records and execution plans from a placed model (no MLIR).
//
// A plan is the ordered step list the runtime replays per token (decode) or
// per chunk (prefill): GPU kernels, CPU ops and activation copies between
// them. A MoE layer whose routed experts run on the CPU while the rest is on
// the GPU becomes host_submit_experts -> the shared-expert GPU steps ->
// host_join_experts, the shape that lets the GPU part live in one CUDA graph
// while the CPU computes the experts. A CPU-only placement has CPU steps only.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/Pipeline/Analysis.h"
#include "runtime/artifact/artifact_types.h"

namespace kt::pipeline {

// One record per @decode op, in @decode order.
std::vector<artifact::PlacementRecord> BuildPlacement(const Analysis& a);

// `tensor_index` maps GGUF tensor names to artifact tensor indices.
// `placement` is BuildPlacement's result (steps reference it by name).
artifact::Plan BuildPlan(const FunctionInfo& f, const std::vector<artifact::PlacementRecord>& placement,
                         const std::unordered_map<std::string, uint32_t>& tensor_index);

}  // namespace kt::pipeline
