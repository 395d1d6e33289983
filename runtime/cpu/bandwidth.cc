#include "runtime/cpu/bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

namespace kt::cpu {

StatusOr<BandwidthResult> MeasureReadBandwidth(ThreadPool& pool, uint64_t bytes, int repeats) {
  if (bytes < (1u << 20) || repeats < 1)
    return KT_ERROR(kInvalidArgument, "bandwidth probe needs >= 1 MiB and >= 1 repeat");
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return KT_ERROR(kResourceExhausted, "cannot map ", bytes, " bytes for the bandwidth probe");
  madvise(mem, bytes, MADV_HUGEPAGE);
  auto* words = static_cast<uint64_t*>(mem);
  const uint64_t n_words = bytes / sizeof(uint64_t);
  // Touch every page from the workers so pages land on their NUMA nodes.
  const int64_t chunks = pool.size() * 16;
  const uint64_t per_chunk = (n_words + chunks - 1) / chunks;
  pool.ParallelFor(chunks, [&](int64_t c, int) {
    const uint64_t begin = c * per_chunk, end = std::min(n_words, begin + per_chunk);
    for (uint64_t i = begin; i < end; ++i) words[i] = i;
  });

  std::atomic<uint64_t> sink{0};
  std::vector<double> gbps;
  for (int r = 0; r < repeats + 1; ++r) {  // the first pass warms up
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(chunks, [&](int64_t c, int) {
      const uint64_t begin = c * per_chunk, end = std::min(n_words, begin + per_chunk);
      uint64_t a = 0, b = 0, d = 0, e = 0;
      uint64_t i = begin;
      for (; i + 4 <= end; i += 4) {
        a += words[i];
        b += words[i + 1];
        d += words[i + 2];
        e += words[i + 3];
      }
      for (; i < end; ++i) a += words[i];
      sink.fetch_add(a + b + d + e, std::memory_order_relaxed);
    });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r > 0) gbps.push_back(static_cast<double>(bytes) / seconds / 1e9);
  }
  munmap(mem, bytes);
  std::sort(gbps.begin(), gbps.end());
  BandwidthResult result;
  result.median_gbps = gbps[gbps.size() / 2];
  result.best_gbps = gbps.back();
  result.bytes = bytes;
  result.repeats = repeats;
  if (sink.load() == 42) result.best_gbps += 0;  // keeps the reads observable
  return result;
}

}  // namespace kt::cpu
