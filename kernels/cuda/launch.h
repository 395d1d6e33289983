// Host-side launch helper shared by the nvcc-built launchers (kernels.cu,
// gemm_prefill.cu). Not for NVRTC: it calls the CUDA runtime.
#pragma once

#include <cuda_runtime.h>

namespace kt_cuda {

inline int CcMajor() {
  static int major = -1;
  if (major < 0) {
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess)
      major = 0;
  }
  return major;
}
inline bool PdlAvailable() { return CcMajor() >= 9; }

// Launch as a programmatic dependent of the previous kernel in the stream
// (sm_90+): it may be scheduled while that kernel's last blocks still run.
// Every kernel launched this way calls griddepcontrol.wait (common.cuh's
// GridDependencyWait) before it reads what earlier kernels wrote or writes
// what they read, and before it can finish, so ordering stays transitive
// along the stream.
template <typename... Params, typename... Args>
cudaError_t LaunchOverlapped(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t s, size_t smem,
                             Args... args) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = s;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = PdlAvailable() ? 1 : 0;
  return cudaLaunchKernelEx(&cfg, kernel, static_cast<Params>(args)...);
}

}  // namespace kt_cuda
