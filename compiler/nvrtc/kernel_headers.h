// The kernels/cuda headers, embedded in the binary at build time
// (embed_headers.cmake), for NVRTC compiles that must not depend on a source
// tree being present (ktc compile).
#pragma once

#include <vector>

#include "compiler/nvrtc/nvrtc_driver.h"

namespace kt::nvrtc {

const std::vector<Header>& EmbeddedKernelHeaders();

}  // namespace kt::nvrtc
