// Full-width loads for the bandwidth probe (stream_read.h), four
// independent accumulators so the loads never wait on the adds.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/stream_read.h"

namespace kt::cpu {
namespace {

uint64_t Read(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  constexpr size_t kStep = 4 * 64;
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512(), a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + kStep <= bytes; i += kStep) {
    a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(reinterpret_cast<const __m512i*>(p + i)));
    a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(reinterpret_cast<const __m512i*>(p + i + 64)));
    a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(reinterpret_cast<const __m512i*>(p + i + 2 * 64)));
    a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(reinterpret_cast<const __m512i*>(p + i + 3 * 64)));
  }
  alignas(64) uint64_t lanes[64 / 8];
  _mm512_storeu_si512(reinterpret_cast<__m512i*>(lanes), _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
  uint64_t sum = 0;
  for (uint64_t v : lanes) sum += v;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    sum += w;
  }
  return sum;
}

}  // namespace

StreamReadFn StreamReadAvx512() { return Read; }

}  // namespace kt::cpu
