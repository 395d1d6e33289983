// The CUDA kernels one decode step of a deepseek2 model runs on the GPU,
// compiled by NVRTC for one target from the embedded kernels/cuda headers:
// ktc compile puts the cubin and the PTX into the artifact. Which template
// instances are compiled follows the ggml types of the tensors placed on the
// GPU (shapes stay kernel arguments).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "compiler/nvrtc/gpu_arch.h"
#include "compiler/nvrtc/nvrtc_driver.h"
#include "runtime/base/status.h"

namespace kt::nvrtc {

// Template instances (NVRTC name expressions) for the given ggml types and
// target (sm_90a adds the wgmma MLA kernel).
std::vector<std::string> DecodeKernelNames(const std::set<int>& gpu_types, const std::string& arch);

// Compiles DecodeKernelNames(gpu_types, arch) for `arch`; `cache_dir` as in
// CompileRequest (empty: no cache).
StatusOr<CompileResult> CompileDecodeKernels(const std::set<int>& gpu_types, const std::string& arch,
                                             const std::string& cache_dir);

}  // namespace kt::nvrtc
