// The artifact half of `ktc compile`: placement records, plans, target,
// hyperparameters, tokenizer and every GGUF tensor streamed from the mapping
// into the CPU or GPU weight segment its op was placed in.
#pragma once

#include <functional>
#include <string>

#include "compiler/Pipeline/Analysis.h"
#include "compiler/artifact/artifact_writer.h"

namespace kt::pipeline {

struct CompileOptions {
  std::string cpu = "native";  // native | generic | avx2 | avx512 | amx
  std::string producer = "ktc";
  // GPU target of the artifact, and whether to compile its decode kernels
  // with NVRTC into it (cubin + PTX; only when some op is on the GPU and this
  // build has NVRTC, see GpuKernelsAvailable). `kernel_cache`: NVRTC's
  // on-disk cache directory, empty for none.
  std::string gpu_arch = "sm_90a";
  bool gpu_kernels = true;
  std::string kernel_cache;
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Whether this build can compile GPU kernels (it was built with NVRTC).
bool GpuKernelsAvailable();

// native = the best ISA of this machine; errors list the accepted names.
StatusOr<artifact::CpuIsa> ResolveCpuIsa(const std::string& name);

// Builds the contents; tensors read from `file`, which must outlive the write.
StatusOr<artifact::ArtifactContents> BuildContents(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options);

StatusOr<artifact::WriteResult> CompileToArtifact(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options, const std::string& out_path);

}  // namespace kt::pipeline
