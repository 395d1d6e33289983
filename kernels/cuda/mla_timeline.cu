// kt_mla_timeline: where an MLA decode call spends its time, block by block.
//
// Built with KT_CUDA_TRACE (scripts/gpu-check.sh --timeline), so the MLA kernels
// record the global timer at their phase boundaries (trace.cuh). The tool
// replays MlaDecode in a CUDA graph of 20 calls, as kt_gpu_test's benchmark
// does (rotating cache copies to defeat L2), and prints for the last call
// the earliest / median / latest block at each phase, relative to the first
// block's start, plus the merge kernel's start and end.
//
//   kt_mla_timeline --heads 128 --ctx 32768 --config 5
//   kt_mla_timeline --heads 16 --ctx 4096 --config 6
#include "kernels/cuda/kernels.cu"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

#define TL_CHECK(x)                                                                           \
  do {                                                                                        \
    cudaError_t e_ = (x);                                                                     \
    if (e_ != cudaSuccess) {                                                                  \
      std::fprintf(stderr, "kt_mla_timeline: %s: %s\n", #x, cudaGetErrorString(e_));          \
      std::exit(1);                                                                           \
    }                                                                                         \
  } while (0)

void Usage() {
  std::printf(
      "kt_mla_timeline: phase timeline of one MLA decode call (MlaDecode + merge) on the GPU\n"
      "usage: kt_mla_timeline [--heads H] [--ctx N] [--config C]\n"
      "  --heads H   query heads (default 128)\n"
      "  --ctx N     cache rows (default 32768)\n"
      "  --config C  MlaDecode block shape, 0 = automatic (default 0); phases are recorded\n"
      "              by the wgmma kernel (config 5) and the warp-specialised one (config 6)\n"
      "examples:\n"
      "  kt_mla_timeline --heads 128 --ctx 32768 --config 5\n"
      "  kt_mla_timeline --heads 16 --ctx 4096 --config 6\n"
      "Build and run on a GPU machine: scripts/gpu-check.sh --timeline --heads 16 --ctx 32768\n");
}

void PrintPhase(const char* name, std::vector<double> v) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  std::printf("  %-28s blocks %4zu  first %7.2f  median %7.2f  last %7.2f us\n", name, v.size(), v.front(),
              v[v.size() / 2], v.back());
}

}  // namespace

int main(int argc, char** argv) {
  int heads = 128, kv = 32768, config = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "kt_mla_timeline: %s needs a value (see --help)\n", a.c_str());
      return 2;
    }
    const int v = std::atoi(argv[++i]);
    if (a == "--heads") heads = v;
    else if (a == "--ctx") kv = v;
    else if (a == "--config") config = v;
    else {
      std::fprintf(stderr, "kt_mla_timeline: unknown argument %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  if (heads <= 0 || kv <= 0 || config < 0 || config >= kt_cuda::kMlaDecodeConfigs) {
    std::fprintf(stderr, "kt_mla_timeline: need heads > 0, ctx > 0, 0 <= config < %d\n", kt_cuda::kMlaDecodeConfigs);
    return 2;
  }
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    std::printf("kt_mla_timeline: no usable GPU, SKIPPED\n");
    return 77;
  }
  if (!kt_cuda::MlaDecodeConfigRuns(config)) {
    std::fprintf(stderr, "kt_mla_timeline: config %d does not run on this build and GPU\n", config);
    return 2;
  }
  const size_t cn = static_cast<size_t>(kv) * 576;
  const size_t cache_bytes = cn * 2;
  const int ncopy = static_cast<int>(std::max<size_t>(2, (300ull << 20) / cache_bytes + 1));
  std::vector<unsigned short> hc(cn);
  for (size_t i = 0; i < cn; ++i) hc[i] = static_cast<unsigned short>(0x3c00 + ((i * 2654435761u) >> 22) % 1024);
  std::vector<unsigned short*> caches(ncopy);
  for (auto& c : caches) {
    TL_CHECK(cudaMalloc(&c, cache_bytes));
    TL_CHECK(cudaMemcpy(c, hc.data(), cache_bytes, cudaMemcpyHostToDevice));
  }
  std::vector<float> hq(static_cast<size_t>(heads) * 576);
  for (size_t i = 0; i < hq.size(); ++i) hq[i] = static_cast<float>((i * 2654435761u >> 16) % 2001) / 1000.0f - 1.0f;
  float *q = nullptr, *out = nullptr;
  void* ws = nullptr;
  TL_CHECK(cudaMalloc(&q, hq.size() * 4));
  TL_CHECK(cudaMemcpy(q, hq.data(), hq.size() * 4, cudaMemcpyHostToDevice));
  TL_CHECK(cudaMalloc(&out, static_cast<size_t>(heads) * 512 * 4));
  TL_CHECK(cudaMalloc(&ws, kt_cuda::MlaDecodeWorkspaceBytes(1, heads, kv)));
  const float scale = 1.0f / std::sqrt(192.0f);
  cudaStream_t s;
  TL_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  auto call = [&](int i) { TL_CHECK(kt_cuda::MlaDecode(q, caches[i % ncopy], 1, heads, kv, scale, out, ws, s, config)); };
  for (int i = 0; i < 3; ++i) call(i);
  TL_CHECK(cudaStreamSynchronize(s));
  constexpr int kCalls = 20;
  cudaGraph_t g;
  cudaGraphExec_t ge;
  TL_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < kCalls; ++i) call(i);
  TL_CHECK(cudaStreamEndCapture(s, &g));
  TL_CHECK(cudaGraphInstantiate(&ge, g, 0));
  TL_CHECK(cudaGraphLaunch(ge, s));
  TL_CHECK(cudaStreamSynchronize(s));
  // Clear the records, replay once more and read what the last call left.
  static unsigned long long tr[kt_cuda::kTraceBlocks][kt_cuda::kTraceEvents], tc[kt_cuda::kTraceBlocks][kt_cuda::kTraceCombineEvents];
  std::memset(tr, 0, sizeof(tr));
  std::memset(tc, 0, sizeof(tc));
  TL_CHECK(cudaMemcpyToSymbol(kt_cuda::g_trace, tr, sizeof(tr)));
  TL_CHECK(cudaMemcpyToSymbol(kt_cuda::g_trace_combine, tc, sizeof(tc)));
  cudaEvent_t a, b;
  TL_CHECK(cudaEventCreate(&a));
  TL_CHECK(cudaEventCreate(&b));
  TL_CHECK(cudaEventRecord(a, s));
  TL_CHECK(cudaGraphLaunch(ge, s));
  TL_CHECK(cudaEventRecord(b, s));
  TL_CHECK(cudaEventSynchronize(b));
  float ms = 0.0f;
  TL_CHECK(cudaEventElapsedTime(&ms, a, b));
  TL_CHECK(cudaMemcpyFromSymbol(tr, kt_cuda::g_trace, sizeof(tr)));
  TL_CHECK(cudaMemcpyFromSymbol(tc, kt_cuda::g_trace_combine, sizeof(tc)));

  unsigned long long t0 = ~0ull;
  for (auto& r : tr)
    if (r[0]) t0 = std::min(t0, r[0]);
  std::printf("kt_mla_timeline: heads %d ctx %d config %d: %.2f us per call (graph of %d calls)\n", heads, kv, config,
              1000.0 * ms / kCalls, kCalls);
  if (t0 == ~0ull) {
    std::printf("  (this block shape records no phases; configs 5 and 6 do)\n");
    return 0;
  }
  const char* names[kt_cuda::kTraceEvents] = {"start",          "after griddepcontrol.wait", "q in shared memory",
                                              "first tile landed", "first S done",           "loop end (thread 0)",
                                              "loop end (thread 128)", "partial result written"};
  for (int e = 0; e < kt_cuda::kTraceEvents; ++e) {
    std::vector<double> v;
    for (auto& r : tr)
      if (r[e] >= t0) v.push_back((r[e] - t0) / 1000.0);
    PrintPhase(names[e], v);
  }
  const char* merge_names[kt_cuda::kTraceCombineEvents] = {"merge block start", "merge after wait", "merge block end"};
  for (int e = 0; e < kt_cuda::kTraceCombineEvents; ++e) {
    std::vector<double> v;
    for (auto& r : tc)
      if (r[e] >= t0) v.push_back((r[e] - t0) / 1000.0);
    PrintPhase(merge_names[e], v);
  }
  return 0;
}
