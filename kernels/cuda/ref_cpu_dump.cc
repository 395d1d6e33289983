// Host-only helper for ref_cpu_check.py: dequantises raw GGUF rows from stdin
// with ref_cpu.h and writes float32 to stdout. Usage: ref_cpu_dump TYPE K ROWS
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kernels/cuda/ref_cpu.h"

namespace {
long long RowBytes(int type, int k) {
  switch (type) {
    case 0: return 4LL * k;
    case 1: case 30: return 2LL * k;
    case 8: return k / 32 * 34LL;
    case 12: return k / 256 * 144LL;
    case 13: return k / 256 * 176LL;
    case 14: return k / 256 * 210LL;
    default: return 0;
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: ref_cpu_dump TYPE K ROWS < raw > floats\nexample: ref_cpu_dump 12 256 4\n");
    return 2;
  }
  const int type = std::atoi(argv[1]), k = std::atoi(argv[2]), rows = std::atoi(argv[3]);
  const long long rb = RowBytes(type, k);
  if (rb <= 0 || k <= 0 || rows <= 0 || rows > (1 << 20) || k > (1 << 20)) {
    std::fprintf(stderr, "ref_cpu_dump: bad arguments\n");
    return 2;
  }
  std::vector<unsigned char> in(rb);
  std::vector<float> out(k);
  for (int r = 0; r < rows; ++r) {
    if (std::fread(in.data(), 1, in.size(), stdin) != in.size()) {
      std::fprintf(stderr, "ref_cpu_dump: short input at row %d\n", r);
      return 1;
    }
    if (!kt_cuda_ref::DequantRow(type, in.data(), out.data(), k)) return 1;
    std::fwrite(out.data(), sizeof(float), out.size(), stdout);
  }
  return 0;
}
