#include "kernels/cpu/stream_read.h"

#include <cstring>

namespace kt::cpu {
namespace {

uint64_t Generic(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  const size_t words = bytes / 8;
  uint64_t acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= words; i += 8)
    for (int k = 0; k < 8; ++k) {
      uint64_t w;
      std::memcpy(&w, p + 8 * (i + k), 8);
      acc[k] += w;
    }
  for (; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + 8 * i, 8);
    acc[0] += w;
  }
  uint64_t sum = 0;
  for (uint64_t a : acc) sum += a;
  return sum;
}

}  // namespace

StreamReadFn StreamReadGeneric() { return Generic; }

#if !(defined(__x86_64__) || defined(_M_X64))
StreamReadFn StreamReadAvx2() { return nullptr; }
StreamReadFn StreamReadAvx512() { return nullptr; }
#endif

StreamReadFn GetStreamRead(Isa isa) {
  if (isa >= Isa::kAvx512)
    if (StreamReadFn f = StreamReadAvx512()) return f;
  if (isa >= Isa::kAvx2)
    if (StreamReadFn f = StreamReadAvx2()) return f;
  return Generic;
}

}  // namespace kt::cpu
