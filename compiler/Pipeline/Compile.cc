#include "compiler/Pipeline/Compile.h"

#include <unordered_map>

#include "compiler/Pipeline/Plans.h"
#include "kernels/cpu/cpu_features.h"

namespace kt::pipeline {

StatusOr<artifact::CpuIsa> ResolveCpuIsa(const std::string& name) {
  using artifact::CpuIsa;
  cpu::Isa isa = cpu::Isa::kGeneric;
  if (name == "native") {
    isa = cpu::BestHostIsa();
  } else if (!cpu::ParseIsa(name, &isa)) {
    return KT_ERROR(kInvalidArgument, "--cpu '", name, "' is not one of native, generic, avx2, avx512, amx");
  }
  switch (isa) {
    case cpu::Isa::kGeneric: return CpuIsa::kGeneric;
    case cpu::Isa::kAvx2: return CpuIsa::kAvx2;
    case cpu::Isa::kAvx512: return CpuIsa::kAvx512;
    case cpu::Isa::kAmx: return CpuIsa::kAmx;
  }
  return KT_ERROR(kInternal, "unknown ISA");
}

StatusOr<artifact::ArtifactContents> BuildContents(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options) {
  artifact::ArtifactContents c;
  c.producer = options.producer;
  const std::string& path = file.name();
  const size_t slash = path.find_last_of('/');
  c.source = slash == std::string::npos ? path : path.substr(slash + 1);
  c.hparams = a.hparams;
  c.tokenizer = a.tokenizer;
  KT_ASSIGN_OR_RETURN(c.target.cpu_isa, ResolveCpuIsa(options.cpu));
  c.target.cpu_layout = artifact::TensorLayout::kGgml;
  if (a.any_gpu) {
    c.target.gpu_arch = "sm_90";
    c.target.gpu_count = 1;
  }
  c.target.vram_budget_bytes = a.vram_budget;
  if (a.ctx > UINT32_MAX) return KT_ERROR(kOutOfRange, "--ctx ", a.ctx, " does not fit 32 bits");
  c.target.max_context = static_cast<uint32_t>(a.ctx);

  std::unordered_map<std::string, bool> on_gpu;
  for (const WeightInfo& w : a.weights) on_gpu[w.name] = w.gpu;
  std::unordered_map<std::string, uint32_t> tensor_index;
  for (const gguf::GgufTensorInfo& t : file.tensors()) {
    auto placed = on_gpu.find(t.name);
    if (placed == on_gpu.end()) return KT_ERROR(kInternal, "tensor '", t.name, "' was not placed");
    artifact::TensorSpec spec;
    spec.name = t.name;
    spec.segment = placed->second ? artifact::SegmentKind::kGpuWeights : artifact::SegmentKind::kCpuWeights;
    spec.ggml_type = static_cast<uint32_t>(t.type);
    spec.layout = artifact::TensorLayout::kGgml;
    spec.shape = t.ne;
    spec.source = artifact::BytesFromMapping(file.TensorData(t), t.n_bytes);
    tensor_index.emplace(t.name, static_cast<uint32_t>(c.tensors.size()));
    c.tensors.push_back(std::move(spec));
  }
  c.placement = BuildPlacement(a);
  c.plans.push_back(BuildPlan(a.decode, c.placement, tensor_index));
  c.plans.push_back(BuildPlan(a.prefill, c.placement, tensor_index));
  return c;
}

StatusOr<artifact::WriteResult> CompileToArtifact(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options, const std::string& out_path) {
  KT_ASSIGN_OR_RETURN(artifact::ArtifactContents contents, BuildContents(file, a, options));
  artifact::WriteOptions write;
  write.progress = options.progress;
  return artifact::WriteArtifact(out_path, contents, write);
}

}  // namespace kt::pipeline
