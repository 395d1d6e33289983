// XXH64 (seed 0 by default), the checksum of artifact tensors and kernel
// images. Streaming, so the writer can hash a 30 GB model chunk by chunk
// while it writes. Written from the published algorithm description; the
// tests pin it to the reference implementation's outputs.
#pragma once

#include <cstdint>

namespace kt::artifact {

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void Update(const void* data, uint64_t size);
  uint64_t Digest() const;

 private:
  uint64_t seed_;
  uint64_t acc_[4];
  uint8_t buffer_[32];
  uint32_t buffered_ = 0;
  uint64_t total_ = 0;
};

uint64_t Xxh64Of(const void* data, uint64_t size, uint64_t seed = 0);

}  // namespace kt::artifact
