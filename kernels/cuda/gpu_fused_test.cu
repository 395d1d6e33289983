// Checks of the fused decode-path producers (KT_TEST_ONLY=fused):
//  * RmsNormI8 and SiluMulI8, which quantise their result for the dp4a GEMV
//    in their own epilogue, each followed by GemvI8Prepared: against the CPU
//    reference of the whole chain (norm or SiLU product, then W·x in double)
//    and against the unfused kernels (RmsNorm / SiluMul, GemvI8Quantize,
//    GemvI8Prepared) on the same inputs;
//  * MlaKvAppend (RMSNorm of c_kv + RoPE of k_pe + bf16, and q_pe's RoPE, in
//    one kernel) against the CPU reference, with the cache rows around the
//    written ones and the rest of the query left poisoned-and-untouched.
// Outputs are poisoned (NaN) first; NaN never passes.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "kernels/cuda/gemm_prefill.h"
#include "kernels/cuda/gpu_harness.h"
#include "kernels/cuda/kt_cuda.h"
#include "kernels/cuda/ref_cpu.h"

namespace kt_gpu_harness {
namespace {

constexpr int kQ4K = 12, kQ80 = 8, kQ6K = 14;

// RMSNorm of ntok rows of n (h = x + res first when res is given), in double
// on the float sum the kernel forms; the result rounded to float.
std::vector<float> RefNorm(const std::vector<float>& x, const std::vector<float>* res, const std::vector<float>& w,
                           int ntok, int n, std::vector<double>* h) {
  std::vector<float> y(x.size());
  h->assign(x.size(), 0.0);
  for (int t = 0; t < ntok; ++t) {
    double ss = 0;
    for (int i = 0; i < n; ++i) {
      const size_t j = static_cast<size_t>(t) * n + i;
      const double v = res ? static_cast<double>(static_cast<float>(x[j] + (*res)[j])) : x[j];
      (*h)[j] = v;
      ss += v * v;
    }
    const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
    for (int i = 0; i < n; ++i) {
      const size_t j = static_cast<size_t>(t) * n + i;
      y[j] = static_cast<float>((*h)[j] * inv * w[i]);
    }
  }
  return y;
}

std::vector<double> ToDouble(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// A random k x n matrix of `type` on the device and its f32 values; false
// where the dp4a GEMV does not take the type at this k (not whole blocks, or
// Q6_K rows that are not 4-byte multiples).
struct TestMatrix {
  long long rb = 0;
  std::vector<float> wf;
  std::unique_ptr<Dev<uint8_t>> d;
};
bool MakeMatrix(int type, int k, int n, Rng& rng, TestMatrix* m) {
  m->rb = kt_cuda::RowBytes(type, k);
  if (m->rb == 0 || (type == kQ6K && m->rb % 4)) return false;
  const auto w = RandomWeights(type, k, n, rng);
  m->wf = Dequant(type, w, k, n);
  m->d.reset(new Dev<uint8_t>(w.size()));
  m->d->Up(w);
  return true;
}

struct Case {
  int k, n;
  const char* what;
};
// body(case, type, matrix) for every case and every dp4a weight type the
// case's k allows.
template <class F>
void ForEachMatrix(std::initializer_list<Case> cases, Rng& rng, F&& body) {
  for (const Case& c : cases)
    for (int type : {kQ4K, kQ80, kQ6K}) {
      TestMatrix m;
      if (MakeMatrix(type, c.k, c.n, rng, &m)) body(c, type, m);
    }
}

void TestNormI8(Rng& rng, Dev<uint8_t>& ws, Dev<uint8_t>& ws2) {
  const auto cases = {Case{7168, 2112, "V3 attn norm -> [q_a | kv_a]"}, Case{1536, 3000, "V3 q_a norm -> q_b"},
                      Case{2048, 576, "V2-Lite"}, Case{800, 37, "odd (Q8_0 only)"}};
  ForEachMatrix(cases, rng, [&](const Case& c, int type, const TestMatrix& m) {
    const long long rb = m.rb;
    const std::vector<float>& wf = m.wf;
    const Dev<uint8_t>& dw = *m.d;
    for (int ntok : {1, 3}) {
      for (int fused_res = 0; fused_res < 2; ++fused_res) {
        const auto x = RandomVec(static_cast<size_t>(ntok) * c.k, rng), r = RandomVec(x.size(), rng);
        const auto nw = RandomVec(c.k, rng);
        std::vector<double> href;
        const auto xn = RefNorm(x, fused_res ? &r : nullptr, nw, ntok, c.k, &href);
        const auto ref = RefGemv(wf, c.k, c.n, xn, ntok);
        Dev<float> dx(x.size()), dr(x.size()), dh(x.size()), dnw(c.k), dy(x.size()),
            dg(static_cast<size_t>(ntok) * c.n);
        Dev<float> dy2(x.size()), dg2(dg.n);
        dx.Up(x);
        dr.Up(r);
        dnw.Up(nw);
        dy.Poison();
        dh.Poison();
        dg.Poison();
        dg2.Poison();
        const float* res = fused_res ? dr.p : nullptr;
        float* hout = fused_res ? dh.p : nullptr;
        // Fused: the norm writes y and the quantised x; the GEMV reads the latter.
        CK(kt_cuda::RmsNormI8(dx.p, res, hout, dnw.p, dy.p, ntok, c.k, 1e-6f, type, ws.p, 0));
        CK(kt_cuda::GemvI8Prepared(type, dw.p, rb, c.k, c.n, ntok, dg.p, c.n, ws.p, 0));
        // Unfused, on the same inputs: norm, quantiser, GEMV.
        CK(kt_cuda::RmsNorm(dx.p, res, fused_res ? dh.p : nullptr, dnw.p, dy2.p, ntok, c.k, 1e-6f, 0));
        CK(kt_cuda::GemvI8Quantize(type, dy2.p, c.k, ntok, c.k, ws2.p, 0));
        CK(kt_cuda::GemvI8Prepared(type, dw.p, rb, c.k, c.n, ntok, dg2.p, c.n, ws2.p, 0));
        CK(cudaDeviceSynchronize());
        const std::string what =
            Fmt("%s %-4s %d->%d ntok %d%s", c.what, TypeName(type), c.k, c.n, ntok, fused_res ? " +res" : "");
        const auto g = dg.Down();
        Report("rmsnorm-i8 -> gemv vs CPU, " + what, RelErr(g, ref), 1e-3);
        // Not bit-equal: the two kernels sum the squares in different orders.
        Report("rmsnorm-i8 -> gemv vs unfused, " + what, RelErr(g, ToDouble(dg2.Down())), 1e-5);
        Report("rmsnorm-i8 y vs CPU, " + what, RelErr(dy.Down(), ToDouble(xn)), 1e-5);
        if (fused_res) Report("rmsnorm-i8 residual out vs CPU, " + what, RelErr(dh.Down(), href), 1e-6);
      }
    }
    {  // y may be null: only the GEMV reads the norm
      const auto x = RandomVec(c.k, rng), nw = RandomVec(c.k, rng);
      std::vector<double> href;
      const auto ref = RefGemv(wf, c.k, c.n, RefNorm(x, nullptr, nw, 1, c.k, &href), 1);
      Dev<float> dx(x.size()), dnw(c.k), dg(c.n);
      dx.Up(x);
      dnw.Up(nw);
      dg.Poison();
      CK(kt_cuda::RmsNormI8(dx.p, nullptr, nullptr, dnw.p, nullptr, 1, c.k, 1e-6f, type, ws.p, 0));
      CK(kt_cuda::GemvI8Prepared(type, dw.p, rb, c.k, c.n, 1, dg.p, c.n, ws.p, 0));
      CK(cudaDeviceSynchronize());
      Report(Fmt("rmsnorm-i8 (no f32 y) -> gemv vs CPU, %s %s", c.what, TypeName(type)), RelErr(dg.Down(), ref), 1e-3);
    }
  });
}

void TestSiluI8(Rng& rng, Dev<uint8_t>& ws, Dev<uint8_t>& ws2) {
  const auto cases = {Case{2048, 7168, "V3 shexp down"}, Case{2816, 2048, "V2-Lite shexp down"},
                      Case{800, 37, "odd (Q8_0 only)"}};
  ForEachMatrix(cases, rng, [&](const Case& c, int type, const TestMatrix& m) {
    const long long rb = m.rb;
    const std::vector<float>& wf = m.wf;
    const Dev<uint8_t>& dw = *m.d;
    for (int ntok : {1, 3}) {
      // [gate | up] rows of 2k: the output of one concatenated GEMV.
      const auto gu = RandomVec(static_cast<size_t>(ntok) * 2 * c.k, rng, 3.0f);
      std::vector<float> act(static_cast<size_t>(ntok) * c.k);
      for (int t = 0; t < ntok; ++t)
        for (int i = 0; i < c.k; ++i) {
          const double g = gu[static_cast<size_t>(t) * 2 * c.k + i], u = gu[static_cast<size_t>(t) * 2 * c.k + c.k + i];
          act[static_cast<size_t>(t) * c.k + i] = static_cast<float>(g / (1 + std::exp(-g)) * u);
        }
      const auto ref = RefGemv(wf, c.k, c.n, act, ntok);
      Dev<float> dgu(gu.size()), da(act.size()), dy(static_cast<size_t>(ntok) * c.n), dy2(dy.n);
      dgu.Up(gu);
      da.Poison();
      dy.Poison();
      dy2.Poison();
      CK(kt_cuda::SiluMulI8(dgu.p, dgu.p + c.k, 2 * c.k, ntok, c.k, da.p, type, ws.p, 0));
      CK(kt_cuda::GemvI8Prepared(type, dw.p, rb, c.k, c.n, ntok, dy.p, c.n, ws.p, 0));
      CK(kt_cuda::SiluMulI8(dgu.p, dgu.p + c.k, 2 * c.k, ntok, c.k, nullptr, type, ws2.p, 0));  // no f32 out
      CK(kt_cuda::GemvI8Prepared(type, dw.p, rb, c.k, c.n, ntok, dy2.p, c.n, ws2.p, 0));
      CK(cudaDeviceSynchronize());
      const std::string what = Fmt("%s %-4s %d->%d ntok %d", c.what, TypeName(type), c.k, c.n, ntok);
      Report("silu-mul-i8 -> gemv vs CPU, " + what, RelErr(dy.Down(), ref), 1e-3);
      Report("silu-mul-i8 out vs CPU, " + what, RelErr(da.Down(), ToDouble(act)), 1e-5);
      Report("silu-mul-i8 (no f32 out) -> gemv vs CPU, " + what, RelErr(dy2.Down(), ref), 1e-3);
    }
  });
}

// NaN must reach every GEMV row, and arguments the quantiser would refuse
// are refused here too.
void TestI8Edges(Rng& rng, Dev<uint8_t>& ws) {
  const int k = 512, n = 64;
  const auto w = RandomWeights(kQ4K, k, n, rng);
  Dev<uint8_t> dw(w.size());
  dw.Up(w);
  const long long rb = kt_cuda::RowBytes(kQ4K, k);
  auto x = RandomVec(2 * k, rng), nw = RandomVec(k, rng);
  x[100] = NAN;  // in gate for SiluMulI8, in x for RmsNormI8
  Dev<float> dx(x.size()), dnw(k), dy(n);
  dx.Up(x); dnw.Up(nw);
  auto nan_rows = [&]() {
    int count = 0;
    for (float v : dy.Down()) count += std::isnan(v) ? 1 : 0;
    return count;
  };
  dy.Poison();
  CK(kt_cuda::RmsNormI8(dx.p, nullptr, nullptr, dnw.p, nullptr, 1, k, 1e-6f, kQ4K, ws.p, 0));
  CK(cudaMemset(dy.p, 0, n * sizeof(float)));
  CK(kt_cuda::GemvI8Prepared(kQ4K, dw.p, rb, k, n, 1, dy.p, n, ws.p, 0));
  CK(cudaDeviceSynchronize());
  Report("rmsnorm-i8 NaN in x gives NaN in every GEMV row (rows without NaN)", n - nan_rows(), 0.0);
  CK(cudaMemset(dy.p, 0, n * sizeof(float)));
  CK(kt_cuda::SiluMulI8(dx.p, dx.p + k, 2 * k, 1, k, nullptr, kQ4K, ws.p, 0));
  CK(kt_cuda::GemvI8Prepared(kQ4K, dw.p, rb, k, n, 1, dy.p, n, ws.p, 0));
  CK(cudaDeviceSynchronize());
  Report("silu-mul-i8 NaN in gate gives NaN in every GEMV row (rows without NaN)", n - nan_rows(), 0.0);
  int refused = 0;
  refused += kt_cuda::RmsNormI8(dx.p, nullptr, nullptr, dnw.p, nullptr, 9, k, 1e-6f, kQ4K, ws.p, 0) ==
             cudaErrorInvalidValue;  // 9 tokens
  refused += kt_cuda::RmsNormI8(dx.p, nullptr, nullptr, dnw.p, nullptr, 1, 500, 1e-6f, kQ4K, ws.p, 0) ==
             cudaErrorInvalidValue;  // not whole super-blocks
  refused += kt_cuda::RmsNormI8(dx.p, nullptr, nullptr, dnw.p, nullptr, 1, k, 1e-6f, 13, ws.p, 0) ==
             cudaErrorInvalidValue;  // Q5_K: no dp4a GEMV
  refused += kt_cuda::SiluMulI8(dx.p, dx.p + k, k - 1, 1, k, nullptr, kQ4K, ws.p, 0) == cudaErrorInvalidValue;  // ld < k
  refused += kt_cuda::SiluMulI8(dx.p, dx.p + k, 2 * k, 1, k, nullptr, kQ4K, ws.p + 8, 0) ==
             cudaErrorInvalidValue;  // misaligned workspace
  refused += kt_cuda::RmsNormI8(dx.p, nullptr, nullptr, dnw.p, dx.p, 1, k, 1e-6f, kQ4K, ws.p, 0) ==
             cudaErrorInvalidValue;  // in place: other blocks still read x
  Report("rmsnorm-i8 / silu-mul-i8 refuse 9 tokens, K % 256, Q5_K, ld < k, misaligned workspace, in place",
         6.0 - refused, 0.0);
}

void TestKvAppend(Rng& rng) {
  const int n_norm = 512, rope = 64, width = n_norm + rope, ntok = 3, first = 4, cache_rows = 8;
  kt_cuda::Yarn yr;
  yr.factor = 40.0f;
  float lo, hi;
  kt_cuda::YarnCorrDims(yr, &lo, &hi);
  for (int ld : {width, 2112}) {  // its own buffer, or the kv_a part of a [q_a | kv_a] output (offset 1536)
    const int off = ld == width ? 0 : 1536;
    const auto buf = RandomVec(static_cast<size_t>(ntok) * (ld + off), rng);
    const auto nw = RandomVec(n_norm, rng);
    const std::vector<int> pos = {0, 4095, 32767};
    std::vector<double> ref(static_cast<size_t>(ntok) * width);
    for (int t = 0; t < ntok; ++t) {
      const float* x = buf.data() + static_cast<size_t>(t) * ld + off;
      double ss = 0;
      for (int i = 0; i < n_norm; ++i) ss += static_cast<double>(x[i]) * x[i];
      const double inv = 1.0 / std::sqrt(ss / n_norm + 1e-6);
      double* r = ref.data() + static_cast<size_t>(t) * width;
      for (int i = 0; i < n_norm; ++i) r[i] = x[i] * inv * nw[i];
      for (int i = 0; i < rope / 2; ++i)
        RefRope(x[n_norm + 2 * i], x[n_norm + 2 * i + 1], pos[t], i, rope, yr.freq_base, yr.factor, lo, hi,
                &r[n_norm + 2 * i], &r[n_norm + 2 * i + 1]);
    }
    // The query half in the same launch: q_pe (offset 128 of 192 per head) into [512 | 64] rows.
    const int heads = ld == width ? 3 : 128, qs = 192, qo = 128, os = 576, oo = 512;
    const auto q = RandomVec(static_cast<size_t>(ntok) * heads * qs, rng);
    std::vector<double> qref;
    for (int t = 0; t < ntok; ++t)
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < rope / 2; ++i) {
          const float* v = q.data() + (static_cast<size_t>(t) * heads + h) * qs + qo + 2 * i;
          double o0, o1;
          RefRope(v[0], v[1], pos[t], i, rope, yr.freq_base, yr.factor, lo, hi, &o0, &o1);
          qref.push_back(o0);
          qref.push_back(o1);
        }
    Dev<float> dbuf(buf.size()), dnw(n_norm), dq(q.size()), dqo(static_cast<size_t>(ntok) * heads * os);
    Dev<int> dpos(ntok);
    Dev<uint16_t> cache(static_cast<size_t>(cache_rows) * width);
    dbuf.Up(buf); dnw.Up(nw); dpos.Up(pos); dq.Up(q);
    cache.Poison();
    dqo.Poison();
    kt_cuda::MlaQRope qr;
    qr.q = dq.p;
    qr.heads = heads;
    qr.q_stride = qs;
    qr.q_offset = qo;
    qr.out = dqo.p;
    qr.out_stride = os;
    qr.out_offset = oo;
    CK(kt_cuda::MlaKvAppend(dbuf.p + off, ld, ntok, dnw.p, 1e-6f, n_norm, dpos.p, yr,
                            cache.p + static_cast<size_t>(first) * width, 0, qr));
    CK(cudaDeviceSynchronize());
    const auto qo_host = dqo.Down();
    std::vector<float> qgot;
    int q_touched = 0;
    for (size_t r = 0; r < qo_host.size() / os; ++r)
      for (int i = 0; i < os; ++i) {
        if (i >= oo && i < oo + rope) qgot.push_back(qo_host[r * os + i]);
        else q_touched += std::isnan(qo_host[r * os + i]) ? 0 : 1;
      }
    Report(Fmt("mla kv append's q_pe rope, %d heads, pos 0 / 4095 / 32767", heads), RelErr(qgot, qref), 1e-5);
    Report(Fmt("mla kv append's q_pe rope leaves the rest of the query alone, %d heads (values written)", heads),
           q_touched, 0.0);
    const auto c = cache.Down();
    std::vector<float> got;
    int touched = 0;
    for (int row = 0; row < cache_rows; ++row)
      for (int i = 0; i < width; ++i) {
        const uint16_t v = c[static_cast<size_t>(row) * width + i];
        if (row >= first && row < first + ntok) got.push_back(kt_cuda_ref::Bf16ToFloat(v));
        else touched += v != 0xFFFF;
      }
    // bf16 keeps 8 significant bits: each value is within 2^-9 of its reference.
    Report(Fmt("mla kv append (rms norm + yarn rope + bf16), ld %d, pos 0 / 4095 / 32767", ld), RelErr(got, ref), 3e-3);
    Report(Fmt("mla kv append leaves the other cache rows alone, ld %d (values written)", ld), touched, 0.0);
  }
  int refused = 0;
  Dev<float> d(width);
  Dev<int> p(1);
  Dev<uint16_t> row(width);
  refused += kt_cuda::MlaKvAppend(d.p, width - 1, 1, d.p, 1e-6f, n_norm, p.p, yr, row.p, 0) == cudaErrorInvalidValue;
  refused += kt_cuda::MlaKvAppend(d.p, width, 0, d.p, 1e-6f, n_norm, p.p, yr, row.p, 0) == cudaErrorInvalidValue;
  kt_cuda::Yarn odd = yr;
  odd.n_dims = 63;
  refused += kt_cuda::MlaKvAppend(d.p, width, 1, d.p, 1e-6f, n_norm, p.p, odd, row.p, 0) == cudaErrorInvalidValue;
  kt_cuda::MlaQRope bad;
  bad.q = d.p;
  bad.heads = 1;
  bad.q_stride = 100;  // offset 64 + 64 dims > 100
  bad.q_offset = 64;
  bad.out = d.p;
  bad.out_stride = 576;
  bad.out_offset = 512;
  refused += kt_cuda::MlaKvAppend(d.p, width, 1, d.p, 1e-6f, n_norm, p.p, yr, row.p, 0, bad) == cudaErrorInvalidValue;
  Report("mla kv append refuses ldkv < row, 0 tokens, odd rope dims, q_pe past its head", 4.0 - refused, 0.0);
}

}  // namespace

void TestFused() {
  std::printf("== fused producers: RMSNorm / SiLU product with int8 quantisation, MLA cache append\n");
  Rng rng(31);
  Dev<uint8_t> ws(kt_cuda::GemvI8WorkspaceBytes(7168)), ws2(kt_cuda::GemvI8WorkspaceBytes(7168));
  TestNormI8(rng, ws, ws2);
  TestSiluI8(rng, ws, ws2);
  TestI8Edges(rng, ws);
  TestKvAppend(rng);
}

}  // namespace kt_gpu_harness
