// Full-width loads for the bandwidth probe (stream_read.h), four
// independent accumulators so the loads never wait on the adds.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/stream_read.h"

namespace kt::cpu {
namespace {

uint64_t Read(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  constexpr size_t kStep = 4 * 32;
  __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256(), a2 = _mm256_setzero_si256(), a3 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + kStep <= bytes; i += kStep) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 2 * 32)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 3 * 32)));
  }
  alignas(32) uint64_t lanes[32 / 8];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
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

StreamReadFn StreamReadAvx2() { return Read; }

}  // namespace kt::cpu
