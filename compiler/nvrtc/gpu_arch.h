// GPU targets ktc accepts, checked without NVRTC (a build without the CUDA
// toolkit still records the target in the artifact).
#pragma once

#include <cctype>
#include <string>

#include "runtime/base/status.h"

namespace kt::nvrtc {

// A real target "sm_XY" or "sm_XYa" with XY >= 80: the kernels use cp.async
// and bf16 MMAs, and on sm_90 bulk copies and programmatic launches.
inline Status CheckGpuArch(const std::string& arch) {
  size_t i = 3;
  int major = 0;
  bool ok = arch.size() >= 5 && arch.compare(0, 3, "sm_") == 0;
  for (; ok && i < arch.size() && std::isdigit(static_cast<unsigned char>(arch[i])); ++i)
    major = major * 10 + (arch[i] - '0');
  ok = ok && i >= 5 && (i == arch.size() || (i + 1 == arch.size() && arch[i] == 'a'));
  if (!ok) return KT_ERROR(kInvalidArgument, "GPU target '", arch, "' is not of the form sm_XY or sm_XYa (e.g. sm_90a)");
  if (major < 80) return KT_ERROR(kInvalidArgument, "GPU target '", arch, "' is older than sm_80, which the kernels need");
  return Status::Ok();
}

}  // namespace kt::nvrtc
