#include "compiler/Pipeline/Plans.h"

#include <set>
#include <utility>

namespace kt::pipeline {
namespace {

using artifact::Device;
using artifact::DeviceKind;
using artifact::Step;
using artifact::StepKind;

constexpr Device kCpu{DeviceKind::kCpu, 0};
constexpr Device kGpu{DeviceKind::kGpu, 0};

}  // namespace

std::vector<artifact::PlacementRecord> BuildPlacement(const Analysis& a) {
  std::vector<artifact::PlacementRecord> records;
  for (const OpInfo& o : a.decode.ops) {
    artifact::PlacementRecord r;
    r.name = o.record;
    r.layer = o.layer;
    r.kind = o.kind;
    r.device = o.gpu ? kGpu : kCpu;
    r.reason = o.reason;
    r.weight_bytes = o.weight_bytes;
    r.flops_per_token = o.flops;
    r.intensity = o.intensity;
    records.push_back(std::move(r));
  }
  return records;
}

artifact::Plan BuildPlan(const FunctionInfo& f, const std::vector<artifact::PlacementRecord>& placement,
                         const std::unordered_map<std::string, uint32_t>& tensor_index) {
  std::unordered_map<std::string, int32_t> record_index;
  for (size_t i = 0; i < placement.size(); ++i) record_index.emplace(placement[i].name, static_cast<int32_t>(i));
  bool any_gpu = false;
  for (const OpInfo& o : f.ops) any_gpu |= o.gpu;

  artifact::Plan plan;
  plan.name = f.name;
  // (producer, destination GPU?) pairs already copied; -1 = the token ids and
  // positions, which start on the host.
  std::set<std::pair<int, bool>> copied;
  // Experts submitted to the host pool and not joined yet: op index -> record.
  std::vector<std::pair<int, int32_t>> pending;
  auto join = [&](int producer) {
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->first != producer) continue;
      plan.steps.push_back(Step{StepKind::kHostJoinExperts, it->second, kCpu, "", -1, {}});
      pending.erase(it);
      return;
    }
  };
  for (size_t i = 0; i < f.ops.size(); ++i) {
    const OpInfo& o = f.ops[i];
    auto rec = record_index.find(o.record);
    const int32_t op = rec == record_index.end() ? -1 : rec->second;
    for (int in : o.inputs) {
      join(in);
      const bool in_gpu = in >= 0 && f.ops[in].gpu;
      if (in_gpu == o.gpu || !copied.insert({in, o.gpu}).second) continue;
      plan.steps.push_back(Step{StepKind::kCopy, op, o.gpu ? kGpu : kCpu, "", -1, {}});
    }
    Step s;
    s.op = op;
    for (const std::string& w : o.weights) {
      auto t = tensor_index.find(w);
      if (t != tensor_index.end()) s.tensors.push_back(t->second);
    }
    if (o.gpu) {
      s.kind = StepKind::kGpuKernel;
      s.device = kGpu;
      s.kernel_name = "kt_" + o.mnemonic + "_" + f.name;
    } else if (o.kind == artifact::OpKind::kExperts && any_gpu) {
      s.kind = StepKind::kHostSubmitExperts;
      s.device = kCpu;
      pending.push_back({static_cast<int>(i), op});
    } else {
      s.kind = StepKind::kCpuOp;
      s.device = kCpu;
    }
    plan.steps.push_back(std::move(s));
  }
  while (!pending.empty()) join(pending.front().first);
  // Sampling reads the logits on the host.
  if (!f.ops.empty() && f.ops.back().gpu)
    plan.steps.push_back(Step{StepKind::kCopy, record_index.count(f.ops.back().record)
                                                   ? record_index.at(f.ops.back().record)
                                                   : -1,
                              kCpu, "", -1, {}});
  return plan;
}

}  // namespace kt::pipeline
