// Small decode-path kernels: RMSNorm (optionally fused with the residual
// add), YaRN RoPE on consecutive pairs, SiLU-gated product, residual add,
// MoE router, argmax. All f32; one launch covers all tokens of a batch.
#pragma once

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/quant_i8.cuh"

namespace kt_cuda {

// Sum of squares of one row of n values, by the whole block (every thread
// gets it), float4 where aligned. With res: of h = x + res, and h is written
// to h_out unless h_out is null.
KT_CUDA_FORCEINLINE float RowSquares(const float* x, const float* res, float* h_out, int n, float* scratch) {
  const size_t align = reinterpret_cast<size_t>(x) |
                       (res ? reinterpret_cast<size_t>(res) : 0) | (h_out ? reinterpret_cast<size_t>(h_out) : 0);
  float ss = 0.0f;
  if ((n & 3) == 0 && (align & 15) == 0) {
    for (int i = threadIdx.x; i < n / 4; i += blockDim.x) {
      float4 v = reinterpret_cast<const float4*>(x)[i];
      if (res) {
        const float4 r = reinterpret_cast<const float4*>(res)[i];
        v.x += r.x; v.y += r.y; v.z += r.z; v.w += r.w;
        if (h_out) reinterpret_cast<float4*>(h_out)[i] = v;
      }
      ss = fmaf(v.x, v.x, fmaf(v.y, v.y, fmaf(v.z, v.z, fmaf(v.w, v.w, ss))));
    }
  } else {
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
      float v = x[i];
      if (res) {
        v += res[i];
        if (h_out) h_out[i] = v;
      }
      ss = fmaf(v, v, ss);
    }
  }
  return BlockSum(ss, scratch);
}

// One block per token (up to 1024 threads). With `res` non-null: h = x + res
// is written to `h_out` (the new residual stream) and normalised; otherwise x
// is normalised. Aligned rows with n % 4 == 0 are read as float4: with one
// token there is one block, and a scalar loop of 28 dependent rounds for
// 7168 values took 24 us on the H200 (cold caches); in place (y == x) works.
__global__ void __launch_bounds__(1024) RmsNormKernel(const float* x, const float* res, float* h_out,
                                                      const float* __restrict__ weight, float* y, int n, float eps) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  PrefetchL2(weight, 4LL * n);
  GridDependencyWait();  // ... and this one reads nothing else before the previous kernel is done
  __shared__ float scratch[32];
  const long long base = static_cast<long long>(blockIdx.x) * n;
  const float ss = RowSquares(x + base, res ? res + base : nullptr, res ? h_out + base : nullptr, n, scratch);
  const float inv = rsqrtf(ss / static_cast<float>(n) + eps);
  const float* src = res ? h_out + base : x + base;
  const size_t align = reinterpret_cast<size_t>(src) | reinterpret_cast<size_t>(y + base) |
                       reinterpret_cast<size_t>(weight);
  if ((n & 3) == 0 && (align & 15) == 0) {
    for (int i = threadIdx.x; i < n / 4; i += blockDim.x) {
      const float4 v = reinterpret_cast<const float4*>(src)[i];
      const float4 w = reinterpret_cast<const float4*>(weight)[i];
      reinterpret_cast<float4*>(y + base)[i] = make_float4(v.x * inv * w.x, v.y * inv * w.y, v.z * inv * w.z, v.w * inv * w.w);
    }
  } else {
    for (int i = threadIdx.x; i < n; i += blockDim.x) y[base + i] = src[i] * inv * weight[i];
  }
}

// RMSNorm (as RmsNormKernel) whose result is also quantised for the dp4a
// GEMV; n % 32 == 0. Grid (blocks, ntok): every block sums the whole row
// (from L2) and normalises only its own 32-value pieces, one per warp, so
// the quantisation is spread over the GPU. (One block doing all 224 pieces
// of a 7168-value row made the V3 layer 7 us slower on the H200 than a
// separate norm and quantiser.) y and h_out may be null; neither may overlap
// x or res, which other blocks are still reading.
__global__ void __launch_bounds__(256) RmsNormI8Kernel(const float* __restrict__ x, const float* __restrict__ res,
                                                       float* __restrict__ h_out, const float* __restrict__ weight,
                                                       float* __restrict__ y, int n, float eps, I8Dst q) {
  GridDependentsLaunch();  // PDL (launch.h): the GEMV may start streaming weights now
  __shared__ float scratch[32];
  const int t = blockIdx.y, lane = threadIdx.x & 31, nb = n >> 5, warps = blockDim.x >> 5;
  const int b0 = blockIdx.x * warps + (threadIdx.x >> 5);
  const float w0 = b0 < nb ? weight[32 * b0 + lane] : 0.0f;  // a weight: read before the wait
  GridDependencyWait();  // ... and nothing else before the previous kernel is done
  const long long base = static_cast<long long>(t) * n;
  const float ss = RowSquares(x + base, res ? res + base : nullptr, nullptr, n, scratch);
  const float inv = rsqrtf(ss / static_cast<float>(n) + eps);
  for (int b = b0; b < nb; b += gridDim.x * warps) {
    const long long i = base + 32 * b + lane;
    float h = x[i];
    if (res) {
      h += res[i];
      if (h_out) h_out[i] = h;
    }
    const float v = h * inv * (b == b0 ? w0 : weight[32 * b + lane]);
    if (y) y[i] = v;
    QuantizeBlock32(v, lane, t, b, nb, q);
  }
}

struct RopeParams {
  int n_dims;          // rotated dims (64 for DeepSeek)
  float freq_base;
  float freq_scale;    // 1 / yarn factor
  float ext_factor;    // 1 with YaRN, 0 without
  float attn_factor;   // multiplies cos and sin (YaRN mscale handling is the caller's)
  float corr_lo, corr_hi;
};

// cos and sin (times the YaRN magnitude scale) of pair i's angle at `pos`.
// Angles are formed in double: at position 32k a float angle is off by ~2e-3.
KT_CUDA_FORCEINLINE void RopeCosSin(int pos, int i, const RopeParams& p, float* cf, float* sf) {
  const double theta_extrap = pos * pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_dims);
  const double theta_interp = p.freq_scale * theta_extrap;
  double theta = theta_interp;
  float mscale = p.attn_factor;
  if (p.ext_factor != 0.0f) {
    const double y = (i - p.corr_lo) / fmax(0.001, static_cast<double>(p.corr_hi - p.corr_lo));
    const double ramp = (1.0 - fmin(1.0, fmax(0.0, y))) * p.ext_factor;
    theta = theta_interp * (1.0 - ramp) + theta_extrap * ramp;
    mscale *= 1.0f + 0.1f * logf(1.0f / p.freq_scale);
  }
  double s, c;
  sincos(theta, &s, &c);
  *cf = static_cast<float>(c) * mscale;
  *sf = static_cast<float>(s) * mscale;
}

// Pair idx (head idx / pairs, pair idx % pairs) of token t, one thread's
// share of RopeYarnKernel; idx past the last pair does nothing.
KT_CUDA_FORCEINLINE void RopeHeadPair(const float* x, int pos, int t, int idx, int nheads, int head_stride, int offset,
                                      const RopeParams& p, float* y, int y_stride, int y_offset) {
  const int pairs = p.n_dims / 2;
  if (idx >= nheads * pairs) return;
  const int h = idx / pairs, i = idx % pairs;
  float cf, sf;
  RopeCosSin(pos, i, p, &cf, &sf);
  const float* v = x + (static_cast<long long>(t) * nheads + h) * head_stride + offset + 2 * i;
  float* o = y + (static_cast<long long>(t) * nheads + h) * y_stride + y_offset + 2 * i;
  const float x0 = v[0], x1 = v[1];
  o[0] = x0 * cf - x1 * sf;
  o[1] = x0 * sf + x1 * cf;
}

// GPT-J style: pairs (2i, 2i+1) of the `n_dims` values starting at `offset`
// in each head vector. x is [ntok][nheads][head_stride]; pos[t] per token.
// The rotated values go to y [ntok][nheads][y_stride] at y_offset (y may be
// x, with the same stride and offset: in place).
__global__ void RopeYarnKernel(const float* x, const int* __restrict__ pos, int nheads, int head_stride, int offset,
                               RopeParams p, float* y, int y_stride, int y_offset) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  const int t = blockIdx.y;
  RopeHeadPair(x, pos[t], t, blockIdx.x * blockDim.x + threadIdx.x, nheads, head_stride, offset, p, y, y_stride,
               y_offset);
}

// out = silu(gate) * up, element-wise over n values.
__global__ void SiluMulKernel(const float* __restrict__ gate, const float* __restrict__ up,
                              float* __restrict__ out, long long n) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

// out = silu(gate) * up for ntok rows of k values (gate and up rows ld apart,
// out rows k apart; out may be null), quantised for the dp4a GEMV: one warp
// per 32 values.
__global__ void __launch_bounds__(256) SiluMulI8Kernel(const float* __restrict__ gate, const float* __restrict__ up,
                                                       long long ld, int ntok, int k, float* __restrict__ out,
                                                       I8Dst q) {
  GridDependentsLaunch();  // PDL (launch.h): the GEMV may start streaming weights now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  const int lane = threadIdx.x & 31;
  const int gw = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int nb = k >> 5;
  if (gw >= nb * ntok) return;  // whole warps leave together
  const int t = gw / nb, b = gw - t * nb;
  const long long i = t * ld + 32 * b + lane;
  const float g = gate[i];
  const float v = g / (1.0f + expf(-g)) * up[i];
  if (out) out[static_cast<long long>(t) * k + 32 * b + lane] = v;
  QuantizeBlock32(v, lane, t, b, nb, q);
}

// The query half of MlaKvAppendKernel's launch (q == nullptr: none): q_pe
// at q_offset of each head of q ([ntok][heads][q_stride]) roped into out at
// out_offset ([ntok][heads][out_stride]), as RopeYarnKernel's y form does.
struct MlaQRopeArgs {
  const float* q;
  float* out;
  int heads, q_stride, q_offset, out_stride, out_offset;
};

// MLA's RoPE step (DeepSeek absorbed attention), grid (1 + query blocks,
// ntok). Block 0 of token t appends its cache row: row t of kv ([c_kv
// n_norm | k_pe p.n_dims], rows ldkv apart) becomes the bf16 row rows + t *
// (n_norm + p.n_dims) = [RMSNorm(c_kv) * weight | k_pe roped at pos[t]], in
// the arithmetic of RmsNormKernel and RopeYarnKernel. The other blocks rope
// q_pe (qr), one pair per thread. One launch where RmsNorm, RopeYarn (k),
// F32ToBf16 and RopeYarn (q) were four.
__global__ void __launch_bounds__(256) MlaKvAppendKernel(const float* __restrict__ kv, long long ldkv,
                                                         const float* __restrict__ weight, float eps, int n_norm,
                                                         const int* __restrict__ pos, RopeParams p,
                                                         u16* __restrict__ rows, MlaQRopeArgs qr) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  const int t = blockIdx.y, pairs = p.n_dims / 2;
  if (blockIdx.x > 0) {  // query pairs
    GridDependencyWait();
    RopeHeadPair(qr.q, pos[t], t, (blockIdx.x - 1) * blockDim.x + threadIdx.x, qr.heads, qr.q_stride, qr.q_offset, p,
                 qr.out, qr.out_stride, qr.out_offset);
    return;
  }
  PrefetchL2(weight, 4LL * n_norm);
  GridDependencyWait();  // ... and this one reads nothing else before the previous kernel is done
  __shared__ float scratch[32];
  const float* x = kv + t * ldkv;
  u16* row = rows + static_cast<long long>(t) * (n_norm + p.n_dims);
  // The angles first: their double-precision math overlaps the norm's loads.
  float cf = 0.0f, sf = 0.0f;
  if (threadIdx.x < pairs) RopeCosSin(pos[t], threadIdx.x, p, &cf, &sf);
  const float ss = RowSquares(x, nullptr, nullptr, n_norm, scratch);
  const float inv = rsqrtf(ss / static_cast<float>(n_norm) + eps);
  for (int i = threadIdx.x; i < n_norm; i += blockDim.x) row[i] = FloatToBf16(x[i] * inv * weight[i]);
  if (threadIdx.x < pairs) {  // pairs <= blockDim.x (the launcher checks)
    const int i = threadIdx.x;
    const float x0 = x[n_norm + 2 * i], x1 = x[n_norm + 2 * i + 1];
    row[n_norm + 2 * i] = FloatToBf16(x0 * cf - x1 * sf);
    row[n_norm + 2 * i + 1] = FloatToBf16(x0 * sf + x1 * cf);
  }
}

// y = a + b (y may alias a or b).
__global__ void AddKernel(const float* a, const float* b, float* y, long long n) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    y[i] = a[i] + b[i];
}

// One block per token: index of the largest logit (lowest index on ties; a
// NaN logit wins so that it cannot hide).
__global__ void ArgmaxKernel(const float* __restrict__ logits, int n, int* __restrict__ out_index,
                             float* __restrict__ out_value) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  GridDependencyWait();    // ... and this one reads nothing before the previous kernel is done
  __shared__ float sv[32];
  __shared__ int si[32];
  const float* l = logits + static_cast<long long>(blockIdx.x) * n;
  float best = -3.402823466e38f;
  int bi = 0x7fffffff;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = l[i];
    if (v > best || (v != v && best == best)) { best = v; bi = i; }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, o);
    const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
    if (ov > best || (ov == best && oi < bi) || (ov != ov && best == best)) { best = ov; bi = oi; }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { sv[warp] = best; si[warp] = bi; }
  __syncthreads();
  if (warp == 0) {
    const int nw = blockDim.x >> 5;
    best = lane < nw ? sv[lane] : -3.402823466e38f;
    bi = lane < nw ? si[lane] : 0x7fffffff;
    for (int o = 16; o > 0; o >>= 1) {
      const float ov = __shfl_xor_sync(0xffffffffu, best, o);
      const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
      if (ov > best || (ov == best && oi < bi) || (ov != ov && best == best)) { best = ov; bi = oi; }
    }
    if (lane == 0) { out_index[blockIdx.x] = bi; out_value[blockIdx.x] = best; }
  }
}

struct RouterParams {
  int n_expert;      // <= kMaxExperts
  int top_k;         // <= 32
  int n_group;       // 0 or 1: no groups
  int n_group_used;
  int sigmoid;       // 1: sigmoid gating, 0: softmax
  int norm;          // normalise the selected weights to sum 1
  float scale;       // expert_weights_scale
};
constexpr int kMaxExperts = 1024;

// Float -> unsigned with the same order (for the warp's integer max); NaN
// sorts above +inf, so a NaN score is selected and shows in the output.
KT_CUDA_FORCEINLINE u32 OrderedKey(float f) {
  const u32 u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// One warp per token; expert e = lane + 32 j lives in lane `lane`'s
// registers (j < PL, 32 PL >= n_expert). Selection uses probs + bias; weights
// come from the unbiased probs. Ties go to the lower expert index.
// Top-k is k rounds of two warp reductions (__reduce_max_sync on the
// order-preserving key, then __reduce_min_sync on the index among the
// lanes holding that key); only the winning lane rescans its own PL keys.
// (The first version scanned every expert from shared memory and reduced
// with 10 shuffles per round: 6 us of a V3 layer's chain on the H200.)
template <int PL>
__global__ void __launch_bounds__(32) RouterKernel(const float* __restrict__ logits, const float* __restrict__ bias,
                                                   RouterParams p, int* __restrict__ ids, float* __restrict__ weights) {
  GridDependentsLaunch();  // PDL (launch.h): the next kernel may be scheduled now
  __shared__ float prob_s[32 * PL];
  __shared__ float sel_s[32 * PL];
  __shared__ float gscore[32];
  const int lane = threadIdx.x, n = p.n_expert;
  float bv[PL];  // the selection bias is a weight: read before the wait
#pragma unroll
  for (int j = 0; j < PL; ++j) bv[j] = bias && lane + 32 * j < n ? bias[lane + 32 * j] : 0.0f;
  GridDependencyWait();  // ... and nothing else before the previous kernel is done
  const float* l = logits + static_cast<long long>(blockIdx.x) * n;
  const float kNeg = -3.402823466e38f;
  float v[PL];
#pragma unroll
  for (int j = 0; j < PL; ++j) v[j] = lane + 32 * j < n ? l[lane + 32 * j] : kNeg;
  float sum = 0.0f, mx = kNeg;
  if (!p.sigmoid) {
#pragma unroll
    for (int j = 0; j < PL; ++j) mx = fmaxf(mx, v[j]);
    mx = WarpMax(mx);
  }
#pragma unroll
  for (int j = 0; j < PL; ++j) {
    const bool live = lane + 32 * j < n;
    v[j] = !live ? 0.0f : p.sigmoid ? 1.0f / (1.0f + expf(-v[j])) : expf(v[j] - mx);  // v is now the prob
    sum += v[j];
  }
  if (!p.sigmoid) {
    sum = WarpSum(sum);
#pragma unroll
    for (int j = 0; j < PL; ++j) v[j] /= sum;
  }
  u32 key[PL];
#pragma unroll
  for (int j = 0; j < PL; ++j) {
    const int e = lane + 32 * j;
    key[j] = 0;  // below every float's key: never selected
    if (e < n) {
      const float sel = v[j] + bv[j];
      prob_s[e] = v[j];
      sel_s[e] = sel;
      key[j] = OrderedKey(sel);
    }
  }
  __syncwarp();
  if (p.n_group > 1) {
    const int gsize = n / p.n_group;
    if (lane < p.n_group) {  // group score: sum of its two best selection scores
      float b1 = kNeg, b2 = kNeg;
      for (int e = lane * gsize; e < (lane + 1) * gsize; ++e) {
        const float s = sel_s[e];
        if (s > b1) { b2 = b1; b1 = s; } else if (s > b2) { b2 = s; }
      }
      gscore[lane] = b1 + (gsize > 1 ? b2 : 0.0f);
    }
    __syncwarp();
    // Keep the n_group_used best groups: a group is dropped when at least
    // n_group_used groups beat it (ties: lower index wins).
    float keep = 0.0f;
    if (lane < p.n_group) {
      int better = 0;
      for (int g = 0; g < p.n_group; ++g)
        better += (gscore[g] > gscore[lane]) || (gscore[g] == gscore[lane] && g < lane);
      keep = better < p.n_group_used ? 1.0f : 0.0f;
    }
    __syncwarp();  // every lane has read the scores before any is overwritten
    if (lane < p.n_group) gscore[lane] = keep;
    __syncwarp();
#pragma unroll
    for (int j = 0; j < PL; ++j) {
      const int e = lane + 32 * j;
      if (e < n && gscore[e / gsize] == 0.0f) key[j] = OrderedKey(kNeg);
    }
  }
  // This lane's best key (the lowest j, i.e. the lowest expert, on ties).
  u32 bk = 0;
  int bj = 0;
  auto local_best = [&]() {
    bk = 0;
    bj = 0;
#pragma unroll
    for (int j = 0; j < PL; ++j)
      if (key[j] > bk) { bk = key[j]; bj = j; }
  };
  local_best();
  int my_id = 0;
  for (int k = 0; k < p.top_k; ++k) {
    const u32 m = __reduce_max_sync(0xffffffffu, bk);
    const u32 win = __reduce_min_sync(0xffffffffu, bk == m ? static_cast<u32>(lane + 32 * bj) : 0xffffffffu);
    if (lane == k) my_id = win < static_cast<u32>(n) ? static_cast<int>(win) : 0;  // < n with valid params
    if (static_cast<u32>(lane + 32 * bj) == win) {
#pragma unroll
      for (int j = 0; j < PL; ++j)
        if (j == bj) key[j] = 0;
      local_best();
    }
  }
  const float wk = lane < p.top_k ? prob_s[my_id] : 0.0f;
  const float wsum = WarpSum(wk);
  if (lane < p.top_k) {
    ids[blockIdx.x * p.top_k + lane] = my_id;
    weights[blockIdx.x * p.top_k + lane] = (p.norm ? wk / wsum : wk) * p.scale;
  }
}

}  // namespace kt_cuda
