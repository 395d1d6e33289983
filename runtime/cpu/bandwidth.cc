#include "runtime/cpu/bandwidth.h"

#include "kernels/cpu/stream_read.h"

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

  // Full-width loads (kernels/cpu/stream_read.h); each worker reads one
  // contiguous run of chunks (the pool hands out contiguous ranges).
  const StreamReadFn read = GetStreamRead(BestHostIsa());
  const uint64_t chunk_bytes = per_chunk * sizeof(uint64_t);
  std::atomic<uint64_t> sink{0};
  std::vector<double> gbps;
  for (int r = 0; r < repeats + 1; ++r) {  // the first pass warms up
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(chunks, [&](int64_t c, int) {
      const uint64_t begin = c * chunk_bytes, end = std::min<uint64_t>(n_words * sizeof(uint64_t), begin + chunk_bytes);
      if (begin < end) sink.fetch_add(read(static_cast<const uint8_t*>(mem) + begin, end - begin), std::memory_order_relaxed);
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
