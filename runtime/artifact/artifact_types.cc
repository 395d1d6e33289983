#include "runtime/artifact/artifact_types.h"

namespace kt::artifact {
namespace {

template <size_t N>
const char* Lookup(const char* const (&names)[N], uint8_t v) {
  return v < N ? names[v] : nullptr;
}

}  // namespace

const char* Name(DeviceKind v) {
  static const char* const k[] = {"cpu", "gpu"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(GatingFunc v) {
  static const char* const k[] = {"none", "softmax", "sigmoid"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(RopeScaling v) {
  static const char* const k[] = {"none", "linear", "yarn"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(TensorLayout v) {
  static const char* const k[] = {"ggml", "cpu_row_interleaved", "cpu_amx_tiles", "gpu_blocks"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(CpuIsa v) {
  static const char* const k[] = {"generic", "avx2", "avx512", "avx512_vnni", "amx"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(OpKind v) {
  static const char* const k[] = {"embed",   "rms_norm",       "mla", "attention", "router",
                                  "experts", "shared_experts", "ffn", "add",       "lm_head"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(SegmentKind v) {
  static const char* const k[] = {"cpu_weights", "gpu_weights", "kernel_images"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(KernelFormat v) {
  static const char* const k[] = {"cubin", "ptx"};
  return Lookup(k, static_cast<uint8_t>(v));
}
const char* Name(StepKind v) {
  static const char* const k[] = {"gpu_kernel", "cpu_op", "copy", "host_submit_experts",
                                  "host_join_experts"};
  return Lookup(k, static_cast<uint8_t>(v));
}

std::string ToString(const Device& d) {
  const char* kind = Name(d.kind);
  return std::string(kind ? kind : "?") + ":" + std::to_string(d.index);
}

}  // namespace kt::artifact
