// libFuzzer target for the artifact loader: header checks, the FlatBuffers
// verifier, the semantic verifier and checksum verification. Built by
// scripts/fuzz.sh (target "artifact") with ASan and UBSan.
//
// Most random mutations would only ever hit the header checksum, so each
// input is also loaded a second time with its header repaired (file_size
// and checksum recomputed): that lets the fuzzer reach the manifest
// verifiers with every mutation of the manifest bytes.
#include <cstdint>
#include <cstring>
#include <vector>

#include "runtime/artifact/artifact.h"
#include "runtime/artifact/xxhash64.h"

namespace {

void LoadAndTouch(const uint8_t* data, size_t size) {
  using namespace kt::artifact;
  kt::StatusOr<Artifact> art = Artifact::Parse(data, size, "fuzz", {.verify_checksums = true});
  if (!art.ok()) {
    // Every rejection must carry a message.
    if (art.status().message().empty()) __builtin_trap();
    return;
  }
  // Everything the loader accepted must be safe to read: ASan checks that
  // these stay inside the input.
  volatile uint8_t sink = 0;
  const Manifest& m = art->manifest();
  for (const TensorInfo& t : m.tensors) {
    std::span<const uint8_t> b = art->TensorData(t);
    if (!b.empty()) sink = sink ^ b.front() ^ b.back();
    if (art->FindTensor(t.name) == nullptr) __builtin_trap();
  }
  for (const KernelImage& k : m.kernels) {
    std::span<const uint8_t> b = art->KernelImageData(k);
    if (!b.empty()) sink = sink ^ b.front() ^ b.back();
  }
  for (const Plan& p : m.plans) {
    for (const Step& s : p.steps) {
      for (uint32_t ref : s.tensors) sink = sink ^ static_cast<uint8_t>(m.tensors.at(ref).length);
      if (s.op >= 0) sink = sink ^ static_cast<uint8_t>(m.placement.at(s.op).layer);
      if (s.kernel_image >= 0) sink = sink ^ static_cast<uint8_t>(m.kernels.at(s.kernel_image).length);
    }
  }
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  LoadAndTouch(data, size);
  if (size >= kt::artifact::kHeaderSize) {
    std::vector<uint8_t> fixed(data, data + size);
    const uint64_t file_size = size;
    std::memcpy(fixed.data() + 32, &file_size, 8);
    std::memset(fixed.data() + 40, 0, 16);
    const uint64_t sum = kt::artifact::Xxh64Of(fixed.data(), 56);
    std::memcpy(fixed.data() + 56, &sum, 8);
    LoadAndTouch(fixed.data(), fixed.size());
  }
  return 0;
}
