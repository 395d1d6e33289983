// Shared pieces of the GPU test and benchmark program (kt_gpu_test): error
// checks, random inputs in every weight format, device buffers, the CPU GEMV
// reference and pass/fail reporting, graph timing and the benchmark table.
// Header-only; each .cu of the program includes it.
#pragma once

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cuda/kt_cuda.h"
#include "kernels/cuda/ref_cpu.h"

namespace kt_gpu_harness {

using kt_cuda_ref::FloatToBf16;
using kt_cuda_ref::FloatToHalf;

#define CK(expr)                                                                          \
  do {                                                                                    \
    cudaError_t e_ = (expr);                                                              \
    if (e_ != cudaSuccess) {                                                              \
      std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, \
                   __LINE__, #expr);                                                      \
      std::exit(1);                                                                       \
    }                                                                                     \
  } while (0)
#define CB(expr)                                                                            \
  do {                                                                                      \
    cublasStatus_t s_ = (expr);                                                             \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                      \
      std::fprintf(stderr, "cuBLAS error %d at %s:%d: %s\n", static_cast<int>(s_), __FILE__, \
                   __LINE__, #expr);                                                        \
      std::exit(1);                                                                         \
    }                                                                                       \
  } while (0)

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  float Uniform() { return static_cast<float>(Next() >> 40) / 16777216.0f; }  // [0,1)
  float Sym() { return 2.0f * Uniform() - 1.0f; }
};

inline void ParallelFor(long long n, const std::function<void(long long, long long)>& f) {
  unsigned nt = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  std::vector<std::thread> th;
  const long long chunk = (n + nt - 1) / nt;
  for (unsigned i = 0; i < nt; ++i) {
    const long long a = i * chunk, b = std::min(n, a + chunk);
    if (a < b) th.emplace_back(f, a, b);
  }
  for (auto& t : th) t.join();
}

template <class T>
struct Dev {
  T* p = nullptr;
  size_t n = 0;
  Dev() = default;
  explicit Dev(size_t count) : n(count) { CK(cudaMalloc(&p, std::max<size_t>(1, count) * sizeof(T))); }
  ~Dev() { if (p) cudaFree(p); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  void Up(const std::vector<T>& v) { CK(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice)); }
  std::vector<T> Down() const {
    std::vector<T> v(n);
    CK(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }
  void Poison() { CK(cudaMemset(p, 0xFF, n * sizeof(T))); }  // NaN for floats
};

inline const char* TypeName(int t) {
  switch (t) {
    case 0: return "F32"; case 1: return "F16"; case 8: return "Q8_0"; case 12: return "Q4_K";
    case 13: return "Q5_K"; case 14: return "Q6_K"; case 30: return "BF16"; default: return "?";
  }
}

// Random but valid blocks: random quant bits, small finite scales.
inline std::vector<uint8_t> RandomWeights(int type, int k, int n, Rng& rng) {
  const long long rb = kt_cuda::RowBytes(type, k);
  std::vector<uint8_t> w(rb * n);
  for (auto& b : w) b = static_cast<uint8_t>(rng.Next() >> 56);
  auto put_half = [&](uint8_t* p, float v) {
    const uint16_t h = FloatToHalf(v);
    std::memcpy(p, &h, 2);
  };
  for (int r = 0; r < n; ++r) {
    uint8_t* row = w.data() + rb * r;
    switch (type) {
      case 0:
        for (int i = 0; i < k; ++i) { float v = rng.Sym(); std::memcpy(row + 4 * i, &v, 4); }
        break;
      case 1: for (int i = 0; i < k; ++i) put_half(row + 2 * i, rng.Sym()); break;
      case 30:
        for (int i = 0; i < k; ++i) { uint16_t h = FloatToBf16(rng.Sym()); std::memcpy(row + 2 * i, &h, 2); }
        break;
      case 8: for (int b = 0; b < k / 32; ++b) put_half(row + 34 * b, 0.01f * (rng.Sym() + 0.1f)); break;
      case 12: case 13:
        for (int b = 0; b < k / 256; ++b) {
          uint8_t* p = row + (type == 12 ? 144 : 176) * b;
          put_half(p, 0.02f * rng.Uniform() + 1e-4f);
          put_half(p + 2, 0.02f * rng.Uniform());
        }
        break;
      case 14: for (int b = 0; b < k / 256; ++b) put_half(row + 210 * b + 208, 0.01f * rng.Sym()); break;
    }
  }
  return w;
}

inline std::vector<float> Dequant(int type, const std::vector<uint8_t>& w, int k, int n) {
  std::vector<float> out(static_cast<size_t>(k) * n);
  const long long rb = kt_cuda::RowBytes(type, k);
  ParallelFor(n, [&](long long a, long long b) {
    for (long long r = a; r < b; ++r) kt_cuda_ref::DequantRow(type, w.data() + rb * r, out.data() + k * r, k);
  });
  return out;
}

inline std::vector<float> RandomVec(size_t n, Rng& rng, float scale = 1.0f) {
  std::vector<float> v(n);
  for (auto& x : v) x = scale * rng.Sym();
  return v;
}

// ||a - b|| / ||b||; NaN anywhere -> NaN (fails every comparison).
inline double RelErr(const std::vector<float>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return NAN;
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// One line per check; every file of the program counts into the same totals.
inline int g_fail = 0, g_pass = 0;
inline std::vector<std::string> g_fail_names;
inline void Report(const std::string& name, double err, double tol) {
  const bool ok = err <= tol;  // false for NaN
  std::printf("  %-58s rel_err %.3e  tol %.0e  %s\n", name.c_str(), err, tol, ok ? "PASS" : "FAIL");
  if (ok) ++g_pass; else { ++g_fail; g_fail_names.push_back(name); }
}

// y[t][n] = sum_k wf[n][k] x[t][k] in double (the GEMV reference).
inline std::vector<double> RefGemv(const std::vector<float>& wf, int k, int n, const std::vector<float>& x, int ntok) {
  std::vector<double> y(static_cast<size_t>(ntok) * n);
  ParallelFor(n, [&](long long a, long long b) {
    for (long long r = a; r < b; ++r)
      for (int t = 0; t < ntok; ++t) {
        double s = 0;
        const float* wr = wf.data() + static_cast<size_t>(k) * r;
        const float* xt = x.data() + static_cast<size_t>(k) * t;
        for (int i = 0; i < k; ++i) s += static_cast<double>(wr[i]) * xt[i];
        y[static_cast<size_t>(t) * n + r] = s;
      }
  });
  return y;
}

// RoPE of pair i (values x0, x1) at position `pos` in double: the YaRN
// ramp between corr_lo and corr_hi (kt_cuda::YarnCorrDims) and its
// magnitude scale when factor > 1, none otherwise.
inline void RefRope(double x0, double x1, int pos, int i, int n_dims, double freq_base, double factor, double corr_lo,
                    double corr_hi, double* o0, double* o1) {
  const double te = pos * std::pow(freq_base, -2.0 * i / n_dims);
  const double fs = 1.0 / factor;
  double th = fs * te, ms = 1.0;
  if (factor > 1.0) {
    const double y = (i - corr_lo) / std::max(0.001, corr_hi - corr_lo);
    const double ramp = 1.0 - std::min(1.0, std::max(0.0, y));
    th = fs * te * (1 - ramp) + te * ramp;
    ms = 1.0 + 0.1 * std::log(1.0 / fs);
  }
  *o0 = (x0 * std::cos(th) - x1 * std::sin(th)) * ms;
  *o1 = (x0 * std::sin(th) + x1 * std::cos(th)) * ms;
}

inline std::string Fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

struct Row { std::string what; double us, rate, frac, peer_us, speedup; const char* unit; };
inline std::vector<Row> g_rows;  // benchmark table rows, printed last
inline std::string g_extra;      // more tables (markdown), printed after them

// Median over `reps` of (graph of `inner` calls) / inner, in microseconds.
inline double TimeGraph(const std::function<void(cudaStream_t, int)>& body, int inner, int reps = 15) {
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  for (int i = 0; i < 3; ++i) body(s, i);  // warm-up (module load, handles)
  CK(cudaStreamSynchronize(s));
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < inner; ++i) body(s, i);
  CK(cudaStreamEndCapture(s, &g));
  CK(cudaGraphInstantiate(&ge, g, 0));
  CK(cudaGraphLaunch(ge, s));
  CK(cudaStreamSynchronize(s));
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventRecord(a, s));
    CK(cudaGraphLaunch(ge, s));
    CK(cudaEventRecord(b, s));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    ts.push_back(1000.0 * ms / inner);
  }
  CK(cudaGetLastError());
  cudaGraphExecDestroy(ge);
  cudaGraphDestroy(g);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaStreamDestroy(s);
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

inline double g_bw = 0, g_tflops = 0;  // measured ceilings (GB/s, TFLOP/s)

// Enough copies of one random weight matrix that cycling through them keeps
// every timed call reading from HBM, not L2.
struct WeightCopies {
  std::vector<std::unique_ptr<Dev<uint8_t>>> copies;
  size_t bytes = 0;
  WeightCopies(int type, int k, int n, Rng& rng) {
    const auto w = RandomWeights(type, k, n, rng);
    bytes = w.size();
    const size_t count = std::max<size_t>(2, (400ull << 20) / bytes + 1);
    for (size_t i = 0; i < count; ++i) {
      copies.emplace_back(new Dev<uint8_t>(bytes));
      copies.back()->Up(w);
    }
  }
  const uint8_t* operator[](int i) const { return copies[i % copies.size()]->p; }
};

// Benchmarks and checks in other files of the program.
void BenchLayer();
void TestNvrtc();  // gpu_nvrtc_check.cu: kernels compiled by compiler/nvrtc, run through the driver API
void TestFused();  // gpu_fused_test.cu: producers with a quantising epilogue, the MLA cache append

}  // namespace kt_gpu_harness
