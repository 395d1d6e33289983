// Host entry points of kt's CUDA kernels (compiled by nvcc into kt_cuda_kernels).
// Every function returns the launch's cudaError_t; callers check it.
// On sm_90+ kernels are launched as programmatic dependents of the kernel
// before them in the stream and may read weights (matrices, norm weights,
// the router's selection bias) before they wait for it: weights must not be
// written by the preceding kernel.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace kt_cuda {

// Bytes of one GGUF row of `k` values of ggml type `type`; 0 for unsupported
// types or a `k` that is not a whole number of blocks.
long long RowBytes(int type, int k);
bool GemvSupports(int type);

// y[t * ldy + n] = sum_k W[n][k] x[t * ldx + k], t < ntok (any count; done 8 at
// a time). `batch` independent problems via the *_bstride strides (elements
// for x/y, bytes for w). `rows_per_block` (2, 4 or 8; 0 = default) is a
// tuning knob the benchmark sweeps.
cudaError_t Gemv(int type, const void* w, long long row_bytes, int k, int n, const float* x,
                 long long ldx, int ntok, float* y, long long ldy, cudaStream_t stream,
                 int batch = 1, long long w_bstride = 0, long long x_bstride = 0,
                 long long y_bstride = 0, int rows_per_block = 0);

// Tensor-core decode GEMV for Q4_K and Q8_0 (gemv_tc.cuh): same contract as
// Gemv for one matrix; K % 256 == 0, 16-byte aligned rows. `workspace` holds
// GemvTcWorkspaceBytes(k) bytes (x split into bf16 hi/lo plus block sums).
bool GemvTcSupports(int type);
size_t GemvTcWorkspaceBytes(int k);
cudaError_t GemvTc(int type, const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                   int ntok, float* y, long long ldy, void* workspace, cudaStream_t stream);

// Integer decode GEMV for Q4_K, Q6_K and Q8_0 (gemv_i8.cuh): same contract as Gemv
// for one matrix; x is first quantised into two int8 levels (error < 2e-5 of
// each 32-value block's largest |x|), then dp4a. From 3 tokens on, Q4_K,
// Q8_0 and Q6_K go to GemvMma below when its layout rules hold (and
// rows_per_warp is 0). `workspace` holds
// GemvI8WorkspaceBytes(k) bytes, 16-byte aligned. On sm_90+ the GEMV is
// launched with programmatic dependent launch, so it streams its weights
// while the quantiser runs: `w` must not be written by the preceding kernel
// in the stream (x may be). `rows_per_warp` (1, 2, or 4 for one token of Q4_K / Q8_0; 0 = default) is a tuning
// knob the benchmark sweeps. K % 256 == 0 with 16-byte aligned rows (Q4_K);
// K % 32 == 0 (Q8_0); K % 256 == 0 with 4-byte aligned rows, i.e. an even
// number of super-blocks per row (Q6_K).
bool GemvI8Supports(int type);
size_t GemvI8WorkspaceBytes(int k);
cudaError_t GemvI8(int type, const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                   int ntok, float* y, long long ldy, void* workspace, cudaStream_t stream, int rows_per_warp = 0);
// The two halves of GemvI8 for up to 8 tokens: quantise x into the workspace
// once, then run any number of GEMVs of the same K and weight type on it (in
// a model: the matrices that read the same normalised input).
cudaError_t GemvI8Quantize(int type, const float* x, long long ldx, int ntok, int k, void* workspace,
                           cudaStream_t stream);
cudaError_t GemvI8Prepared(int type, const void* w, long long row_bytes, int k, int n, int ntok, float* y,
                           long long ldy, const void* workspace, cudaStream_t stream, int rows_per_warp = 0);

// Decode GEMV / skinny GEMM for Q4_K, Q5_K, Q8_0 and Q6_K on int8 tensor
// cores (gemv_mma.cuh), 1..16 tokens in one launch: the path for several
// tokens per step, and Q5_K's fast path at any token count (GemvI8 has no
// Q5_K kernel; Gemv's CUDA-core one is 2-3.6x slower at 1 token on the H200). Same contract as Gemv for one matrix; x is quantised per 256
// values into two int8 levels (error < 2e-5 of their largest |x|). K % 256 ==
// 0; w and x 16-byte aligned, ldx % 4 == 0; rows a multiple of 16 bytes
// (Q4_K, Q5_K, Q8_0) or of 2 (Q6_K). `workspace` holds
// GemvMmaWorkspaceBytes(k) bytes, 16-byte aligned. Launched as a
// programmatic dependent (sm_90): `w` must not be written by the preceding
// kernel in the stream. `tiles_per_warp` (16-row tiles per warp, 1 or 2; 0 =
// 1) and `ksplit` (blocks along K; 0 = automatic) are tuning knobs the
// benchmark sweeps.
bool GemvMmaSupports(int type);
size_t GemvMmaWorkspaceBytes(int k);
cudaError_t GemvMma(int type, const void* w, long long row_bytes, int k, int n, const float* x, long long ldx,
                    int ntok, float* y, long long ldy, void* workspace, cudaStream_t stream, int tiles_per_warp = 0,
                    int ksplit = 0);
// Copy kernel used by the benchmark to measure the bandwidth ceiling.
cudaError_t CopyKernel(const void* src, void* dst, size_t bytes, cudaStream_t stream);

cudaError_t RmsNorm(const float* x, const float* residual, float* h_out, const float* weight,
                    float* y, int ntok, int n, float eps, cudaStream_t stream);
// RmsNorm whose result is also quantised into `workspace` for
// GemvI8Prepared of weight type `type` (what GemvI8Quantize would write:
// ntok <= 8, n a whole number of the type's blocks), so that no quantiser
// launch sits between a norm and the GEMVs that read it. y may be null when
// only those GEMVs read the result, and h_out when the residual sum is not
// needed; y and h_out must not overlap x or residual (no in-place form).
cudaError_t RmsNormI8(const float* x, const float* residual, float* h_out, const float* weight, float* y, int ntok,
                      int n, float eps, int type, void* workspace, cudaStream_t stream);

struct Yarn {
  int n_dims = 64;
  float freq_base = 10000.0f;
  float factor = 1.0f;          // rope.scaling.factor; 1 = no YaRN
  int orig_ctx = 4096;          // rope.scaling.original_context_length
  float attn_factor = 1.0f;
  float beta_fast = 32.0f, beta_slow = 1.0f;
};
// Rotates x in place, or writes the rotated n_dims values to y (its own head
// stride and offset; the rest of y is left alone), e.g. q_pe straight into
// MLA's [q_lat | q_pe] query so that no copy sits between kernels.
cudaError_t RopeYarn(float* x, const int* pos, int ntok, int nheads, int head_stride, int offset,
                     const Yarn& yarn, cudaStream_t stream, float* y = nullptr, int y_head_stride = 0,
                     int y_offset = 0);
// The correction-dimension range YaRN ramps over (host side, shared with tests).
void YarnCorrDims(const Yarn& yarn, float* lo, float* hi);
// MLA's RoPE step. Cache append: kv holds ntok rows (ldkv apart) of [c_kv
// n_norm | k_pe yarn.n_dims] f32 (the kv_a projection); token t's cache row,
// at rows + t * (n_norm + n_dims) in bf16, becomes [RMSNorm(c_kv) *
// norm_weight | k_pe roped at pos[t]]. With q_rope.q set, the same launch
// also ropes the query's q_pe as RopeYarn's out-of-place form would: the
// n_dims values at q_offset of each head of q ([ntok][heads][q_stride]) go
// to out at out_offset ([ntok][heads][out_stride]). One launch for what was
// RmsNorm, RopeYarn twice and the bf16 conversion.
struct MlaQRope {
  const float* q = nullptr;
  int heads = 0, q_stride = 0, q_offset = 0;
  float* out = nullptr;
  int out_stride = 0, out_offset = 0;
};
cudaError_t MlaKvAppend(const float* kv, long long ldkv, int ntok, const float* norm_weight, float eps, int n_norm,
                        const int* pos, const Yarn& yarn, unsigned short* rows, cudaStream_t stream,
                        const MlaQRope& q_rope = MlaQRope());

cudaError_t SiluMul(const float* gate, const float* up, float* out, long long n, cudaStream_t stream);
// silu(gate) * up for ntok rows of k values (gate and up rows `ld` apart, e.g.
// the halves of one [gate | up] GEMV output), quantised into `workspace` as
// GemvI8Quantize would for weight type `type` (ntok <= 8); also written to
// out (rows k apart) unless out is null.
cudaError_t SiluMulI8(const float* gate, const float* up, long long ld, int ntok, int k, float* out, int type,
                      void* workspace, cudaStream_t stream);
cudaError_t Add(const float* a, const float* b, float* y, long long n, cudaStream_t stream);
cudaError_t Argmax(const float* logits, int ntok, int n, int* index, float* value, cudaStream_t stream);

struct Router {
  int n_expert = 0, top_k = 0, n_group = 1, n_group_used = 1;
  bool sigmoid = false, norm = false;
  float scale = 1.0f;
};
cudaError_t Route(const float* logits, const float* bias, int ntok, const Router& r, int* ids,
                  float* weights, cudaStream_t stream);

// MLA decode attention over the compressed latent cache (absorbed form).
// q: [ntok][heads][576] f32 = [q_nope·W_kb (512) | roped q_pe (64)];
// cache: [kv_len][576] bf16 = [normalised c_kv | roped k_pe];
// out: [ntok][heads][512] f32 latent (to be multiplied by W_vb).
// Token t attends to cache rows [0, kv_len - (ntok - 1 - t)). `workspace`
// holds MlaDecodeWorkspaceBytes(...) bytes. Launched as a programmatic
// dependent (sm_90): cache rows below kv_len - ntok may be read before the
// preceding kernel in the stream has finished, so they must be complete by
// then; q and this step's rows (which that kernel may be appending) are read
// after it.
// `config` picks the block shape for benchmarks (0: automatic; 1: 16 heads x
// 64-row tiles, 2 stages; 2: 16 x 32, 5 stages; 3: 64 x 32, 3 stages; 4: 16 x
// 32, 2 stages, two blocks per SM; 5: 64 x 64 on Hopper warpgroup MMAs in
// two pipelined warpgroups, sm_90a builds on Hopper only, the automatic
// choice for >= 64 heads from 4k rows on there; 6: 16 x 32,
// warp-specialised (a producer warp, two consumer groups), sm_90+, the
// automatic choice for <= 32 heads from 16k rows on;
// cudaErrorNotSupported where a kernel cannot run); every
// configuration computes the same result. The cache must be 16-byte aligned.
constexpr int kMlaDecodeConfigs = 7;  // configs 0 .. kMlaDecodeConfigs - 1
bool MlaDecodeConfigRuns(int config);  // whether this build and GPU run `config`
size_t MlaDecodeWorkspaceBytes(int ntok, int heads, int kv_len);
cudaError_t MlaDecode(const float* q, const unsigned short* cache, int ntok, int heads, int kv_len,
                      float scale, float* out, void* workspace, cudaStream_t stream, int config = 0);

// MLA prefill attention, non-absorbed form (mla_prefill.cuh), bf16 inputs:
// q [T][H][192], k_nope [S][H][128], k_pe [S][64] (shared by the heads),
// v [S][H][128]; out [T][H][128] f32. Query t is at position S - T + t
// (S - T cached tokens before the prompt chunk) and is causal.
cudaError_t MlaPrefill(const unsigned short* q, const unsigned short* k_nope, const unsigned short* k_pe,
                       const unsigned short* v, int T, int S, int H, float scale, float* out, cudaStream_t stream);

}  // namespace kt_cuda
