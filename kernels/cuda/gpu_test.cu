// GPU kernel checks and benchmarks (issue #5). Every kernel is compared with
// a CPU float32/double reference on fresh random inputs; outputs are poisoned
// (NaN) first and NaN never passes. Benchmarks report time, GB/s or TFLOP/s
// and the fraction of the ceilings measured in the same run (device-to-device
// copy; cuBLAS bf16 GEMM), with cuBLAS on dequantised bf16 weights as peer.
//
//   kt_gpu_test [--test] [--bench] [--quick] [--table FILE]
// Exit: 0 all checks passed, 1 a check failed, 77 no usable GPU (skipped).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernels/cuda/bulk.cuh"
#include "kernels/cuda/gemm_cublas.h"
#include "kernels/cuda/gemm_prefill.h"
#include "kernels/cuda/kt_cuda.h"
#include "kernels/cuda/gpu_harness.h"
#include "kernels/cuda/ref_cpu.h"

bool InList(const char* list, const char* item);

namespace {

using namespace kt_gpu_harness;
using kt_cuda_ref::Bf16ToFloat;
using kt_cuda_ref::FloatToBf16;
using kt_cuda_ref::FloatToHalf;

cublasHandle_t g_blas = nullptr;  // created in main for the tests that use cuBLAS

void TestGemv(bool quick) {
  std::printf("== GEMV (quantised weights, f32 activations)\n");
  struct Shape { int k, n; const char* what; };
  const Shape shapes[] = {
      {2048, 3072, "V2-Lite q (16x192)"}, {2048, 576, "V2-Lite kv_a"}, {2048, 2816, "V2-Lite shexp gate+up"},
      {7168, 1536, "V3 q_a"}, {1536, 24576, "V3 q_b"}, {16384, 7168, "V3 attn_out"},
      {7168, 2048, "V3 shexp gate"}, {768, 1001, "odd"}, {512, 7, "tiny odd"}};
  const int types[] = {12, 13, 14, 8, 30, 1, 0};
  Rng rng(1);
  for (const Shape& s : shapes) {
    for (int type : types) {
      if (quick && s.k * static_cast<long long>(s.n) > 20000000) continue;
      auto w = RandomWeights(type, s.k, s.n, rng);
      auto wf = Dequant(type, w, s.k, s.n);
      Dev<uint8_t> dw(w.size());
      dw.Up(w);
      for (int ntok : {1, 3, 8, 16}) {
        if (s.k * static_cast<long long>(s.n) > 40000000 && ntok > 3) continue;
        auto x = RandomVec(static_cast<size_t>(ntok) * s.k, rng);
        Dev<float> dx(x.size()), dy(static_cast<size_t>(ntok) * s.n);
        dx.Up(x);
        auto ref = RefGemv(wf, s.k, s.n, x, ntok);
        for (int rpb : {0, 2, 8}) {
          if (rpb && ntok != 1) continue;
          dy.Poison();
          CK(kt_cuda::Gemv(type, dw.p, kt_cuda::RowBytes(type, s.k), s.k, s.n, dx.p, s.k, ntok, dy.p, s.n, 0, 1, 0, 0, 0, rpb));
          CK(cudaDeviceSynchronize());
          Report(Fmt("gemv %-4s %5d->%-5d ntok %2d rpb %d (%s)", TypeName(type), s.k, s.n, ntok, rpb, s.what),
                 RelErr(dy.Down(), ref), 1e-3);
        }
      }
    }
  }
  {  // batched (per-head) GEMV as used for W_kb / W_vb: K=128 -> 512, 16 heads, BF16
    const int k = 128, n = 512, heads = 16, type = 30;
    auto w = RandomWeights(type, k, n * heads, rng);
    auto wf = Dequant(type, w, k, n * heads);
    auto x = RandomVec(static_cast<size_t>(heads) * k, rng);
    std::vector<double> ref(static_cast<size_t>(heads) * n);
    for (int h = 0; h < heads; ++h)
      for (int r = 0; r < n; ++r) {
        double sacc = 0;
        for (int i = 0; i < k; ++i) sacc += static_cast<double>(wf[(static_cast<size_t>(h) * n + r) * k + i]) * x[h * k + i];
        ref[static_cast<size_t>(h) * n + r] = sacc;
      }
    Dev<uint8_t> dw(w.size());
    Dev<float> dx(x.size()), dy(ref.size());
    dw.Up(w);
    dx.Up(x);
    dy.Poison();
    const long long rb = kt_cuda::RowBytes(type, k);
    CK(kt_cuda::Gemv(type, dw.p, rb, k, n, dx.p, k, 1, dy.p, n, 0, heads, rb * n, k, n));
    CK(cudaDeviceSynchronize());
    Report("gemv BF16 batched per-head 128->512 x16 heads (W_kb)", RelErr(dy.Down(), ref), 1e-3);
  }
  // Short rows (the small-K kernel): every chunk type, 1..8 tokens, rows per
  // warp from 32 (K = 32) to 1 (K = 1024), row counts that leave warps partly
  // empty. x is [token][problem][k], y is [token][problem][n].
  struct SmallCase { int k, n, batch, ntok; };
  for (int type : {8, 1, 30, 0})
    for (const SmallCase& c : {SmallCase{128, 512, 16, 1}, SmallCase{512, 128, 8, 3}, SmallCase{32, 77, 3, 8},
                               SmallCase{1024, 33, 2, 2}, SmallCase{256, 1, 5, 1}}) {
      auto w = RandomWeights(type, c.k, c.n * c.batch, rng);
      auto wf = Dequant(type, w, c.k, c.n * c.batch);
      auto x = RandomVec(static_cast<size_t>(c.ntok) * c.batch * c.k, rng);
      std::vector<double> ref(static_cast<size_t>(c.ntok) * c.batch * c.n);
      for (int t = 0; t < c.ntok; ++t)
        for (int b = 0; b < c.batch; ++b)
          for (int r = 0; r < c.n; ++r) {
            double sacc = 0;
            for (int i = 0; i < c.k; ++i)
              sacc += static_cast<double>(wf[(static_cast<size_t>(b) * c.n + r) * c.k + i]) *
                      x[(static_cast<size_t>(t) * c.batch + b) * c.k + i];
            ref[(static_cast<size_t>(t) * c.batch + b) * c.n + r] = sacc;
          }
      Dev<uint8_t> dw(w.size());
      Dev<float> dx(x.size()), dy(ref.size());
      dw.Up(w);
      dx.Up(x);
      dy.Poison();
      const long long rb = kt_cuda::RowBytes(type, c.k);
      CK(kt_cuda::Gemv(type, dw.p, rb, c.k, c.n, dx.p, static_cast<long long>(c.batch) * c.k, c.ntok, dy.p,
                       static_cast<long long>(c.batch) * c.n, 0, c.batch, rb * c.n, c.k, c.n));
      CK(cudaDeviceSynchronize());
      Report(Fmt("gemv %s short rows %d->%d x%d problems, %d tokens", TypeName(type), c.k, c.n, c.batch, c.ntok),
             RelErr(dy.Down(), ref), 1e-3);
    }
}

void TestGemvTc() {
  std::printf("== GEMV on tensor cores (Q4_K, Q8_0; x split into bf16 hi+lo)\n");
  struct Shape { int k, n; const char* what; };
  const Shape shapes[] = {{2048, 3072, "V2-Lite q"}, {2048, 576, "V2-Lite kv_a"}, {7168, 2048, "V3 shexp gate"},
                          {2048, 7168, "V3 shexp down"}, {1536, 24576, "V3 q_b"}, {7168, 18432, "V3 dense up"},
                          {768, 1001, "odd"}, {256, 5, "tiny odd"}};
  Rng rng(11);
  Dev<uint8_t> ws(kt_cuda::GemvTcWorkspaceBytes(18432));
  for (const Shape& s : shapes) {
    for (int type : {12, 8}) {
      auto w = RandomWeights(type, s.k, s.n, rng);
      auto wf = Dequant(type, w, s.k, s.n);
      Dev<uint8_t> dw(w.size());
      dw.Up(w);
      for (int ntok : {1, 2, 3, 8, 13, 16}) {
        if (s.k * static_cast<long long>(s.n) > 40000000 && ntok > 2) continue;
        auto x = RandomVec(static_cast<size_t>(ntok) * s.k, rng);
        Dev<float> dx(x.size()), dy(static_cast<size_t>(ntok) * s.n);
        dx.Up(x);
        dy.Poison();
        auto ref = RefGemv(wf, s.k, s.n, x, ntok);
        CK(kt_cuda::GemvTc(type, dw.p, kt_cuda::RowBytes(type, s.k), s.k, s.n, dx.p, s.k, ntok, dy.p, s.n, ws.p, 0));
        CK(cudaDeviceSynchronize());
        Report(Fmt("gemv-tc %-4s %5d->%-5d ntok %2d (%s)", TypeName(type), s.k, s.n, ntok, s.what),
               RelErr(dy.Down(), ref), 1e-3);
      }
    }
  }
}

void TestGemvI8() {
  std::printf("== GEMV with int8 activations in two levels (Q4_K, Q8_0, Q6_K; dp4a)\n");
  struct Shape { int k, n; const char* what; };
  const Shape shapes[] = {{2048, 3072, "V2-Lite q"}, {2048, 576, "V2-Lite kv_a"}, {7168, 2048, "V3 shexp gate"},
                          {2048, 7168, "V3 shexp down"}, {1536, 24576, "V3 q_b"}, {7168, 18432, "V3 dense up"},
                          {768, 1001, "odd"}, {256, 5, "tiny odd"}, {800, 37, "Q8_0 rows not 4-byte aligned"},
                          {32, 3, "one Q8_0 block"}, {6144, 37, "K split, a warp without steps"},
                          {16384, 300, "K split, two steps per warp"}};
  Rng rng(12);
  Dev<uint8_t> ws(kt_cuda::GemvI8WorkspaceBytes(18432));
  for (const Shape& s : shapes) {
    for (int type : {12, 8, 14}) {
      const long long rb = kt_cuda::RowBytes(type, s.k);
      if (rb == 0 || (type == 14 && rb % 4)) continue;  // Q6_K rows must be 4-byte multiples
      auto w = RandomWeights(type, s.k, s.n, rng);
      auto wf = Dequant(type, w, s.k, s.n);
      // Q8_0 rows start at any even address: test a 2-byte offset too (the
      // last block of the buffer then ends exactly at the allocation's end).
      for (int shift : {0, 2}) {
        if (shift && type != 8) continue;
        Dev<uint8_t> dw(w.size() + shift);
        std::vector<uint8_t> up(shift, 0);
        up.insert(up.end(), w.begin(), w.end());
        dw.Up(up);
        for (int ntok : {1, 2, 3, 8, 13, 16}) {
          if (s.k * static_cast<long long>(s.n) > 40000000 && ntok > 2) continue;
          if (shift && ntok > 3) continue;
          auto x = RandomVec(static_cast<size_t>(ntok) * s.k, rng);
          Dev<float> dx(x.size()), dy(static_cast<size_t>(ntok) * s.n);
          dx.Up(x);
          auto ref = RefGemv(wf, s.k, s.n, x, ntok);
          for (int rpw : {0, 1, 2, 4}) {
            if (rpw && ntok > 2) continue;
            if (rpw == 4 && (ntok != 1 || type == 14)) continue;  // 4 rows per warp: one token, Q4_K / Q8_0
            dy.Poison();
            CK(kt_cuda::GemvI8(type, dw.p + shift, rb, s.k, s.n, dx.p, s.k, ntok, dy.p, s.n, ws.p, 0, rpw));
            CK(cudaDeviceSynchronize());
            Report(Fmt("gemv-i8 %-4s %5d->%-5d ntok %2d rpw %d%s (%s)", TypeName(type), s.k, s.n, ntok, rpw,
                       shift ? " +2B" : "", s.what),
                   RelErr(dy.Down(), ref), 1e-3);
          }
        }
      }
    }
  }
  {  // quantise once, run two GEMVs of the same K on it
    const int k = 2048, n1 = 3072, n2 = 576, ntok = 3;
    for (int type : {12, 8, 14}) {
      auto w1 = RandomWeights(type, k, n1, rng), w2 = RandomWeights(type, k, n2, rng);
      auto x = RandomVec(static_cast<size_t>(ntok) * k, rng);
      auto r1 = RefGemv(Dequant(type, w1, k, n1), k, n1, x, ntok), r2 = RefGemv(Dequant(type, w2, k, n2), k, n2, x, ntok);
      Dev<uint8_t> d1(w1.size()), d2(w2.size());
      Dev<float> dx(x.size()), y1(r1.size()), y2(r2.size());
      d1.Up(w1); d2.Up(w2); dx.Up(x); y1.Poison(); y2.Poison();
      const long long rb = kt_cuda::RowBytes(type, k);
      CK(kt_cuda::GemvI8Quantize(type, dx.p, k, ntok, k, ws.p, 0));
      CK(kt_cuda::GemvI8Prepared(type, d1.p, rb, k, n1, ntok, y1.p, n1, ws.p, 0));
      CK(kt_cuda::GemvI8Prepared(type, d2.p, rb, k, n2, ntok, y2.p, n2, ws.p, 0));
      CK(cudaDeviceSynchronize());
      Report(Fmt("gemv-i8 %s prepared x, first of two GEMVs", TypeName(type)), RelErr(y1.Down(), r1), 1e-3);
      Report(Fmt("gemv-i8 %s prepared x, second of two GEMVs", TypeName(type)), RelErr(y2.Down(), r2), 1e-3);
    }
  }
  {  // a NaN in x must reach y, not vanish in the quantiser's max
    const int k = 512, n = 64, type = 12;
    auto w = RandomWeights(type, k, n, rng);
    auto x = RandomVec(k, rng);
    x[100] = NAN;
    Dev<uint8_t> dw(w.size());
    Dev<float> dx(x.size()), dy(n);
    dw.Up(w);
    dx.Up(x);
    dy.Poison();
    CK(kt_cuda::GemvI8(type, dw.p, kt_cuda::RowBytes(type, k), k, n, dx.p, k, 1, dy.p, n, ws.p, 0));
    CK(cudaDeviceSynchronize());
    auto y = dy.Down();
    int nan_rows = 0;
    for (float v : y) nan_rows += std::isnan(v) ? 1 : 0;
    Report("gemv-i8 NaN in x gives NaN in every row (rows without NaN)", static_cast<double>(n - nan_rows), 0.0);
  }
}

void TestGemvMma() {
  std::printf("== GEMV on int8 tensor cores, 1..16 tokens (Q4_K, Q5_K, Q8_0: mma m16n8k32; Q6_K: m16n8k16)\n");
  struct Shape { int k, n; const char* what; };
  const Shape shapes[] = {{2048, 3072, "V2-Lite q"}, {2048, 576, "V2-Lite kv_a"}, {7168, 2048, "V3 shexp gate"},
                          {2048, 7168, "V3 shexp down"}, {1536, 24576, "V3 q_b"}, {7168, 18432, "V3 dense up"},
                          {768, 1001, "odd"}, {256, 5, "tiny odd"}, {6144, 37, "K split"},
                          {16384, 300, "long rows, K split"}};
  Rng rng(21);
  Dev<uint8_t> ws(kt_cuda::GemvMmaWorkspaceBytes(18432));
  for (const Shape& s : shapes) {
    for (int type : {12, 13, 8, 14}) {
      const long long rb = kt_cuda::RowBytes(type, s.k);
      auto w = RandomWeights(type, s.k, s.n, rng);
      auto wf = Dequant(type, w, s.k, s.n);
      Dev<uint8_t> dw(w.size());
      dw.Up(w);
      for (int ntok : {1, 3, 8, 9, 16}) {
        if (s.k * static_cast<long long>(s.n) > 40000000 && ntok != 16 && ntok != 3) continue;
        const int ldx = s.k + (ntok == 9 ? 4 : 0);  // a row stride that is not K
        auto x = RandomVec(static_cast<size_t>(ntok) * ldx, rng);
        std::vector<float> xc(static_cast<size_t>(ntok) * s.k);
        for (int t = 0; t < ntok; ++t)
          for (int i = 0; i < s.k; ++i) xc[static_cast<size_t>(t) * s.k + i] = x[static_cast<size_t>(t) * ldx + i];
        Dev<float> dx(x.size()), dy(static_cast<size_t>(ntok) * s.n);
        dx.Up(x);
        const auto ref = RefGemv(wf, s.k, s.n, xc, ntok);
        for (int mt : {0, 2}) {
          for (int split : {0, 1, 3}) {
            if ((mt || split) && ntok != 16 && ntok != 3) continue;
            dy.Poison();
            CK(kt_cuda::GemvMma(type, dw.p, rb, s.k, s.n, dx.p, ldx, ntok, dy.p, s.n, ws.p, 0, mt, split));
            CK(cudaDeviceSynchronize());
            Report(Fmt("gemv-mma %-4s %5d->%-5d ntok %2d tiles %d ksplit %d (%s)", TypeName(type), s.k, s.n, ntok,
                       mt ? mt : 1, split, s.what),
                   RelErr(dy.Down(), ref), 1e-3);
          }
        }
      }
    }
  }
  {  // two GEMVs back to back on one workspace: the second quantiser must wait for the first GEMV
    const int k = 7168, n1 = 2048, n2 = 576, ntok = 16;
    for (int type : {12, 13, 8, 14}) {
      auto w1 = RandomWeights(type, k, n1, rng), w2 = RandomWeights(type, k, n2, rng);
      auto x1 = RandomVec(static_cast<size_t>(ntok) * k, rng), x2 = RandomVec(x1.size(), rng);
      auto r1 = RefGemv(Dequant(type, w1, k, n1), k, n1, x1, ntok), r2 = RefGemv(Dequant(type, w2, k, n2), k, n2, x2, ntok);
      Dev<uint8_t> d1(w1.size()), d2(w2.size());
      Dev<float> dx1(x1.size()), dx2(x2.size()), y1(r1.size()), y2(r2.size());
      d1.Up(w1); d2.Up(w2); dx1.Up(x1); dx2.Up(x2); y1.Poison(); y2.Poison();
      const long long rb = kt_cuda::RowBytes(type, k);
      CK(kt_cuda::GemvMma(type, d1.p, rb, k, n1, dx1.p, k, ntok, y1.p, n1, ws.p, 0));
      CK(kt_cuda::GemvMma(type, d2.p, rb, k, n2, dx2.p, k, ntok, y2.p, n2, ws.p, 0));
      CK(cudaDeviceSynchronize());
      Report(Fmt("gemv-mma %s first of two GEMVs on one workspace", TypeName(type)), RelErr(y1.Down(), r1), 1e-3);
      Report(Fmt("gemv-mma %s second of two GEMVs on one workspace", TypeName(type)), RelErr(y2.Down(), r2), 1e-3);
    }
  }
  {  // a NaN in x must reach its token's outputs, and only those
    const int k = 512, n = 64, ntok = 4;
    for (int type : {12, 13, 8, 14}) {
      auto w = RandomWeights(type, k, n, rng);
      auto x = RandomVec(static_cast<size_t>(ntok) * k, rng);
      x[2 * k + 100] = NAN;  // token 2
      Dev<uint8_t> dw(w.size());
      Dev<float> dx(x.size()), dy(static_cast<size_t>(ntok) * n);
      dw.Up(w); dx.Up(x); dy.Poison();
      CK(kt_cuda::GemvMma(type, dw.p, kt_cuda::RowBytes(type, k), k, n, dx.p, k, ntok, dy.p, n, ws.p, 0));
      CK(cudaDeviceSynchronize());
      auto y = dy.Down();
      int wrong = 0;
      for (int t = 0; t < ntok; ++t)
        for (int i = 0; i < n; ++i) wrong += std::isnan(y[static_cast<size_t>(t) * n + i]) != (t == 2) ? 1 : 0;
      Report(Fmt("gemv-mma %s NaN in token 2 gives NaN exactly in its outputs (wrong outputs)", TypeName(type)),
             static_cast<double>(wrong), 0.0);
    }
  }
  {  // arguments it cannot take are refused, not run
    Dev<float> dx(2048), dy(64);
    Dev<uint8_t> dw(kt_cuda::RowBytes(12, 2048) * 64 + 16);
    const long long rb = kt_cuda::RowBytes(12, 2048);
    int refused = 0;
    refused += kt_cuda::GemvMma(12, dw.p, rb, 2048, 64, dx.p, 2048, 17, dy.p, 64, ws.p, 0) == cudaErrorInvalidValue;
    refused += kt_cuda::GemvMma(12, dw.p, rb, 2000, 64, dx.p, 2048, 1, dy.p, 64, ws.p, 0) == cudaErrorInvalidValue;
    refused += kt_cuda::GemvMma(12, dw.p + 8, rb, 2048, 64, dx.p, 2048, 1, dy.p, 64, ws.p, 0) == cudaErrorInvalidValue;
    refused += kt_cuda::GemvMma(15, dw.p, rb, 2048, 64, dx.p, 2048, 1, dy.p, 64, ws.p, 0) == cudaErrorInvalidValue;
    refused += kt_cuda::GemvMma(14, dw.p + 8, kt_cuda::RowBytes(14, 2048), 2048, 64, dx.p, 2048, 1, dy.p, 64, ws.p, 0) ==
               cudaErrorInvalidValue;
    (void)cudaGetLastError();
    Report("gemv-mma refuses 17 tokens, K % 256, misaligned w, type 15 (Q8_K), misaligned Q6_K w (not refused)", 5.0 - refused,
           0.0);
  }
}

void TestOps() {
  std::printf("== RMSNorm, RoPE, SiLU-gated FFN, add, router, argmax\n");
  Rng rng(2);
  for (int n : {512, 1536, 2048, 7168, 1000, 1001}) {  // 1001: the scalar path
    for (int ntok : {1, 5}) {
      for (int fused = 0; fused < 2; ++fused) {
        auto x = RandomVec(static_cast<size_t>(ntok) * n, rng), r = RandomVec(x.size(), rng), w = RandomVec(n, rng);
        std::vector<double> ref(x.size()), href(x.size());
        for (int t = 0; t < ntok; ++t) {
          double ss = 0;
          for (int i = 0; i < n; ++i) {
            const size_t j = static_cast<size_t>(t) * n + i;
            const double v = fused ? static_cast<double>(static_cast<float>(x[j] + r[j])) : x[j];
            href[j] = v;
            ss += v * v;
          }
          const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
          for (int i = 0; i < n; ++i) ref[static_cast<size_t>(t) * n + i] = href[static_cast<size_t>(t) * n + i] * inv * w[i];
        }
        Dev<float> dx(x.size()), dr(x.size()), dh(x.size()), dw(n), dy(x.size());
        dx.Up(x); dr.Up(r); dw.Up(w); dy.Poison(); dh.Poison();
        CK(kt_cuda::RmsNorm(dx.p, fused ? dr.p : nullptr, fused ? dh.p : nullptr, dw.p, dy.p, ntok, n, 1e-6f, 0));
        CK(cudaDeviceSynchronize());
        Report(Fmt("rmsnorm n %d ntok %d%s", n, ntok, fused ? " fused residual" : ""), RelErr(dy.Down(), ref), 1e-5);
        if (fused) Report(Fmt("rmsnorm residual out n %d ntok %d", n, ntok), RelErr(dh.Down(), href), 1e-6);
        if (!fused) {  // in place: y == x
          CK(kt_cuda::RmsNorm(dx.p, nullptr, nullptr, dw.p, dx.p, ntok, n, 1e-6f, 0));
          CK(cudaDeviceSynchronize());
          Report(Fmt("rmsnorm n %d ntok %d in place", n, ntok), RelErr(dx.Down(), ref), 1e-5);
        }
      }
    }
  }
  // RoPE: q_pe inside q (heads x 192, offset 128) and k_pe inside kv_a (1 x 576, offset 512).
  struct RopeCase { int heads, stride, offset; float factor; const char* what; };
  for (const RopeCase& c : {RopeCase{16, 192, 128, 40.0f, "q_pe V2-Lite-like YaRN x40"},
                            RopeCase{128, 192, 128, 40.0f, "q_pe V3 YaRN x40"},
                            RopeCase{1, 576, 512, 40.0f, "k_pe YaRN x40"},
                            RopeCase{16, 192, 128, 1.0f, "q_pe no YaRN"}}) {
    const int ntok = 7;
    kt_cuda::Yarn yr;
    yr.n_dims = 64;
    yr.freq_base = 10000.0f;
    yr.factor = c.factor;
    yr.orig_ctx = 4096;
    yr.attn_factor = 1.0f;
    float lo, hi;
    kt_cuda::YarnCorrDims(yr, &lo, &hi);
    auto x = RandomVec(static_cast<size_t>(ntok) * c.heads * c.stride, rng);
    std::vector<int> pos(ntok);
    for (int t = 0; t < ntok; ++t) pos[t] = t == 0 ? 0 : static_cast<int>(rng.Next() % 32768);
    std::vector<double> ref(x.begin(), x.end());
    for (int t = 0; t < ntok; ++t)
      for (int h = 0; h < c.heads; ++h)
        for (int i = 0; i < 32; ++i) {
          const size_t j = (static_cast<size_t>(t) * c.heads + h) * c.stride + c.offset + 2 * i;
          RefRope(x[j], x[j + 1], pos[t], i, 64, 10000.0, c.factor, lo, hi, &ref[j], &ref[j + 1]);
        }
    Dev<float> dx(x.size());
    Dev<int> dp(ntok);
    dx.Up(x);
    dp.Up(pos);
    // Out of place first: the rotated dims into a [q_lat 512 | q_pe] layout
    // (stride n_dims + 512, offset 512); everything else of y stays poisoned.
    const int ys = 512 + 64;
    Dev<float> dy(static_cast<size_t>(ntok) * c.heads * ys);
    dy.Poison();
    CK(kt_cuda::RopeYarn(dx.p, dp.p, ntok, c.heads, c.stride, c.offset, yr, 0, dy.p, ys, 512));
    CK(cudaDeviceSynchronize());
    const auto yo = dy.Down();
    std::vector<float> got;
    std::vector<double> want;
    int touched = 0;
    for (int t = 0; t < ntok; ++t)
      for (int h = 0; h < c.heads; ++h)
        for (int i = 0; i < ys; ++i) {
          const size_t j = (static_cast<size_t>(t) * c.heads + h) * ys + i;
          if (i < 512) {
            touched += std::isnan(yo[j]) ? 0 : 1;
          } else {
            got.push_back(yo[j]);
            want.push_back(ref[(static_cast<size_t>(t) * c.heads + h) * c.stride + c.offset + (i - 512)]);
          }
        }
    Report(Fmt("rope %s out of place into [512 | 64]", c.what), RelErr(got, want), 1e-5);
    Report(Fmt("rope %s out of place leaves the rest of y alone (values written)", c.what), touched, 0.0);
    CK(kt_cuda::RopeYarn(dx.p, dp.p, ntok, c.heads, c.stride, c.offset, yr, 0));
    CK(cudaDeviceSynchronize());
    Report(Fmt("rope %s (pos up to 32767)", c.what), RelErr(dx.Down(), ref), 1e-5);
  }
  {  // SiLU-gated FFN, V3 shared expert: 7168 -> 2048 (Q4_K gate/up) -> 7168 (Q6_K down), and add
    const int e = 7168, f = 2048, ntok = 2;
    auto wg = RandomWeights(12, e, f, rng), wu = RandomWeights(12, e, f, rng), wd = RandomWeights(14, f, e, rng);
    auto fg = Dequant(12, wg, e, f), fu = Dequant(12, wu, e, f), fd = Dequant(14, wd, f, e);
    auto x = RandomVec(static_cast<size_t>(ntok) * e, rng), res = RandomVec(x.size(), rng);
    auto g = RefGemv(fg, e, f, x, ntok), u = RefGemv(fu, e, f, x, ntok);
    std::vector<float> act(g.size());
    for (size_t i = 0; i < g.size(); ++i) act[i] = static_cast<float>(g[i] / (1 + std::exp(-g[i])) * u[i]);
    auto d = RefGemv(fd, f, e, act, ntok);
    std::vector<double> out(d.size());
    for (size_t i = 0; i < d.size(); ++i) out[i] = d[i] + res[i];
    Dev<uint8_t> dg(wg.size()), du(wu.size()), dd(wd.size());
    Dev<float> dx(x.size()), dr(x.size()), dgo(g.size()), duo(g.size()), da(g.size()), dy(d.size());
    dg.Up(wg); du.Up(wu); dd.Up(wd); dx.Up(x); dr.Up(res);
    dy.Poison(); da.Poison();
    CK(kt_cuda::Gemv(12, dg.p, kt_cuda::RowBytes(12, e), e, f, dx.p, e, ntok, dgo.p, f, 0));
    CK(kt_cuda::Gemv(12, du.p, kt_cuda::RowBytes(12, e), e, f, dx.p, e, ntok, duo.p, f, 0));
    CK(kt_cuda::SiluMul(dgo.p, duo.p, da.p, static_cast<long long>(g.size()), 0));
    CK(kt_cuda::Gemv(14, dd.p, kt_cuda::RowBytes(14, f), f, e, da.p, f, ntok, dy.p, e, 0));
    CK(kt_cuda::Add(dy.p, dr.p, dy.p, static_cast<long long>(d.size()), 0));
    CK(cudaDeviceSynchronize());
    std::vector<double> actd(act.begin(), act.end());
    Report("silu_mul (V3 shared expert, 2 tokens)", RelErr(da.Down(), actd), 1e-3);
    Report("ffn silu-gated + residual add (Q4_K/Q4_K/Q6_K, V3 shexp)", RelErr(dy.Down(), out), 1e-3);
  }
  // Router.
  // ties: logits on a 0.5 grid, so many experts share a score (the lower index must win).
  struct RCase { int n_expert, top_k, n_group, n_used; bool sigmoid, norm, bias, ties; float scale; const char* what; };
  for (const RCase& c : {RCase{256, 8, 8, 4, true, true, true, false, 2.5f, "V3 sigmoid groups 8/4 bias norm x2.5"},
                         RCase{64, 6, 1, 1, false, false, false, false, 1.0f, "V2-Lite softmax top6"},
                         RCase{160, 6, 8, 3, false, false, false, false, 16.0f, "V2 softmax groups 8/3 x16"},
                         RCase{384, 8, 1, 1, true, true, true, false, 2.827f, "Kimi-K2-like 384 sigmoid bias norm"},
                         RCase{1000, 32, 1, 1, false, true, false, false, 1.0f, "1000 experts top32 softmax"},
                         RCase{20, 3, 1, 1, false, false, false, false, 1.0f, "20 experts (part of one lane row)"},
                         RCase{64, 6, 1, 1, false, true, false, true, 1.0f, "ties, softmax top6"},
                         RCase{256, 8, 8, 4, true, true, false, true, 2.5f, "ties, sigmoid groups 8/4"}}) {
    const int ntok = 16;
    auto logits = RandomVec(static_cast<size_t>(ntok) * c.n_expert, rng, 4.0f);
    if (c.ties)
      for (auto& v : logits) v = std::round(2.0f * v) / 2.0f;
    auto bias = RandomVec(c.n_expert, rng, 0.5f);
    std::vector<int> ref_ids(ntok * c.top_k);
    std::vector<double> ref_w(ntok * c.top_k);
    for (int t = 0; t < ntok; ++t) {
      const float* l = logits.data() + static_cast<size_t>(t) * c.n_expert;
      std::vector<double> p(c.n_expert), s(c.n_expert);
      double mx = -1e300, sum = 0;
      for (int e = 0; e < c.n_expert; ++e) mx = std::max(mx, static_cast<double>(l[e]));
      for (int e = 0; e < c.n_expert; ++e) { p[e] = c.sigmoid ? 1 / (1 + std::exp(-l[e])) : std::exp(l[e] - mx); sum += p[e]; }
      for (int e = 0; e < c.n_expert; ++e) { if (!c.sigmoid) p[e] /= sum; s[e] = p[e] + (c.bias ? bias[e] : 0); }
      if (c.n_group > 1) {
        const int gs = c.n_expert / c.n_group;
        std::vector<std::pair<double, int>> gsc;
        for (int gi = 0; gi < c.n_group; ++gi) {
          std::vector<double> v(s.begin() + gi * gs, s.begin() + (gi + 1) * gs);
          std::sort(v.rbegin(), v.rend());
          gsc.push_back({-(v[0] + v[1]), gi});
        }
        std::sort(gsc.begin(), gsc.end());
        std::vector<bool> keep(c.n_group, false);
        for (int i = 0; i < c.n_used; ++i) keep[gsc[i].second] = true;
        for (int e = 0; e < c.n_expert; ++e) if (!keep[e / gs]) s[e] = -1e300;
      }
      std::vector<std::pair<double, int>> order;
      for (int e = 0; e < c.n_expert; ++e) order.push_back({-s[e], e});
      std::sort(order.begin(), order.end());
      double ws = 0;
      for (int k = 0; k < c.top_k; ++k) ws += p[order[k].second];
      for (int k = 0; k < c.top_k; ++k) {
        ref_ids[t * c.top_k + k] = order[k].second;
        ref_w[t * c.top_k + k] = p[order[k].second] / (c.norm ? ws : 1.0) * c.scale;
      }
    }
    Dev<float> dl(logits.size()), db(bias.size()), dwt(ref_w.size());
    Dev<int> di(ref_ids.size());
    dl.Up(logits); db.Up(bias); dwt.Poison(); di.Poison();
    kt_cuda::Router r;
    r.n_expert = c.n_expert; r.top_k = c.top_k; r.n_group = c.n_group; r.n_group_used = c.n_used;
    r.sigmoid = c.sigmoid; r.norm = c.norm; r.scale = c.scale;
    CK(kt_cuda::Route(dl.p, c.bias ? db.p : nullptr, ntok, r, di.p, dwt.p, 0));
    CK(cudaDeviceSynchronize());
    auto ids = di.Down();
    int mism = 0;
    for (size_t i = 0; i < ids.size(); ++i) mism += ids[i] != ref_ids[i];
    Report(Fmt("router %s: expert ids (%d mismatches)", c.what, mism), mism ? 1.0 : 0.0, 0);
    Report(Fmt("router %s: weights", c.what), RelErr(dwt.Down(), ref_w), 1e-5);
  }
  {  // lm_head (Q6_K, V2-Lite vocab) + argmax
    const int e = 2048, vocab = 102400, ntok = 3;
    auto w = RandomWeights(14, e, vocab, rng);
    auto wf = Dequant(14, w, e, vocab);
    auto x = RandomVec(static_cast<size_t>(ntok) * e, rng);
    auto ref = RefGemv(wf, e, vocab, x, ntok);
    Dev<uint8_t> dw(w.size());
    Dev<float> dx(x.size()), dl(ref.size()), dv(ntok);
    Dev<int> di(ntok);
    dw.Up(w); dx.Up(x); dl.Poison(); di.Poison();
    CK(kt_cuda::Gemv(14, dw.p, kt_cuda::RowBytes(14, e), e, vocab, dx.p, e, ntok, dl.p, vocab, 0));
    CK(kt_cuda::Argmax(dl.p, ntok, vocab, di.p, dv.p, 0));
    CK(cudaDeviceSynchronize());
    auto logits = dl.Down();
    Report("lm_head Q6_K 2048->102400 ntok 3", RelErr(logits, ref), 1e-3);
    auto idx = di.Down();
    int bad = 0;
    for (int t = 0; t < ntok; ++t) {
      const float* l = logits.data() + static_cast<size_t>(t) * vocab;
      const int want = static_cast<int>(std::max_element(l, l + vocab) - l);  // first max
      if (idx[t] != want) ++bad;
    }
    Report(Fmt("argmax over 102400 logits, 3 tokens (%d wrong)", bad), bad ? 1.0 : 0.0, 0);
  }
}

std::vector<double> RefMla(const std::vector<float>& q, const std::vector<uint16_t>& cache, int ntok, int heads,
                           int kv_len, float scale) {
  std::vector<double> out(static_cast<size_t>(ntok) * heads * 512);
  std::vector<float> cf(cache.size());
  for (size_t i = 0; i < cache.size(); ++i) cf[i] = Bf16ToFloat(cache[i]);
  ParallelFor(static_cast<long long>(ntok) * heads, [&](long long a, long long b) {
    std::vector<double> s(kv_len);
    for (long long th = a; th < b; ++th) {
      const int t = static_cast<int>(th / heads);
      const int len = kv_len - (ntok - 1 - t);
      const float* qv = q.data() + th * 576;
      double mx = -1e300;
      for (int j = 0; j < len; ++j) {
        double d = 0;
        for (int c = 0; c < 576; ++c) d += static_cast<double>(qv[c]) * cf[static_cast<size_t>(j) * 576 + c];
        s[j] = d * scale;
        mx = std::max(mx, s[j]);
      }
      double sum = 0;
      for (int j = 0; j < len; ++j) { s[j] = std::exp(s[j] - mx); sum += s[j]; }
      double* o = out.data() + th * 512;
      for (int j = 0; j < len; ++j)
        for (int c = 0; c < 512; ++c) o[c] += s[j] / sum * cf[static_cast<size_t>(j) * 576 + c];
    }
  });
  return out;
}

void TestMla(bool quick) {
  std::printf("== MLA decode attention (bf16 latent cache, tensor cores)\n");
  Rng rng(3);
  struct Case { int heads, kv, ntok; };
  std::vector<Case> cases = {{16, 1000, 1}, {16, 4096, 1}, {16, 4096, 4}, {128, 4096, 1}, {128, 777, 3}, {20, 130, 2}, {80, 500, 2}, {64, 33, 1}, {100, 9000, 2}};
  if (!quick) { cases.push_back({16, 32768, 1}); cases.push_back({128, 32768, 1}); }
  for (const Case& c : cases) {
    const float scale = 1.0f / std::sqrt(192.0f);
    auto q = RandomVec(static_cast<size_t>(c.ntok) * c.heads * 576, rng);
    std::vector<uint16_t> cache(static_cast<size_t>(c.kv) * 576);
    for (auto& v : cache) v = FloatToBf16(rng.Sym());
    auto ref = RefMla(q, cache, c.ntok, c.heads, c.kv, scale);
    Dev<float> dq(q.size()), dout(ref.size());
    Dev<uint16_t> dc(cache.size());
    Dev<uint8_t> ws(kt_cuda::MlaDecodeWorkspaceBytes(c.ntok, c.heads, c.kv));
    dq.Up(q); dc.Up(cache);
    CK(cudaMemset(ws.p, 0xFF, ws.n));  // a workspace as cudaMalloc may return it: anything
    for (int config = 0; config < kt_cuda::kMlaDecodeConfigs; ++config) {  // automatic, then every block shape
      if (const char* only = std::getenv("KT_TEST_MLA_CONFIGS"); only && !InList(only, Fmt("%d", config).c_str())) continue;
      if (!kt_cuda::MlaDecodeConfigRuns(config)) continue;
      dout.Poison();
      CK(kt_cuda::MlaDecode(dq.p, dc.p, c.ntok, c.heads, c.kv, scale, dout.p, ws.p, 0, config));
      CK(cudaDeviceSynchronize());
      Report(Fmt("mla decode heads %d kv %d ntok %d config %d", c.heads, c.kv, c.ntok, config),
             RelErr(dout.Down(), ref), 1e-2);
    }
  }
  {  // bulk copies need 16-byte aligned cache rows: a misaligned cache is refused, not read
    Dev<float> dq(16 * 576), dout(16 * 512);
    Dev<uint16_t> dc(64 * 576 + 8);
    Dev<uint8_t> ws(kt_cuda::MlaDecodeWorkspaceBytes(1, 16, 64));
    const cudaError_t e = kt_cuda::MlaDecode(dq.p, dc.p + 1, 1, 16, 64, 0.1f, dout.p, ws.p, 0);
    Report("mla decode refuses a cache that is not 16-byte aligned", e == cudaErrorInvalidValue ? 0.0 : 1.0, 0.0);
    (void)cudaGetLastError();
  }
  // The kernel just before MLA appends this step's cache rows (as a decode
  // step does); the rows start as NaN, so reading them before that kernel
  // finished would show. (F32ToBf16 is a kernel: it stands in for the append.)
  for (const Case& c : {Case{16, 40, 1}, Case{128, 9000, 2}, Case{16, 130, 3}, Case{16, 17000, 2}}) {
    const float scale = 1.0f / std::sqrt(192.0f);
    auto q = RandomVec(static_cast<size_t>(c.ntok) * c.heads * 576, rng);
    auto rows = RandomVec(static_cast<size_t>(c.ntok) * 576, rng);
    std::vector<uint16_t> cache(static_cast<size_t>(c.kv) * 576);
    for (auto& v : cache) v = FloatToBf16(rng.Sym());
    const size_t first_new = static_cast<size_t>(c.kv - c.ntok) * 576;
    for (size_t i = 0; i < rows.size(); ++i) cache[first_new + i] = FloatToBf16(rows[i]);
    auto ref = RefMla(q, cache, c.ntok, c.heads, c.kv, scale);
    for (size_t i = 0; i < rows.size(); ++i) cache[first_new + i] = 0xFFFF;  // NaN until appended
    Dev<float> dq(q.size()), drows(rows.size()), dout(ref.size());
    Dev<uint16_t> dc(cache.size());
    Dev<uint8_t> ws(kt_cuda::MlaDecodeWorkspaceBytes(c.ntok, c.heads, c.kv));
    dq.Up(q); drows.Up(rows); dc.Up(cache); dout.Poison();
    CK(kt_cuda::F32ToBf16(drows.p, dc.p + first_new, static_cast<long long>(rows.size()), 0));
    CK(kt_cuda::MlaDecode(dq.p, dc.p, c.ntok, c.heads, c.kv, scale, dout.p, ws.p, 0));
    CK(cudaDeviceSynchronize());
    Report(Fmt("mla decode heads %d kv %d ntok %d, rows appended by the kernel before", c.heads, c.kv, c.ntok),
           RelErr(dout.Down(), ref), 1e-2);
  }
  // Calls back to back on one stream (programmatic dependents of each other
  // on sm_90) sharing one workspace, shapes and kernels changing from call to
  // call: each call's merge must see only its own splits (one that read
  // another call's partials would be off). Then the same calls again, so
  // every one also runs after each of the others.
  {
    struct Call { Case c; int config; };
    const Call calls[] = {{{16, 17000, 1}, 0}, {{16, 4096, 2}, 0}, {{128, 9000, 1}, 0}, {{16, 33000, 1}, 6},
                          {{16, 700, 3}, 2},   {{128, 4096, 2}, 5}, {{16, 17000, 1}, 1}};
    size_t wsb = 0;
    for (const Call& k : calls) wsb = std::max(wsb, kt_cuda::MlaDecodeWorkspaceBytes(k.c.ntok, k.c.heads, k.c.kv));
    Dev<uint8_t> ws(wsb);
    CK(cudaMemset(ws.p, 0xFF, ws.n));
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    const float scale = 1.0f / std::sqrt(192.0f);
    struct Run { std::unique_ptr<Dev<float>> q, out; std::unique_ptr<Dev<uint16_t>> cache; std::vector<double> ref; bool ran; };
    std::vector<Run> runs;
    for (const Call& k : calls) {
      auto q = RandomVec(static_cast<size_t>(k.c.ntok) * k.c.heads * 576, rng);
      std::vector<uint16_t> cache(static_cast<size_t>(k.c.kv) * 576);
      for (auto& v : cache) v = FloatToBf16(rng.Sym());
      Run r{std::make_unique<Dev<float>>(q.size()), std::make_unique<Dev<float>>(static_cast<size_t>(k.c.ntok) * k.c.heads * 512),
            std::make_unique<Dev<uint16_t>>(cache.size()), RefMla(q, cache, k.c.ntok, k.c.heads, k.c.kv, scale),
            kt_cuda::MlaDecodeConfigRuns(k.config)};
      r.q->Up(q);
      r.cache->Up(cache);
      runs.push_back(std::move(r));
    }
    for (int round = 0; round < 2; ++round) {
      for (Run& r : runs) r.out->Poison();
      for (size_t i = 0; i < runs.size(); ++i)
        if (runs[i].ran)
          CK(kt_cuda::MlaDecode(runs[i].q->p, runs[i].cache->p, calls[i].c.ntok, calls[i].c.heads, calls[i].c.kv, scale,
                                runs[i].out->p, ws.p, st, calls[i].config));
      CK(cudaStreamSynchronize(st));
      for (size_t i = 0; i < runs.size(); ++i)
        if (runs[i].ran)
          Report(Fmt("mla decode back to back, shared workspace: call %zu round %d (heads %d kv %d ntok %d config %d)", i,
                     round, calls[i].c.heads, calls[i].c.kv, calls[i].c.ntok, calls[i].config),
                 RelErr(runs[i].out->Down(), runs[i].ref), 1e-2);
    }
    CK(cudaStreamDestroy(st));
  }
}

void TestMlaPrefill() {
  std::printf("== MLA prefill attention (non-absorbed, causal, tensor cores)\n");
  Rng rng(12);
  struct Case { int H, T, S; };
  for (const Case& c : {Case{16, 300, 300}, Case{16, 100, 230}, Case{128, 256, 256}, Case{20, 65, 65}, Case{3, 1, 7}}) {
    auto bf = [&](size_t n) {
      std::vector<uint16_t> v(n);
      for (auto& x : v) x = FloatToBf16(rng.Sym());
      return v;
    };
    auto q = bf(static_cast<size_t>(c.T) * c.H * 192), kn = bf(static_cast<size_t>(c.S) * c.H * 128),
         kp = bf(static_cast<size_t>(c.S) * 64), v = bf(static_cast<size_t>(c.S) * c.H * 128);
    const float scale = 1.0f / std::sqrt(192.0f);
    std::vector<double> ref(static_cast<size_t>(c.T) * c.H * 128);
    ParallelFor(static_cast<long long>(c.T) * c.H, [&](long long a, long long b) {
      std::vector<double> sc(c.S);
      for (long long th = a; th < b; ++th) {
        const int t = static_cast<int>(th / c.H), h = static_cast<int>(th % c.H);
        const int len = c.S - c.T + t + 1;
        double mx = -1e300;
        for (int j = 0; j < len; ++j) {
          double d = 0;
          for (int i = 0; i < 128; ++i)
            d += static_cast<double>(Bf16ToFloat(q[th * 192 + i])) * Bf16ToFloat(kn[(static_cast<size_t>(j) * c.H + h) * 128 + i]);
          for (int i = 0; i < 64; ++i)
            d += static_cast<double>(Bf16ToFloat(q[th * 192 + 128 + i])) * Bf16ToFloat(kp[static_cast<size_t>(j) * 64 + i]);
          sc[j] = d * scale;
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (int j = 0; j < len; ++j) { sc[j] = std::exp(sc[j] - mx); sum += sc[j]; }
        for (int j = 0; j < len; ++j)
          for (int i = 0; i < 128; ++i)
            ref[th * 128 + i] += sc[j] / sum * Bf16ToFloat(v[(static_cast<size_t>(j) * c.H + h) * 128 + i]);
      }
    });
    Dev<uint16_t> dq(q.size()), dkn(kn.size()), dkp(kp.size()), dv(v.size());
    Dev<float> dout(ref.size());
    dq.Up(q); dkn.Up(kn); dkp.Up(kp); dv.Up(v); dout.Poison();
    CK(kt_cuda::MlaPrefill(dq.p, dkn.p, dkp.p, dv.p, c.T, c.S, c.H, scale, dout.p, 0));
    CK(cudaDeviceSynchronize());
    Report(Fmt("mla prefill heads %d T %d S %d", c.H, c.T, c.S), RelErr(dout.Down(), ref), 1e-2);
  }
}

void TestPrefill() {
  std::printf("== prefill GEMM (tensor cores, quantised weights dequantised to bf16 tiles)\n");
  Rng rng(4);
  struct Case { int type, k, n, m; };
  for (const Case& c : {Case{12, 2048, 1408, 77}, Case{12, 7168, 2048, 256}, Case{14, 2048, 576, 130},
                        Case{8, 1536, 3072, 64}, Case{13, 512, 200, 33}, Case{30, 768, 640, 100}}) {
    if (!kt_cuda::GemmSupports(c.type)) continue;
    auto w = RandomWeights(c.type, c.k, c.n, rng);
    auto wf = Dequant(c.type, w, c.k, c.n);
    auto x = RandomVec(static_cast<size_t>(c.m) * c.k, rng);
    // Reference in f32/double on the unrounded inputs: stricter than comparing
    // with the kernel's bf16 operands.
    auto ref = RefGemv(wf, c.k, c.n, x, c.m);
    Dev<uint8_t> dw(w.size());
    Dev<float> dx(x.size()), dy(ref.size());
    dw.Up(w); dx.Up(x); dy.Poison();
    Dev<uint16_t> dxb(x.size());
    CK(kt_cuda::Gemm(c.type, dw.p, kt_cuda::RowBytes(c.type, c.k), c.k, c.n, dx.p, c.m, dy.p, dxb.p, 0));
    CK(cudaDeviceSynchronize());
    Report(Fmt("gemm %-4s %5d->%-5d m %d (vs f32 ref)", TypeName(c.type), c.k, c.n, c.m), RelErr(dy.Down(), ref), 1e-2);
    // Dequantise + cuBLAS, with scratch for only 64 weight rows (many chunks).
    const size_t sb = kt_cuda::GemmCublasScratchBytes(c.k, c.m, 64);
    Dev<uint8_t> scratch(sb);
    dy.Poison();
    CK(kt_cuda::GemmCublas(g_blas, c.type, dw.p, kt_cuda::RowBytes(c.type, c.k), c.k, c.n, dx.p, c.m, dy.p, scratch.p,
                           sb, 0));
    CK(cudaDeviceSynchronize());
    Report(Fmt("gemm-cublas %-4s %5d->%-5d m %d (64-row chunks)", TypeName(c.type), c.k, c.n, c.m),
           RelErr(dy.Down(), ref), 1e-2);
  }
  {  // the dequantiser alone: every value within bf16 rounding (2^-8 relative) of the CPU decoder
    const int k = 512, n = 33;
    for (int type : {12, 13, 14, 8, 30, 1}) {
      auto w = RandomWeights(type, k, n, rng);
      auto wf = Dequant(type, w, k, n);
      Dev<uint8_t> dw(w.size());
      Dev<uint16_t> out(static_cast<size_t>(k) * n);
      dw.Up(w);
      CK(cudaMemset(out.p, 0xff, out.n * 2));  // NaN bf16
      CK(kt_cuda::DequantizeBf16(type, dw.p, kt_cuda::RowBytes(type, k), k, n, out.p, 0));
      CK(cudaDeviceSynchronize());
      std::vector<uint16_t> got(out.n);
      CK(cudaMemcpy(got.data(), out.p, out.n * 2, cudaMemcpyDeviceToHost));
      double wrong = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        const float g = Bf16ToFloat(got[i]);
        wrong += !(std::fabs(g - wf[i]) <= std::ldexp(std::fabs(wf[i]), -8));  // NaN counts as wrong
      }
      Report(Fmt("dequant-bf16 %-4s %d x %d (values off by more than bf16 rounding)", TypeName(type), n, k), wrong, 0.0);
    }
  }
}

// ---------------------------------------------------------------- benchmarks

void BenchCeilings(cublasHandle_t h) {
  const size_t bytes = 2ull << 30;
  Dev<uint8_t> a(bytes), b(bytes);
  CK(cudaMemset(a.p, 1, bytes));
  const double us = TimeGraph([&](cudaStream_t s, int) { CK(cudaMemcpyAsync(b.p, a.p, bytes, cudaMemcpyDeviceToDevice, s)); }, 4, 7);
  const double us_k = TimeGraph([&](cudaStream_t s, int) { CK(kt_cuda::CopyKernel(a.p, b.p, bytes, s)); }, 4, 7);
  std::printf("copy 2 GiB: cudaMemcpyAsync %.0f GB/s, copy kernel %.0f GB/s (read+write); ceiling = the larger\n",
              2.0 * bytes / us / 1e3, 2.0 * bytes / us_k / 1e3);
  g_bw = 2.0 * bytes / std::min(us, us_k) / 1e3;
  const int n = 8192;
  Dev<uint16_t> x(static_cast<size_t>(n) * n), y(static_cast<size_t>(n) * n), z(static_cast<size_t>(n) * n);
  Rng rng(9);
  std::vector<uint16_t> hv(static_cast<size_t>(n) * n);
  for (auto& v : hv) v = FloatToBf16(rng.Sym());
  x.Up(hv); y.Up(hv);
  const float one = 1.0f, zero = 0.0f;
  const double gus = TimeGraph([&](cudaStream_t s, int) {
    CB(cublasSetStream(h, s));
    CB(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, x.p, CUDA_R_16BF, n, y.p, CUDA_R_16BF, n, &zero,
                    z.p, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }, 3, 7);
  g_tflops = 2.0 * n * n * static_cast<double>(n) / gus / 1e6;
  std::printf("ceilings: device-to-device copy %.0f GB/s (read+write), cuBLAS bf16 GEMM 8192^3 %.0f TFLOP/s\n", g_bw, g_tflops);
}

void BenchGemv(cublasHandle_t h, bool quick) {
  // KT_BENCH_GEMV=new: only cuBLAS, the tensor-core and the int8 GEMVs; =mma: cuBLAS and GemvMma;
  // KT_BENCH_SHAPE=KxN: one shape.
  const char* which = std::getenv("KT_BENCH_GEMV");
  const bool gemv_new_only = which && std::strcmp(which, "new") == 0;
  const bool gemv_mma_only = which && std::strcmp(which, "mma") == 0;
  struct Shape { int k, n; };
  // The issue's four V3 decode shapes, then V3's o_proj (the layer's largest matrix).
  const Shape shapes[] = {{7168, 2048}, {2048, 7168}, {7168, 18432}, {1536, 24576}, {16384, 7168}};
  Rng rng(5);
  {  // what a launch costs with (almost) no bytes: the floor under the small shapes
    const int k = 7168, n = 8;
    Rng r0(3);
    auto w = RandomWeights(12, k, n, r0);
    Dev<uint8_t> dw(w.size());
    dw.Up(w);
    std::vector<uint16_t> hwb(static_cast<size_t>(k) * n, FloatToBf16(0.01f));
    Dev<uint16_t> dwb(hwb.size()), xb(k);
    dwb.Up(hwb);
    std::vector<uint16_t> hx(k, FloatToBf16(0.5f));
    xb.Up(hx);
    Dev<float> x(k), y(n);
    x.Up(std::vector<float>(k, 0.5f));
    Dev<uint8_t> ws(kt_cuda::GemvI8WorkspaceBytes(k));
    const float one = 1.0f, zero = 0.0f;
    const double peer = TimeGraph([&](cudaStream_t st, int) {
      CB(cublasSetStream(h, st));
      CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, 1, k, &one, dwb.p, CUDA_R_16BF, k, xb.p, CUDA_R_16BF, k, &zero,
                      y.p, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }, 40);
    g_rows.push_back({Fmt("cuBLAS bf16 GEMV %d->%d (launch floor)", k, n), peer, 0, 0, 0, 0, "GB/s"});
    const double us = TimeGraph([&](cudaStream_t st, int) {
      CK(kt_cuda::GemvI8(12, dw.p, kt_cuda::RowBytes(12, k), k, n, x.p, k, 1, y.p, n, ws.p, st));
    }, 40);
    g_rows.push_back({Fmt("kt Q4_K GEMV-I8 %d->%d (launch floor: quantiser + GEMV)", k, n), us, 0, 0, peer, peer / us, "GB/s"});
  }
  const char* shape_only = std::getenv("KT_BENCH_SHAPE");  // e.g. 7168x18432
  for (const Shape& s : shapes) {
    if (shape_only && Fmt("%dx%d", s.k, s.n) != shape_only) continue;
    // cuBLAS peer: bf16 weights (what a dequantise-then-GEMV path reads).
    const size_t wbf = static_cast<size_t>(s.k) * s.n * 2;
    const int ncopy_bf = static_cast<int>(std::max<size_t>(2, (400ull << 20) / wbf + 1));
    std::vector<uint16_t> hw(static_cast<size_t>(s.k) * s.n);
    for (auto& v : hw) v = FloatToBf16(0.01f * rng.Sym());
    std::vector<Dev<uint16_t>*> bfw;
    for (int i = 0; i < ncopy_bf; ++i) { bfw.push_back(new Dev<uint16_t>(hw.size())); bfw.back()->Up(hw); }
    for (int ntok : {1, 2, 4, 8, 16}) {
      if (quick && ntok != 1) continue;
      if ((ntok == 2 || ntok == 4) && !gemv_new_only && !gemv_mma_only) continue;  // the crossover, in the short modes
      Dev<uint16_t> xb(static_cast<size_t>(ntok) * s.k);
      Dev<float> x(static_cast<size_t>(ntok) * s.k), y(static_cast<size_t>(ntok) * s.n);
      std::vector<uint16_t> hx(xb.n);
      std::vector<float> hxf(x.n);
      for (size_t i = 0; i < hx.size(); ++i) { hxf[i] = rng.Sym(); hx[i] = FloatToBf16(hxf[i]); }
      xb.Up(hx); x.Up(hxf);
      const float one = 1.0f, zero = 0.0f;
      const double peer = TimeGraph([&](cudaStream_t st, int i) {
        CB(cublasSetStream(h, st));
        CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, s.n, ntok, s.k, &one, bfw[i % ncopy_bf]->p, CUDA_R_16BF, s.k,
                        xb.p, CUDA_R_16BF, s.k, &zero, y.p, CUDA_R_32F, s.n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      }, 40);
      const double peer_bytes = static_cast<double>(wbf) + ntok * (2.0 * s.k + 4.0 * s.n);
      g_rows.push_back({Fmt("cuBLAS bf16 GEMV %d->%d ntok %d", s.k, s.n, ntok), peer, peer_bytes / peer / 1e3,
                        peer_bytes / peer / 1e3 / g_bw, 0, 0, "GB/s"});
      for (int type : {12, 8}) {  // tensor-core GEMV
        if (gemv_mma_only) break;
        const long long rb = kt_cuda::RowBytes(type, s.k);
        const WeightCopies dws(type, s.k, s.n, rng);
        const size_t wq = dws.bytes;
        Dev<uint8_t> ws(kt_cuda::GemvTcWorkspaceBytes(s.k));
        const double us = TimeGraph([&](cudaStream_t st, int i) {
          CK(kt_cuda::GemvTc(type, dws[i], rb, s.k, s.n, x.p, s.k, ntok, y.p, s.n, ws.p, st));
        }, 40);
        const double bytes = static_cast<double>(wq) + ntok * 4.0 * (s.k + s.n);
        g_rows.push_back({Fmt("kt %s GEMV-TC %d->%d ntok %d", TypeName(type), s.k, s.n, ntok), us, bytes / us / 1e3,
                          bytes / us / 1e3 / g_bw, peer, peer / us, "GB/s"});
      }
      for (int type : {12, 13, 8, 14}) {  // int8 tensor-core GEMV, up to 16 tokens per launch
        const long long rb = kt_cuda::RowBytes(type, s.k);
        const WeightCopies dws(type, s.k, s.n, rng);
        const size_t wq = dws.bytes;
        Dev<uint8_t> ws(kt_cuda::GemvMmaWorkspaceBytes(s.k));
        for (int mt : {1, 2}) {
          if (mt == 2 && (quick || ntok == 1)) continue;
          const double us = TimeGraph([&](cudaStream_t st, int i) {
            CK(kt_cuda::GemvMma(type, dws[i], rb, s.k, s.n, x.p, s.k, ntok, y.p, s.n, ws.p, st, mt));
          }, 40);
          const double bytes = static_cast<double>(wq) + ntok * 4.0 * (s.k + s.n);
          g_rows.push_back({Fmt("kt %s GEMV-MMA %d->%d ntok %d tiles %d", TypeName(type), s.k, s.n, ntok, mt), us,
                            bytes / us / 1e3, bytes / us / 1e3 / g_bw, peer, peer / us, "GB/s"});
        }
      }
      for (int type : {12, 8, 14}) {  // int8-activation dp4a GEMV
        if (gemv_mma_only) break;
        const long long rb = kt_cuda::RowBytes(type, s.k);
        const WeightCopies dws(type, s.k, s.n, rng);
        const size_t wq = dws.bytes;
        Dev<uint8_t> ws(kt_cuda::GemvI8WorkspaceBytes(s.k));
        if (ntok <= 8) {  // x quantised once outside the timed graph: the GEMV alone
          CK(kt_cuda::GemvI8Quantize(type, x.p, s.k, ntok, s.k, ws.p, 0));
          CK(cudaDeviceSynchronize());
          const double us = TimeGraph([&](cudaStream_t st, int i) {
            CK(kt_cuda::GemvI8Prepared(type, dws[i], rb, s.k, s.n, ntok, y.p, s.n, ws.p, st));
          }, 40);
          const double bytes = static_cast<double>(wq) + ntok * 4.0 * s.n;
          g_rows.push_back({Fmt("kt %s GEMV-I8 %d->%d ntok %d (x already quantised)", TypeName(type), s.k, s.n, ntok),
                            us, bytes / us / 1e3, bytes / us / 1e3 / g_bw, peer, peer / us, "GB/s"});
        }
        for (int rpw : {0, 1, 2, 4}) {
          if (rpw && ntok != 1) continue;
          if (rpw == 4 && type == 14) continue;
          if (ntok >= 3) continue;  // GemvI8 runs GemvMma there (rows above)
          const double us = TimeGraph([&](cudaStream_t st, int i) {
            CK(kt_cuda::GemvI8(type, dws[i], rb, s.k, s.n, x.p, s.k, ntok, y.p, s.n, ws.p, st, rpw));
          }, 40);
          const double bytes = static_cast<double>(wq) + ntok * 4.0 * (s.k + s.n);
          g_rows.push_back({Fmt("kt %s GEMV-I8 %d->%d ntok %d%s", TypeName(type), s.k, s.n, ntok,
                                rpw ? Fmt(" rpw %d", rpw).c_str() : ""),
                            us, bytes / us / 1e3, bytes / us / 1e3 / g_bw, peer, peer / us, "GB/s"});
        }
      }
      if (gemv_new_only || gemv_mma_only) continue;
      for (int type : {12, 8, 14, 13, 30}) {
        if (ntok != 1 && type != 12 && type != 8) continue;
        if (quick && type != 12 && type != 8) continue;
        const long long rb = kt_cuda::RowBytes(type, s.k);
        const WeightCopies dws(type, s.k, s.n, rng);
        const size_t wq = dws.bytes;
        for (int rpb : {0, 2, 8}) {
          if (rpb && (ntok != 1 || quick)) continue;
          const double us = TimeGraph([&](cudaStream_t st, int i) {
            CK(kt_cuda::Gemv(type, dws[i], rb, s.k, s.n, x.p, s.k, ntok, y.p, s.n, st, 1, 0, 0, 0, rpb));
          }, 40);
          const double bytes = static_cast<double>(wq) + ntok * 4.0 * (s.k + s.n);
          g_rows.push_back({Fmt("kt %s GEMV %d->%d ntok %d rpb %d", TypeName(type), s.k, s.n, ntok, rpb ? rpb : 4),
                            us, bytes / us / 1e3, bytes / us / 1e3 / g_bw, peer, peer / us, "GB/s"});
        }
      }
    }
    for (auto* p : bfw) delete p;
  }
}

// MLA's access pattern without its math: each block streams a contiguous
// range of 1152-byte rows into a ring of ST stages of ROWS rows (warp 0
// issues one bulk copy per row; everyone waits on the stage's mbarrier and
// meets at a barrier per stage, as the decode kernel does). What this reads
// per second bounds the decode kernel at the same split.
template <int ST, int ROWS>
__global__ void __launch_bounds__(256, 1) StreamProbeKernel(const uint16_t* src, int rows_per_block, float* sink) {
  extern __shared__ __align__(16) unsigned char raw[];
  uint16_t* ring = reinterpret_cast<uint16_t*>(raw);
  unsigned long long* bar = reinterpret_cast<unsigned long long*>(raw + ST * ROWS * 1168);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const uint16_t* base = src + static_cast<long long>(blockIdx.x) * rows_per_block * 576;
  const int ntiles = rows_per_block / ROWS;
  if (threadIdx.x == 0)
    for (int i = 0; i < ST; ++i) kt_cuda::MbarInit(&bar[i]);
  __syncthreads();
  auto load = [&](int j) {
    if (j < ntiles && warp == 0) {
      if (lane == 0) kt_cuda::MbarExpectTx(&bar[j % ST], ROWS * 1152);
      __syncwarp();
      for (int r = lane; r < ROWS; r += 32)
        kt_cuda::BulkG2S(ring + (static_cast<long long>(j % ST) * ROWS + r) * 584,
                         base + (static_cast<long long>(j) * ROWS + r) * 576, 1152, &bar[j % ST]);
    }
  };
  for (int j = 0; j < ST - 1; ++j) load(j);
  float acc = 0.0f;
  for (int j = 0; j < ntiles; ++j) {
    kt_cuda::MbarWait(&bar[j % ST], (j / ST) & 1);
    __syncthreads();
    load(j + ST - 1);
    acc += static_cast<float>(ring[(static_cast<long long>(j % ST) * ROWS + (threadIdx.x % ROWS)) * 584 + threadIdx.x]);
  }
  if (acc == 12345.0f) sink[0] = acc;  // keeps the reads
}

template <int ST, int ROWS>
void BenchStreamProbe(int blocks, int rows_total) {
  const int per = rows_total / blocks / ROWS * ROWS;
  const size_t bytes = static_cast<size_t>(per) * blocks * 1152;
  const int ncopy = static_cast<int>(std::max<size_t>(2, (300ull << 20) / bytes + 1));
  std::vector<std::unique_ptr<Dev<uint16_t>>> bufs;
  for (int i = 0; i < ncopy; ++i) {
    bufs.emplace_back(new Dev<uint16_t>(bytes / 2));
    CK(cudaMemset(bufs.back()->p, 0, bytes));
  }
  Dev<float> sink(1);
  const int smem = ST * ROWS * 1168 + 8 * ST;
  CK(cudaFuncSetAttribute(StreamProbeKernel<ST, ROWS>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  const double us = TimeGraph([&](cudaStream_t st, int i) {
    StreamProbeKernel<ST, ROWS><<<blocks, 256, smem, st>>>(bufs[i % ncopy]->p, per, sink.p);
    CK(cudaGetLastError());
  }, 20);
  g_rows.push_back({Fmt("probe: MLA stream pattern %d blocks x %d rows, %d stages of %d rows (no math)", blocks, per,
                        ST, ROWS),
                    us, bytes / us / 1e3, bytes / us / 1e3 / g_bw, 0, 0, "GB/s"});
}

void BenchMla() {
  if (const char* p = std::getenv("KT_BENCH_MLA"); p && std::strcmp(p, "all") == 0) {
    const int sms = [] { int d = 0, n = 0; cudaGetDevice(&d); cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, d); return n; }();
    BenchStreamProbe<2, 64>(128, 32768);
    BenchStreamProbe<5, 32>(128, 32768);
    BenchStreamProbe<3, 64>(sms, 32768 * 4);
    BenchStreamProbe<5, 32>(sms, 32768 * 4);
    BenchStreamProbe<5, 32>(128, 4096);
  }
  Rng rng(6);
  const char* shape_only = std::getenv("KT_BENCH_SHAPE");  // e.g. mla16x32768
  std::vector<int> ctxs = {4096, 32768};
  if (const char* c = std::getenv("KT_BENCH_MLA_CTX")) {  // e.g. 8192,16384
    ctxs.clear();
    for (const char* p = c; *p;) {
      char* end = nullptr;
      const long v = std::strtol(p, &end, 10);
      if (end == p || v <= 0) break;
      ctxs.push_back(static_cast<int>(v));
      p = *end == ',' ? end + 1 : end;
    }
  }
  for (int heads : {16, 128})
    for (int kv : ctxs) {
      if (shape_only && Fmt("mla%dx%d", heads, kv) != shape_only) continue;
      const int ntok = 1;
      const size_t cb = static_cast<size_t>(kv) * 576 * 2;
      const int ncopy = static_cast<int>(std::max<size_t>(2, (300ull << 20) / cb + 1));
      std::vector<uint16_t> hc(static_cast<size_t>(kv) * 576);
      for (auto& v : hc) v = FloatToBf16(rng.Sym());
      std::vector<Dev<uint16_t>*> cs;
      for (int i = 0; i < ncopy; ++i) { cs.push_back(new Dev<uint16_t>(hc.size())); cs.back()->Up(hc); }
      auto hq = RandomVec(static_cast<size_t>(ntok) * heads * 576, rng);
      Dev<float> q(hq.size()), out(static_cast<size_t>(ntok) * heads * 512);
      q.Up(hq);
      Dev<uint8_t> ws(kt_cuda::MlaDecodeWorkspaceBytes(ntok, heads, kv));
      const float scale = 1.0f / std::sqrt(192.0f);
      const double bytes = static_cast<double>(cb) + hq.size() * 4.0 + out.n * 4.0;
      const double flops = 2.0 * heads * kv * (576.0 + 512.0);
      // config 0 = what MlaDecode picks; with KT_BENCH_MLA=all also every block shape
      const char* all = std::getenv("KT_BENCH_MLA");
      const char* cfgs = std::getenv("KT_BENCH_MLA_CONFIGS");  // e.g. 0,6
      for (int config = 0; config < kt_cuda::kMlaDecodeConfigs; ++config) {
        if (cfgs ? !InList(cfgs, Fmt("%d", config).c_str()) : (config > 0 && !(all && std::strcmp(all, "all") == 0)))
          continue;
        if (!kt_cuda::MlaDecodeConfigRuns(config)) continue;
        const double us = TimeGraph([&](cudaStream_t st, int i) {
          CK(kt_cuda::MlaDecode(q.p, cs[i % ncopy]->p, ntok, heads, kv, scale, out.p, ws.p, st, config));
        }, 20);
        g_rows.push_back({Fmt("kt MLA decode heads %d ctx %d%s (%.0f TFLOP/s)", heads, kv,
                              config ? Fmt(" config %d", config).c_str() : "", flops / us / 1e6),
                          us, bytes / us / 1e3, bytes / us / 1e3 / g_bw, 0, 0, "GB/s"});
      }
      for (auto* p : cs) delete p;
    }
}

void BenchMlaPrefill() {
  Rng rng(13);
  for (int H : {16, 128}) {
    const int T = 2048, S = 2048;
    std::vector<uint16_t> q(static_cast<size_t>(T) * H * 192), kn(static_cast<size_t>(S) * H * 128),
        kp(static_cast<size_t>(S) * 64), v(static_cast<size_t>(S) * H * 128);
    for (auto* vec : {&q, &kn, &kp, &v})
      for (auto& x : *vec) x = FloatToBf16(rng.Sym());
    Dev<uint16_t> dq(q.size()), dkn(kn.size()), dkp(kp.size()), dv(v.size());
    Dev<float> dout(static_cast<size_t>(T) * H * 128);
    dq.Up(q); dkn.Up(kn); dkp.Up(kp); dv.Up(v);
    const double us = TimeGraph([&](cudaStream_t st, int) {
      CK(kt_cuda::MlaPrefill(dq.p, dkn.p, dkp.p, dv.p, T, S, H, 0.07f, dout.p, st));
    }, 5, 9);
    const double flops = static_cast<double>(H) * (static_cast<double>(T) * (T + 1) / 2) * 2.0 * (192 + 128);
    g_rows.push_back({Fmt("kt MLA prefill heads %d T %d causal", H, T), us, flops / us / 1e6,
                      flops / us / 1e6 / g_tflops, 0, 0, "TFLOP/s"});
  }
}

void BenchPrefill(cublasHandle_t h) {
  Rng rng(7);
  struct Shape { int type, k, n; };
  const int m = 2048;
  for (const Shape& s : {Shape{12, 7168, 2048}, Shape{12, 2048, 7168}, Shape{12, 7168, 18432}, Shape{8, 7168, 2048},
                         Shape{14, 2048, 7168}}) {
    if (!kt_cuda::GemmSupports(s.type)) continue;
    std::vector<uint16_t> hw(static_cast<size_t>(s.k) * s.n), hx(static_cast<size_t>(m) * s.k);
    for (auto& v : hw) v = FloatToBf16(0.01f * rng.Sym());
    std::vector<float> hxf(hx.size());
    for (size_t i = 0; i < hx.size(); ++i) { hxf[i] = rng.Sym(); hx[i] = FloatToBf16(hxf[i]); }
    Dev<uint16_t> wb(hw.size()), xb(hx.size()), xtmp(hx.size());
    Dev<float> x(hxf.size()), y(static_cast<size_t>(m) * s.n);
    wb.Up(hw); xb.Up(hx); x.Up(hxf);
    const float one = 1.0f, zero = 0.0f;
    const double flops = 2.0 * m * s.k * static_cast<double>(s.n);
    const double peer = TimeGraph([&](cudaStream_t st, int) {
      CB(cublasSetStream(h, st));
      CB(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, s.n, m, s.k, &one, wb.p, CUDA_R_16BF, s.k, xb.p, CUDA_R_16BF, s.k,
                      &zero, y.p, CUDA_R_32F, s.n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }, 10, 9);
    g_rows.push_back({Fmt("cuBLAS bf16 GEMM m %d %d->%d", m, s.k, s.n), peer, flops / peer / 1e6,
                      flops / peer / 1e6 / g_tflops, 0, 0, "TFLOP/s"});
    auto w = RandomWeights(s.type, s.k, s.n, rng);
    Dev<uint8_t> dw(w.size());
    dw.Up(w);
    const double us = TimeGraph([&](cudaStream_t st, int) {
      CK(kt_cuda::Gemm(s.type, dw.p, kt_cuda::RowBytes(s.type, s.k), s.k, s.n, x.p, m, y.p, xtmp.p, st));
    }, 10, 9);
    g_rows.push_back({Fmt("kt %s GEMM m %d %d->%d", TypeName(s.type), m, s.k, s.n), us, flops / us / 1e6,
                      flops / us / 1e6 / g_tflops, peer, peer / us, "TFLOP/s"});
    // Dequantise the whole matrix (scratch for all rows) + cuBLAS.
    const size_t sb = kt_cuda::GemmCublasScratchBytes(s.k, m, s.n);
    Dev<uint8_t> scratch(sb);
    const double us2 = TimeGraph([&](cudaStream_t st, int) {
      CK(kt_cuda::GemmCublas(h, s.type, dw.p, kt_cuda::RowBytes(s.type, s.k), s.k, s.n, x.p, m, y.p, scratch.p, sb, st));
    }, 10, 9);
    g_rows.push_back({Fmt("kt %s GEMM m %d %d->%d (dequantise + cuBLAS)", TypeName(s.type), m, s.k, s.n), us2,
                      flops / us2 / 1e6, flops / us2 / 1e6 / g_tflops, peer, peer / us2, "TFLOP/s"});
  }
}

void PrintTable(FILE* f) {
  std::fprintf(f, "\npeer: cuBLAS bf16 on the same (dequantised) matrix; for a fused layer row, the unfused layer\n");
  std::fprintf(f, "\n| kernel | time (us) | achieved | of ceiling | peer (us) | speed-up vs peer |\n");
  std::fprintf(f, "|---|---:|---:|---:|---:|---:|\n");
  for (const Row& r : g_rows) {
    std::fprintf(f, "| %s | %.2f | %.0f %s | %.0f%% | %s | %s |\n", r.what.c_str(), r.us, r.rate, r.unit, 100 * r.frac,
                 r.peer_us > 0 ? Fmt("%.2f", r.peer_us).c_str() : "-",
                 r.peer_us > 0 ? Fmt("%.2fx", r.speedup).c_str() : "-");
  }
  std::fputs(g_extra.c_str(), f);
}

}  // namespace

// Whether comma-separated `list` contains `item`.
bool InList(const char* list, const char* item) {
  const std::string l = std::string(",") + list + ",";
  return l.find(std::string(",") + item + ",") != std::string::npos;
}

int main(int argc, char** argv) {
  bool test = false, bench = false, quick = false;
  const char* table = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--test")) test = true;
    else if (!std::strcmp(argv[i], "--bench")) bench = true;
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--table") && i + 1 < argc) table = argv[++i];
    else {
      std::printf("usage: kt_gpu_test [--test] [--bench] [--quick] [--table FILE]\n"
                  "  --test   check every kernel against CPU references\n"
                  "  --bench  time kernels against measured ceilings and cuBLAS\n"
                  "  --quick  smaller subset (used by ctest)\n"
                  "environment (comma lists):\n"
                  "  KT_TEST_ONLY=gemv,gemv-tc,gemv-i8,gemv-mma,ops,fused,mla,mla-prefill,gemm,nvrtc  test groups\n"
                  "  KT_TEST_MLA_CONFIGS=0,5  MLA block shapes to check (default: all)\n"
                  "  KT_BENCH_ONLY=gemv,mla,gemm,layer  benchmark sections to run\n"
                  "  KT_BENCH_GEMV=new  only cuBLAS and the tensor-core / int8 GEMVs (=mma: cuBLAS and GemvMma)\n"
                  "  KT_BENCH_SHAPE=7168x18432 | mla16x32768  one GEMV or MLA shape\n"
                  "  KT_BENCH_MLA=all  every MLA block shape and the stream probe\n"
                  "  KT_BENCH_MLA_CONFIGS=0,6  only these MLA block shapes (MlaDecode's config)\n"
                  "  KT_BENCH_MLA_CTX=8192,16384  MLA contexts to time (default 4096,32768)\n"
                  "  KT_BENCH_LAYER_PROFILE=1  also time the fused layer without each kernel in turn\n"
                  "  KT_BENCH_LAYER_MLA_CONFIG=6  the layer's MLA call uses this block shape (default 0: automatic)\n"
                  "  KT_SOURCE_ROOT=DIR  where the nvrtc group reads kernels/cuda headers (default .)\n"
                  "  KT_ARTIFACT_CUBIN=FILE  the nvrtc group also runs this cubin from an artifact\n"
                  "                          (scripts/kta-kernel.py model.kta decode.sm_90a.cubin -o FILE)\n"
                  "examples: kt_gpu_test --test --bench --table bench.md\n"
                  "          KT_TEST_ONLY=mla KT_BENCH_ONLY=mla,layer kt_gpu_test --test --bench\n");
      return std::strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  if (!test && !bench) test = true;
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no usable CUDA device (%s)\n", e == cudaSuccess ? "none" : cudaGetErrorString(e));
    return 77;
  }
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, %.0f MB L2, cc %d.%d\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize / 1e6,
              prop.major, prop.minor);
  if (test) {
    CB(cublasCreate(&g_blas));
    // KT_TEST_ONLY=gemv,gemv-tc,gemv-i8,gemv-mma,ops,fused,mla,mla-prefill,gemm,nvrtc (any subset) runs those groups.
    const char* only = std::getenv("KT_TEST_ONLY");
    auto want = [&](const char* g) { return !only || InList(only, g); };
    if (want("gemv")) TestGemv(quick);
    if (want("gemv-tc")) TestGemvTc();
    if (want("gemv-i8")) TestGemvI8();
    if (want("gemv-mma")) TestGemvMma();
    if (want("ops")) TestOps();
    if (want("fused")) kt_gpu_harness::TestFused();
    if (want("mla")) TestMla(quick);
    if (want("mla-prefill")) TestMlaPrefill();
    if (want("gemm")) TestPrefill();
    if (want("nvrtc")) kt_gpu_harness::TestNvrtc();
    CB(cublasDestroy(g_blas));
    std::printf("checks: %d passed, %d failed\n", g_pass, g_fail);
    for (auto& n : g_fail_names) std::printf("  FAILED: %s\n", n.c_str());
  }
  if (bench) {
    cublasHandle_t h;
    CB(cublasCreate(&h));
    // KT_BENCH_ONLY=gemv,mla,gemm,layer (any subset) runs those sections (e.g. under a profiler).
    const char* only = std::getenv("KT_BENCH_ONLY");
    auto want = [&](const char* sec) { return !only || InList(only, sec); };
    BenchCeilings(h);
    if (want("gemv")) BenchGemv(h, quick);
    if (want("mla")) BenchMla();
    if (want("mla")) BenchMlaPrefill();
    if (want("gemm")) BenchPrefill(h);
    if (want("layer")) kt_gpu_harness::BenchLayer();
    CB(cublasDestroy(h));
    std::printf("\ndevice: %s; ceilings: copy %.0f GB/s, cuBLAS bf16 %.0f TFLOP/s\n", prop.name, g_bw, g_tflops);
    PrintTable(stdout);
    if (table) {
      if (FILE* f = std::fopen(table, "w")) {
        std::fprintf(f, "device: %s; ceilings: device-to-device copy %.0f GB/s, cuBLAS bf16 GEMM 8192^3 %.0f TFLOP/s\n",
                     prop.name, g_bw, g_tflops);
        PrintTable(f);
        std::fclose(f);
      }
    }
  }
  if (test) std::printf("checks: %d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
