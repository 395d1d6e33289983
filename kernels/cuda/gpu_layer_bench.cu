// Benchmark of the GPU half of one decode step's layer: every kernel of a
// DeepSeek MoE layer except the routed experts (which run on the CPU), for
// one token, captured into one CUDA graph the way the runtime will run a
// decode step. The kernels' own benchmarks time each one in a chain of
// copies of itself; this times them in their real order, where programmatic
// dependent launch overlaps each kernel's weight stream with the tail of the
// one before. Weights are random (valid blocks), Q4_K for the big matrices,
// Q8_0 for the per-head absorption matrices, f32 for norms and the router;
// several layers with their own weights and caches so that nothing is served
// from L2 between replays.
//
// Two orders of the same work on the same weights, timed in the same run:
//  * unfused: every op its own kernel (28 launches for a V3 layer);
//  * fused (18 launches): the norms and the SiLU product quantise their
//    output for the dp4a GEMVs in their own epilogue (RmsNormI8,
//    SiluMulI8), the matrices that read the same input are one matrix
//    ([q_a | kv_a] or [q | kv_a]; [gate | up]: a layout the compiler chooses
//    when it writes the artifact; the unfused order reads their row ranges),
//    and one kernel appends the cache row and ropes q (MlaKvAppend).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/gemm_prefill.h"
#include "kernels/cuda/gpu_harness.h"
#include "kernels/cuda/kt_cuda.h"

namespace kt_gpu_harness {
namespace {

struct LayerShape {
  const char* name;
  int hidden, heads, q_lora, shared_ff, n_expert, top_k, n_group, group_used;
  bool sigmoid;
};

constexpr int kQ4K = 12, kQ80 = 8, kF32 = 0;

// A quantised matrix on the device and its size in bytes.
struct Mat {
  std::unique_ptr<Dev<uint8_t>> d;
  int type = 0, k = 0, n = 0;
  long long rb = 0;
  size_t bytes = 0;
  Mat() = default;
  Mat(int type_, int k_, int n_, Rng& rng) : type(type_), k(k_), n(n_), rb(kt_cuda::RowBytes(type_, k_)) {
    const auto w = RandomWeights(type, k, n, rng);
    bytes = w.size();
    d.reset(new Dev<uint8_t>(w.size()));
    d->Up(w);
  }
  const uint8_t* p() const { return d->p; }
};

std::unique_ptr<Dev<float>> Vec(size_t n, Rng& rng, float base, float spread) {
  std::vector<float> v(n);
  for (auto& x : v) x = base + spread * rng.Sym();
  std::unique_ptr<Dev<float>> d(new Dev<float>(n));
  d->Up(v);
  return d;
}

// Matrices that read the same input are stored as one: qkv = [q_a | kv_a]
// (or [q | kv_a] without q_lora), gate_up = [gate | up].
struct LayerWeights {
  std::unique_ptr<Dev<float>> attn_norm, q_a_norm, kv_a_norm, ffn_norm, router_bias;
  Mat qkv, q_b, w_kb, w_vb, o, router, gate_up, down;
  std::unique_ptr<Dev<uint16_t>> cache;
  size_t bytes = 0;  // weights (the step also reads ctx cache rows)
};

LayerWeights MakeLayer(const LayerShape& s, int ctx, Rng& rng) {
  LayerWeights L;
  const int qd = s.heads * 192;
  L.attn_norm = Vec(s.hidden, rng, 1.0f, 0.1f);
  L.kv_a_norm = Vec(512, rng, 1.0f, 0.1f);
  L.ffn_norm = Vec(s.hidden, rng, 1.0f, 0.1f);
  L.router_bias = Vec(s.n_expert, rng, 0.0f, 0.01f);
  L.qkv = Mat(kQ4K, s.hidden, (s.q_lora ? s.q_lora : qd) + 576, rng);
  if (s.q_lora) {
    L.q_a_norm = Vec(s.q_lora, rng, 1.0f, 0.1f);
    L.q_b = Mat(kQ4K, s.q_lora, qd, rng);
    L.bytes += L.q_b.bytes;
  }
  L.w_kb = Mat(kQ80, 128, 512 * s.heads, rng);  // per head: 512 rows of 128
  L.w_vb = Mat(kQ80, 512, 128 * s.heads, rng);  // per head: 128 rows of 512
  L.o = Mat(kQ4K, 128 * s.heads, s.hidden, rng);
  L.router = Mat(kF32, s.hidden, s.n_expert, rng);
  L.gate_up = Mat(kQ4K, s.hidden, 2 * s.shared_ff, rng);
  L.down = Mat(kQ4K, s.shared_ff, s.hidden, rng);
  L.bytes += L.qkv.bytes + L.w_kb.bytes + L.w_vb.bytes + L.o.bytes + L.router.bytes + L.gate_up.bytes +
             L.down.bytes + 4ull * (2 * s.hidden + 512 + s.q_lora + s.n_expert);
  std::vector<uint16_t> c(static_cast<size_t>(ctx) * 576);
  for (auto& v : c) v = FloatToBf16(rng.Sym());
  L.cache.reset(new Dev<uint16_t>(c.size()));
  L.cache->Up(c);
  return L;
}

// Activations, shared by the layers (one token).
// qkv = [q_a | kv] (or [q | kv]): the one projection's output; gu = [g | u].
struct Acts {
  Dev<float> x, xn, qkv, q, qm, lat, oin, attn, h, hn, logits, wts, gu, act, ffn;
  Dev<int> ids, pos;
  Dev<uint8_t> ws, mla_ws;
  Acts(const LayerShape& s, int ctx)
      : x(s.hidden), xn(s.hidden), qkv((s.q_lora ? s.q_lora : s.heads * 192) + 576), q(s.heads * 192),
        qm(s.heads * 576), lat(s.heads * 512), oin(s.heads * 128), attn(s.hidden), h(s.hidden), hn(s.hidden),
        logits(s.n_expert), wts(s.top_k), gu(2 * s.shared_ff), act(s.shared_ff), ffn(s.hidden), ids(s.top_k), pos(1),
        ws(kt_cuda::GemvI8WorkspaceBytes(std::max({s.hidden, s.q_lora, 128 * s.heads, s.shared_ff}))),
        mla_ws(kt_cuda::MlaDecodeWorkspaceBytes(1, s.heads, ctx)) {}
};

// KT_BENCH_LAYER_MLA_CONFIG=C: the layer's MLA call runs MlaDecode's block
// shape C (default 0, the automatic choice), for A/B runs of the layer.
int LayerMlaConfig() {
  const char* c = std::getenv("KT_BENCH_LAYER_MLA_CONFIG");
  return c ? std::atoi(c) : 0;
}

// Runs a layer's kernels in order and names them; with skip >= 0 the
// skip-th is left out (the layer profile: what the layer costs without it).
struct Steps {
  int skip = -1, n = 0;
  std::vector<std::string>* names = nullptr;
  template <class F>
  void operator()(const char* name, F&& launch) {
    if (names && static_cast<int>(names->size()) == n) names->push_back(name);
    if (n++ != skip) launch();
  }
};

// One layer's GPU work for the token at position ctx - 1 (its cache row is
// appended here, then attended with the ctx - 1 rows before it), in the
// fused or the unfused order (file comment), every kernel through `step`.
void RunLayer(const LayerShape& s, int ctx, const LayerWeights& L, Acts& a, bool fused, Steps step, cudaStream_t st) {
  const float eps = 1e-6f;
  const int qd = s.heads * 192, qn = s.q_lora ? s.q_lora : qd, qkv_n = qn + 576, ff = s.shared_ff;
  kt_cuda::Yarn yarn;
  yarn.factor = 40.0f;
  float* kv = a.qkv.p + qn;  // kv_a's output inside [q_a | kv] or [q | kv]
  uint16_t* row = L.cache->p + static_cast<size_t>(ctx - 1) * 576;
  // The first q_lora (or qd) rows of qkv are q_a (or q), the last 576 kv_a.
  const uint8_t* kv_w = L.qkv.p() + L.qkv.rb * qn;
  if (fused) {
    step("attn norm + quantise", [&] {
      CK(kt_cuda::RmsNormI8(a.x.p, nullptr, nullptr, L.attn_norm->p, nullptr, 1, s.hidden, eps, kQ4K, a.ws.p, st));
    });
    step("[q_a | kv_a] GEMV", [&] {
      CK(kt_cuda::GemvI8Prepared(kQ4K, L.qkv.p(), L.qkv.rb, s.hidden, qkv_n, 1, a.qkv.p, qkv_n, a.ws.p, st));
    });
    if (s.q_lora) {
      step("q_a norm + quantise", [&] {
        CK(kt_cuda::RmsNormI8(a.qkv.p, nullptr, nullptr, L.q_a_norm->p, nullptr, 1, s.q_lora, eps, kQ4K, a.ws.p, st));
      });
      step("q_b GEMV",
           [&] { CK(kt_cuda::GemvI8Prepared(kQ4K, L.q_b.p(), L.q_b.rb, s.q_lora, qd, 1, a.q.p, qd, a.ws.p, st)); });
    }
    kt_cuda::MlaQRope qr;  // q_pe roped straight into [q_lat 512 | q_pe 64] per head
    qr.q = s.q_lora ? a.q.p : a.qkv.p;
    qr.heads = s.heads;
    qr.q_stride = 192;
    qr.q_offset = 128;
    qr.out = a.qm.p;
    qr.out_stride = 576;
    qr.out_offset = 512;
    step("cache append + q_pe RoPE",
         [&] { CK(kt_cuda::MlaKvAppend(kv, qkv_n, 1, L.kv_a_norm->p, eps, 512, a.pos.p, yarn, row, st, qr)); });
  } else {
    step("attn norm",
         [&] { CK(kt_cuda::RmsNorm(a.x.p, nullptr, nullptr, L.attn_norm->p, a.xn.p, 1, s.hidden, eps, st)); });
    step("quantise", [&] { CK(kt_cuda::GemvI8Quantize(kQ4K, a.xn.p, s.hidden, 1, s.hidden, a.ws.p, st)); });
    step("q_a GEMV",
         [&] { CK(kt_cuda::GemvI8Prepared(kQ4K, L.qkv.p(), L.qkv.rb, s.hidden, qn, 1, a.qkv.p, qn, a.ws.p, st)); });
    step("kv_a GEMV",
         [&] { CK(kt_cuda::GemvI8Prepared(kQ4K, kv_w, L.qkv.rb, s.hidden, 576, 1, kv, 576, a.ws.p, st)); });
    if (s.q_lora) {
      step("q_a norm", [&] {
        CK(kt_cuda::RmsNorm(a.qkv.p, nullptr, nullptr, L.q_a_norm->p, a.qkv.p, 1, s.q_lora, eps, st));
      });  // in place
      step("q_b quantise + GEMV", [&] {
        CK(kt_cuda::GemvI8(kQ4K, L.q_b.p(), L.q_b.rb, s.q_lora, qd, a.qkv.p, s.q_lora, 1, a.q.p, qd, a.ws.p, st));
      });
    }
    // Cache row: [norm(c_kv) | roped k_pe] in bf16 at position ctx - 1, all in
    // place in kv (no copy node: a memcpy between kernels ends the PDL overlap).
    step("kv norm", [&] { CK(kt_cuda::RmsNorm(kv, nullptr, nullptr, L.kv_a_norm->p, kv, 1, 512, eps, st)); });
    step("k_pe RoPE", [&] { CK(kt_cuda::RopeYarn(kv, a.pos.p, 1, 1, 576, 512, yarn, st)); });
    step("cache row to bf16", [&] { CK(kt_cuda::F32ToBf16(kv, row, 576, st)); });
  }
  // q: rope q_pe straight into [q_lat 512 | q_pe 64] per head (fused: done
  // above), absorb q_nope through W_kb into q_lat.
  const float* q = s.q_lora ? a.q.p : a.qkv.p;
  if (!fused)
    step("q_pe RoPE", [&] {
      CK(kt_cuda::RopeYarn(const_cast<float*>(q), a.pos.p, 1, s.heads, 192, 128, yarn, st, a.qm.p, 576, 512));
    });
  step("W_kb absorption GEMV", [&] {
    CK(kt_cuda::Gemv(kQ80, L.w_kb.p(), L.w_kb.rb, 128, 512, q, 128, 1, a.qm.p, 512, st, s.heads, 512 * L.w_kb.rb, 192,
                     576));
  });
  step("MLA decode + merge", [&] {
    CK(kt_cuda::MlaDecode(a.qm.p, L.cache->p, 1, s.heads, ctx, 1.0f / std::sqrt(192.0f), a.lat.p, a.mla_ws.p, st,
                          LayerMlaConfig()));
  });
  step("W_vb GEMV", [&] {
    CK(kt_cuda::Gemv(kQ80, L.w_vb.p(), L.w_vb.rb, 512, 128, a.lat.p, 512, 1, a.oin.p, 128, st, s.heads, 128 * L.w_vb.rb,
                     512, 128));
  });
  step("o_proj quantise + GEMV", [&] {
    CK(kt_cuda::GemvI8(kQ4K, L.o.p(), L.o.rb, 128 * s.heads, s.hidden, a.oin.p, 128 * s.heads, 1, a.attn.p, s.hidden,
                       a.ws.p, st));
  });
  // h = x + attention; hn = norm(h) (the router reads it in f32, the shared
  // expert quantised); router; shared expert.
  if (fused)
    step("residual + FFN norm + quantise", [&] {
      CK(kt_cuda::RmsNormI8(a.attn.p, a.x.p, a.h.p, L.ffn_norm->p, a.hn.p, 1, s.hidden, eps, kQ4K, a.ws.p, st));
    });
  else
    step("residual + FFN norm",
         [&] { CK(kt_cuda::RmsNorm(a.attn.p, a.x.p, a.h.p, L.ffn_norm->p, a.hn.p, 1, s.hidden, eps, st)); });
  step("router GEMV", [&] {
    CK(kt_cuda::Gemv(kF32, L.router.p(), L.router.rb, s.hidden, s.n_expert, a.hn.p, s.hidden, 1, a.logits.p, s.n_expert,
                     st));
  });
  kt_cuda::Router r;
  r.n_expert = s.n_expert;
  r.top_k = s.top_k;
  r.n_group = s.n_group;
  r.n_group_used = s.group_used;
  r.sigmoid = s.sigmoid;
  r.norm = s.sigmoid;
  r.scale = s.sigmoid ? 2.5f : 1.0f;
  step("router selection",
       [&] { CK(kt_cuda::Route(a.logits.p, s.sigmoid ? L.router_bias->p : nullptr, 1, r, a.ids.p, a.wts.p, st)); });
  if (fused) {
    step("[gate | up] GEMV", [&] {
      CK(kt_cuda::GemvI8Prepared(kQ4K, L.gate_up.p(), L.gate_up.rb, s.hidden, 2 * ff, 1, a.gu.p, 2 * ff, a.ws.p, st));
    });
    step("SiLU product + quantise",
         [&] { CK(kt_cuda::SiluMulI8(a.gu.p, a.gu.p + ff, 2 * ff, 1, ff, nullptr, kQ4K, a.ws.p, st)); });
    step("down GEMV", [&] {
      CK(kt_cuda::GemvI8Prepared(kQ4K, L.down.p(), L.down.rb, ff, s.hidden, 1, a.ffn.p, s.hidden, a.ws.p, st));
    });
  } else {
    const uint8_t* up_w = L.gate_up.p() + L.gate_up.rb * ff;
    step("quantise", [&] { CK(kt_cuda::GemvI8Quantize(kQ4K, a.hn.p, s.hidden, 1, s.hidden, a.ws.p, st)); });
    step("gate GEMV", [&] {
      CK(kt_cuda::GemvI8Prepared(kQ4K, L.gate_up.p(), L.gate_up.rb, s.hidden, ff, 1, a.gu.p, ff, a.ws.p, st));
    });
    step("up GEMV",
         [&] { CK(kt_cuda::GemvI8Prepared(kQ4K, up_w, L.gate_up.rb, s.hidden, ff, 1, a.gu.p + ff, ff, a.ws.p, st)); });
    step("SiLU product", [&] { CK(kt_cuda::SiluMul(a.gu.p, a.gu.p + ff, a.act.p, ff, st)); });
    step("down quantise + GEMV", [&] {
      CK(kt_cuda::GemvI8(kQ4K, L.down.p(), L.down.rb, ff, s.hidden, a.act.p, ff, 1, a.ffn.p, s.hidden, a.ws.p, st));
    });
  }
  // (The routed experts' sum, from the CPU, joins here.)
  step("residual add", [&] { CK(kt_cuda::Add(a.h.p, a.ffn.p, a.x.p, s.hidden, st)); });
}

}  // namespace

void BenchLayer() {
  const LayerShape shapes[] = {{"DeepSeek-V3", 7168, 128, 1536, 2048, 256, 8, 8, 4, true},
                               {"DeepSeek-V2-Lite", 2048, 16, 0, 2816, 64, 6, 1, 1, false}};
  // KT_BENCH_LAYER_PROFILE=1: also time the fused layer without each of its
  // kernels in turn, i.e. what each kernel adds to the chain (with PDL that
  // is less than its time alone: its launch and weight stream overlap the
  // kernel before; the outputs are then wrong and only the times count).
  const char* prof = std::getenv("KT_BENCH_LAYER_PROFILE");
  const bool profile = prof && *prof && std::strcmp(prof, "0") != 0;
  for (const LayerShape& s : shapes) {
    Rng rng(21);
    const int nl = 4, max_ctx = 32768;  // layers with their own weights and caches: more than L2 holds
    std::vector<LayerWeights> layers;
    for (int i = 0; i < nl; ++i) layers.push_back(MakeLayer(s, max_ctx, rng));
    for (int ctx : {4096, 32768}) {
      Acts a(s, ctx);
      a.pos.Up(std::vector<int>{ctx - 1});
      const double bytes = static_cast<double>(layers[0].bytes) + static_cast<double>(ctx) * 576 * 2;
      double unfused_us = 0;
      for (bool fused : {false, true}) {
        a.x.Up(RandomVec(s.hidden, rng));
        const double us =
            TimeGraph([&](cudaStream_t st, int i) { RunLayer(s, ctx, layers[i % nl], a, fused, Steps{}, st); }, 2 * nl, 9);
        bool finite = true;
        for (float v : a.x.Down()) finite = finite && std::isfinite(v);
        g_rows.push_back({Fmt("%s layer, GPU part, 1 token, ctx %d, one graph, %s (%.1f MB; output %s)", s.name, ctx,
                              fused ? "fused" : "unfused", bytes / 1e6, finite ? "finite" : "NOT FINITE"),
                          us, bytes / us / 1e3, bytes / us / 1e3 / g_bw, fused ? unfused_us : 0,
                          fused ? unfused_us / us : 0, "GB/s"});
        unfused_us = us;
      }
      if (profile) {  // the fused order without each kernel in turn
        std::vector<std::string> names;
        auto time_without = [&](int skip, std::vector<std::string>* record) {
          return TimeGraph(
              [&](cudaStream_t st, int i) { RunLayer(s, ctx, layers[i % nl], a, true, Steps{skip, 0, record}, st); },
              2 * nl, 9);
        };
        const double full = time_without(-1, &names);
        g_extra += Fmt("\nLayer profile, %s, ctx %d, fused order: %.2f us with every kernel\n\n", s.name, ctx, full);
        g_extra += "| kernel left out | layer (us) | the kernel's share (us) |\n|---|---:|---:|\n";
        for (size_t k = 0; k < names.size(); ++k) {
          const double us = time_without(static_cast<int>(k), nullptr);
          g_extra += Fmt("| %s | %.2f | %.2f |\n", names[k].c_str(), us, full - us);
        }
      }
    }
  }
}

}  // namespace kt_gpu_harness
