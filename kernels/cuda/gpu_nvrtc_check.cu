// Checks that kernels compiled at run time by the NVRTC driver
// (compiler/nvrtc) load and compute what the nvcc-compiled ones do. The
// int8 Q4_K decode GEMV (with its quantiser) and RMSNorm are compiled from
// the kernels/cuda headers for this GPU, twice (the second from the on-disk
// cache), loaded with the CUDA driver API from the cubin and, JIT-compiled,
// from the PTX, launched with the grid, block and shared memory that
// kernels.cu's host launchers use, and compared with the CPU reference and
// with the nvcc-compiled kernels run through kt_cuda.h on the same inputs.
// The headers are read from $KT_SOURCE_ROOT (default: the current directory).
#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>
#include <stdlib.h>  // mkdtemp

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "compiler/nvrtc/nvrtc_driver.h"
#include "kernels/cuda/gpu_harness.h"
#include "kernels/cuda/kt_cuda.h"

namespace kt_gpu_harness {
namespace {

// The driver API functions used here, taken from the runtime's driver entry
// points instead of linking -lcuda: linked against libcuda, kt_gpu_test could
// not even start (to say SKIPPED) on a build machine without a GPU driver.
// Each is asked for at the version of its cudaTypedefs.h prototype: the
// newest version of a name can differ (CUDA 13's cuCtxSynchronize takes a
// context; the one declared as cuCtxSynchronize(void) is version 2000).
struct DriverApi {
  PFN_cuGetErrorName_v6000 GetErrorName = nullptr;
  PFN_cuInit_v2000 Init = nullptr;
  PFN_cuCtxGetCurrent_v4000 CtxGetCurrent = nullptr;
  PFN_cuCtxSynchronize_v2000 CtxSynchronize = nullptr;
  PFN_cuModuleLoadData_v2000 ModuleLoadData = nullptr;
  PFN_cuModuleLoadDataEx_v2010 ModuleLoadDataEx = nullptr;
  PFN_cuModuleGetFunction_v2000 ModuleGetFunction = nullptr;
  PFN_cuModuleUnload_v2000 ModuleUnload = nullptr;
  PFN_cuLaunchKernel_v4000 LaunchKernel = nullptr;
  PFN_cuLaunchKernelEx_v11060 LaunchKernelEx = nullptr;
};
DriverApi g_cu;

template <class F>
bool Entry(const char* name, unsigned version, F* fn) {
  void* p = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
#if CUDART_VERSION >= 12050
  const cudaError_t e = cudaGetDriverEntryPointByVersion(name, &p, version, cudaEnableDefault, &found);
#else  // the runtime's own version: before 12.5 none of these changed
  (void)version;
  const cudaError_t e = cudaGetDriverEntryPoint(name, &p, cudaEnableDefault, &found);
#endif
  if (e != cudaSuccess || found != cudaDriverEntryPointSuccess || !p) {
    std::printf("  nvrtc: driver entry point %s (version %u) not found (%s)\n", name, version, cudaGetErrorString(e));
    return false;
  }
  *fn = reinterpret_cast<F>(p);
  return true;
}

bool LoadDriverApi() {
  return Entry("cuGetErrorName", 6000, &g_cu.GetErrorName) && Entry("cuInit", 2000, &g_cu.Init) &&
         Entry("cuCtxGetCurrent", 4000, &g_cu.CtxGetCurrent) &&
         Entry("cuCtxSynchronize", 2000, &g_cu.CtxSynchronize) &&
         Entry("cuModuleLoadData", 2000, &g_cu.ModuleLoadData) &&
         Entry("cuModuleLoadDataEx", 2010, &g_cu.ModuleLoadDataEx) &&
         Entry("cuModuleGetFunction", 2000, &g_cu.ModuleGetFunction) &&
         Entry("cuModuleUnload", 2000, &g_cu.ModuleUnload) && Entry("cuLaunchKernel", 4000, &g_cu.LaunchKernel) &&
         Entry("cuLaunchKernelEx", 11060, &g_cu.LaunchKernelEx);
}

// Prints a failed driver call with the error's name and where it was made.
bool CuOk(CUresult r, const char* expr, const char* file, int line) {
  if (r == CUDA_SUCCESS) return true;
  const char* name = nullptr;
  if (g_cu.GetErrorName(r, &name) != CUDA_SUCCESS) name = "unknown CUresult";
  std::fprintf(stderr, "CUDA driver error %s (%d) at %s:%d: %s\n", name, static_cast<int>(r), file, line, expr);
  return false;
}
// In the functions below (which return bool): a failed call fails a check and
// ends the NVRTC checks, rather than exiting the whole program as CK does.
#define CU(expr)                                                                    \
  do {                                                                              \
    if (!CuOk((expr), #expr, __FILE__, __LINE__)) {                                 \
      Report(Fmt("nvrtc: CUDA driver call at %s:%d", __FILE__, __LINE__), NAN, 0); \
      return false;                                                                 \
    }                                                                               \
  } while (0)

constexpr int kQ4K = 12;
constexpr int kK = 7168, kN = 2048;  // V3 shared-expert gate
constexpr int kNorm = 7168;          // V3 hidden size
constexpr float kEps = 1e-6f;

const char* const kQuantExpr = "&kt_cuda::QuantizeX2Kernel";
const char* const kNormExpr = "&kt_cuda::RmsNormKernel";
// GemvI8Q4KKernel<NT, R, S, KS> as kernels.cu's RunI8 / LaunchI8 pick it for
// one token with rows_per_warp 0: NT 1, R 4, S 2 stages, and
// KS 4 warps per row group when K >= 3 * 2048 and the rows alone give fewer
// than 4 blocks of 8 rows per SM (split_k), else KS 1.
const char* const kGemvSplitExpr = "&kt_cuda::GemvI8Q4KKernel<1, 4, 2, 4>";
const char* const kGemvExpr = "&kt_cuda::GemvI8Q4KKernel<1, 4, 2, 1>";
constexpr int kI8Warps = 4, kR = 4;  // gemv_i8.cuh's kI8Warps; R above

// The kernel parameter kt_cuda::I8Act (quant_i8.cuh), passed by value. The
// header is not included here: its non-template kernels would then be
// defined a second time next to kernels.cu's.
struct I8ActArg {
  const int8_t* hi;
  const int8_t* lo;
  const float2* ds;
  const float* s16;
  long long kp;
};

// The workspace split of kernels.cu's I8Workspace: hi[8][kp], lo[8][kp]
// int8 (kp = K rounded up to 2048), ds[8][K/32] float2, s16[8][K/16].
I8ActArg I8Split(void* ws, int k) {
  const long long kp = (k + 2047LL) / 2048 * 2048;
  int8_t* hi = static_cast<int8_t*>(ws);
  int8_t* lo = hi + kp * 8;
  float2* ds = reinterpret_cast<float2*>(lo + kp * 8);
  return I8ActArg{hi, lo, ds, reinterpret_cast<float*>(ds + static_cast<size_t>(k / 32) * 8), kp};
}

// Inputs, references and the nvcc-compiled kernels' outputs.
struct Problem {
  bool split_k = false;
  Dev<uint8_t> w;
  Dev<float> x, norm_x, norm_w;
  std::vector<double> gemv_ref, norm_ref, gemv_nvcc, norm_nvcc;
  Problem() : w(kt_cuda::RowBytes(kQ4K, kK) * kN), x(kK), norm_x(kNorm), norm_w(kNorm) {}
};

struct Kernels {
  CUfunction quant = nullptr, gemv = nullptr, norm = nullptr;
};

double MaxAbsDiff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    if (std::isnan(d)) return NAN;
    m = std::max(m, d);
  }
  return m;
}

// A launch like kernels.cu's LaunchOverlapped: with programmatic dependent
// launch on sm_90+, so the NVRTC code's griddepcontrol instructions run as
// they do in the nvcc build. Stream 0, shared memory 0 (both kernels use
// static shared memory only), as there.
bool LaunchOverlapped(CUfunction f, unsigned grid, unsigned block, bool pdl, void** args) {
  CUlaunchAttribute attr = {};
  attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  attr.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig cfg = {};
  cfg.gridDimX = grid;
  cfg.gridDimY = cfg.gridDimZ = 1;
  cfg.blockDimX = block;
  cfg.blockDimY = cfg.blockDimZ = 1;
  cfg.sharedMemBytes = 0;
  cfg.hStream = nullptr;
  cfg.attrs = &attr;
  cfg.numAttrs = pdl ? 1 : 0;
  CU(g_cu.LaunchKernelEx(&cfg, f, args, nullptr));
  return true;
}

// Runs the three kernels from one loaded module (`how`: "cubin" or "PTX") on
// poisoned outputs and a poisoned workspace of its own, and reports them.
bool RunModule(const char* how, CUmodule mod, const kt::nvrtc::CompileResult& cr, const Problem& p, bool pdl) {
  Kernels k;
  const std::string gemv_expr = p.split_k ? kGemvSplitExpr : kGemvExpr;
  CU(g_cu.ModuleGetFunction(&k.quant, mod, cr.lowered_names.at(kQuantExpr).c_str()));
  CU(g_cu.ModuleGetFunction(&k.gemv, mod, cr.lowered_names.at(gemv_expr).c_str()));
  CU(g_cu.ModuleGetFunction(&k.norm, mod, cr.lowered_names.at(kNormExpr).c_str()));

  Dev<uint8_t> ws(kt_cuda::GemvI8WorkspaceBytes(kK));
  Dev<float> y(kN), ny(kNorm);
  ws.Poison();  // the GEMV must read what this module's quantiser wrote
  y.Poison();
  ny.Poison();
  const I8ActArg xa = I8Split(ws.p, kK);

  {  // QuantizeX2Kernel(x, ldx, ntok, K, layout, kp, hi, lo, ds, s16): kernels.cu's QuantizeI8
    const float* x = p.x.p;
    long long ldx = kK, kp = xa.kp;
    int ntok = 1, kdim = kK, layout = 0;  // kI8LayoutQ4K
    int8_t* hi = const_cast<int8_t*>(xa.hi);
    int8_t* lo = const_cast<int8_t*>(xa.lo);
    float2* ds = const_cast<float2*>(xa.ds);
    float* s16 = const_cast<float*>(xa.s16);
    void* args[] = {&x, &ldx, &ntok, &kdim, &layout, &kp, &hi, &lo, &ds, &s16};
    const long long warps = static_cast<long long>(ntok) * (kK / 32);  // one warp per 32 values
    if (!LaunchOverlapped(k.quant, static_cast<unsigned>((warps * 32 + 255) / 256), 256, pdl, args)) return false;
  }
  {  // GemvI8Q4KKernel(w, row_bytes, K, N, xa, y, ldy): kernels.cu's LaunchI8 for Q4_K
    const uint8_t* w = p.w.p;
    long long rb = kt_cuda::RowBytes(kQ4K, kK), ldy = kN;
    int kdim = kK, n = kN;
    I8ActArg a = xa;
    float* yp = y.p;
    void* args[] = {&w, &rb, &kdim, &n, &a, &yp, &ldy};
    const int ks = p.split_k ? 4 : 1, sets = kI8Warps / ks;  // row groups per block
    const unsigned blocks = static_cast<unsigned>(((kN + kR - 1) / kR + sets - 1) / sets);
    if (!LaunchOverlapped(k.gemv, blocks, kI8Warps * 32, pdl, args)) return false;
  }
  {  // RmsNormKernel(x, res, h_out, weight, y, n, eps): kt_cuda::RmsNorm's <<<ntok, 1024 or 256>>>
    const float* x = p.norm_x.p;
    const float* res = nullptr;
    float* h_out = nullptr;
    const float* wt = p.norm_w.p;
    float* yp = ny.p;
    int n = kNorm;
    float eps = kEps;
    void* args[] = {&x, &res, &h_out, &wt, &yp, &n, &eps};
    CU(g_cu.LaunchKernel(k.norm, 1, 1, 1, kNorm >= 4096 ? 1024 : 256, 1, 1, 0, nullptr, args, nullptr));
  }
  CU(g_cu.CtxSynchronize());

  const std::vector<float> gy = y.Down(), nyv = ny.Down();
  Report(Fmt("nvrtc %-5s gemv-i8 Q4_K %d->%d ntok 1 vs CPU", how, kK, kN), RelErr(gy, p.gemv_ref), 1e-3);
  Report(Fmt("nvrtc %-5s gemv-i8 Q4_K vs nvcc (max |diff| %.1e)", how, MaxAbsDiff(gy, p.gemv_nvcc)),
         RelErr(gy, p.gemv_nvcc), 1e-6);
  Report(Fmt("nvrtc %-5s rmsnorm n %d ntok 1 vs CPU", how, kNorm), RelErr(nyv, p.norm_ref), 1e-5);
  Report(Fmt("nvrtc %-5s rmsnorm vs nvcc (max |diff| %.1e)", how, MaxAbsDiff(nyv, p.norm_nvcc)),
         RelErr(nyv, p.norm_nvcc), 1e-6);
  return true;
}

// Unloads a module when the checks end, early or not.
struct Module {
  CUmodule m = nullptr;
  ~Module() {
    if (m) g_cu.ModuleUnload(m);
  }
};

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool Run(const std::string& cache_dir) {
  // The runtime creates the device's primary context and makes it current;
  // the driver API then uses that same context, so the buffers allocated
  // with cudaMalloc are valid in the modules' kernels.
  CK(cudaFree(0));
  if (!LoadDriverApi()) {
    Report("nvrtc: CUDA driver API entry points", NAN, 0);
    return false;
  }
  CU(g_cu.Init(0));
  CUcontext ctx = nullptr;
  CU(g_cu.CtxGetCurrent(&ctx));
  Report("nvrtc: driver API sees the runtime's current context", ctx ? 0.0 : 1.0, 0);
  if (!ctx) return false;

  int dev = 0, major = 0, minor = 0, sms = 0;
  CK(cudaGetDevice(&dev));
  CK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  CK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  // sm_90a, not sm_90: gpu-check.sh builds the nvcc side for sm_90a on Hopper.
  const std::string arch = "sm_" + std::to_string(10 * major + minor) + (major == 9 && minor == 0 ? "a" : "");
  const bool pdl = major >= 9;  // kernels.cu's PdlAvailable

  const char* env_root = std::getenv("KT_SOURCE_ROOT");
  const std::string root = env_root && *env_root ? env_root : ".";
  auto headers = kt::nvrtc::ReadHeaders(root, {"kernels/cuda/common.cuh", "kernels/cuda/mma.cuh",
                                               "kernels/cuda/quant_i8.cuh", "kernels/cuda/gemv_i8.cuh",
                                               "kernels/cuda/ops.cuh"});
  if (!headers.ok()) {
    std::printf("  nvrtc: cannot read the kernel headers (set KT_SOURCE_ROOT to the source tree): %s\n",
                headers.status().ToString().c_str());
    Report("nvrtc: read kernels/cuda headers", NAN, 0);
    return false;
  }
  kt::nvrtc::CompileRequest req;
  req.source = "#include \"kernels/cuda/gemv_i8.cuh\"\n#include \"kernels/cuda/ops.cuh\"\n";
  req.source_name = "kt_nvrtc_check.cu";
  req.headers = std::move(*headers);
  req.arch = arch;
  req.name_expressions = {kQuantExpr, kGemvSplitExpr, kGemvExpr, kNormExpr};
  req.cache_dir = cache_dir;

  auto t0 = std::chrono::steady_clock::now();
  auto first = kt::nvrtc::Compile(req);
  const double t_first = Seconds(t0);
  if (!first.ok()) {
    std::printf("  nvrtc: %s\n", first.status().ToString().c_str());
    Report(Fmt("nvrtc: compile for %s", arch.c_str()), NAN, 0);
    return false;
  }
  t0 = std::chrono::steady_clock::now();
  auto second = kt::nvrtc::Compile(req);
  const double t_second = Seconds(t0);
  if (!second.ok()) {
    std::printf("  nvrtc: %s\n", second.status().ToString().c_str());
    Report("nvrtc: second compile (cache)", NAN, 0);
    return false;
  }
  std::printf("  nvrtc: %s, cubin %zu bytes, PTX %zu bytes; compiled in %.2f s, from the cache in %.1f ms\n",
              arch.c_str(), first->cubin.size(), first->ptx.size(), t_first, 1e3 * t_second);
  const bool cached = !first->from_cache && second->from_cache && second->cubin == first->cubin &&
                      second->ptx == first->ptx && second->lowered_names == first->lowered_names;
  Report("nvrtc: second compile from cache, same cubin, PTX and names", cached ? 0.0 : 1.0, 0);

  // Inputs, CPU references and the nvcc-compiled kernels through kt_cuda.h.
  Problem p;
  p.split_k = kK >= 3 * 2048 && (kN + 8 - 1) / 8 < 4 * sms;  // kernels.cu's RunI8
  Rng rng(31);
  const auto w = RandomWeights(kQ4K, kK, kN, rng);
  const auto x = RandomVec(kK, rng), nx = RandomVec(kNorm, rng), nw = RandomVec(kNorm, rng);
  p.w.Up(w);
  p.x.Up(x);
  p.norm_x.Up(nx);
  p.norm_w.Up(nw);
  p.gemv_ref = RefGemv(Dequant(kQ4K, w, kK, kN), kK, kN, x, 1);
  double ss = 0;
  for (float v : nx) ss += static_cast<double>(v) * v;
  const double inv = 1.0 / std::sqrt(ss / kNorm + kEps);
  p.norm_ref.resize(kNorm);
  for (int i = 0; i < kNorm; ++i) p.norm_ref[i] = nx[i] * inv * nw[i];
  {
    Dev<uint8_t> ws(kt_cuda::GemvI8WorkspaceBytes(kK));
    Dev<float> y(kN), ny(kNorm);
    y.Poison();
    ny.Poison();
    CK(kt_cuda::GemvI8(kQ4K, p.w.p, kt_cuda::RowBytes(kQ4K, kK), kK, kN, p.x.p, kK, 1, y.p, kN, ws.p, 0));
    CK(kt_cuda::RmsNorm(p.norm_x.p, nullptr, nullptr, p.norm_w.p, ny.p, 1, kNorm, kEps, 0));
    CK(cudaDeviceSynchronize());
    const auto gy = y.Down(), nyv = ny.Down();
    p.gemv_nvcc.assign(gy.begin(), gy.end());
    p.norm_nvcc.assign(nyv.begin(), nyv.end());
    // The nvcc side itself must be right, or "same as nvcc" proves nothing.
    Report(Fmt("nvrtc: nvcc gemv-i8 Q4_K %d->%d ntok 1 vs CPU (baseline)", kK, kN), RelErr(gy, p.gemv_ref), 1e-3);
    Report(Fmt("nvrtc: nvcc rmsnorm n %d vs CPU (baseline)", kNorm), RelErr(nyv, p.norm_ref), 1e-5);
  }
  std::printf("  nvrtc: GEMV kernel %s, %d SMs\n", p.split_k ? kGemvSplitExpr : kGemvExpr, sms);

  {  // The cubin, as compiled for this GPU.
    Module mod;
    CU(g_cu.ModuleLoadData(&mod.m, second->cubin.data()));
    if (!RunModule("cubin", mod.m, *second, p, pdl)) return false;
  }
  {  // The PTX, JIT-compiled by the driver (the path for a GPU without a cubin).
    char log[8192] = {};
    CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* vals[] = {log, reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof log))};
    Module mod;
    t0 = std::chrono::steady_clock::now();
    const CUresult r = g_cu.ModuleLoadDataEx(&mod.m, second->ptx.c_str(), 2, opts, vals);
    if (r != CUDA_SUCCESS && log[0]) std::printf("  nvrtc: PTX JIT log:\n%s\n", log);
    CU(r);
    std::printf("  nvrtc: PTX JIT-loaded in %.1f ms\n", 1e3 * Seconds(t0));
    if (!RunModule("PTX", mod.m, *second, p, pdl)) return false;
  }
  // A cubin taken out of an artifact that ktc compile wrote (its kernel
  // image decode.<arch>.cubin, e.g. extracted with scripts/kta-kernel.py):
  // the same kernels under the same mangled names, so they run here too.
  if (const char* path = std::getenv("KT_ARTIFACT_CUBIN"); path && *path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 4 || std::memcmp(bytes.data(), "\x7f" "ELF", 4) != 0) {
      Report(Fmt("nvrtc: KT_ARTIFACT_CUBIN=%s is a readable cubin", path), NAN, 0);
      return false;
    }
    Module mod;
    CU(g_cu.ModuleLoadData(&mod.m, bytes.data()));
    if (!RunModule("artifact cubin", mod.m, *second, p, pdl)) return false;
  }
  return true;
}

}  // namespace

void TestNvrtc() {
  std::printf("== NVRTC: kernels compiled at run time (compiler/nvrtc), loaded with the driver API\n");
  std::string dir = (std::filesystem::temp_directory_path() / "kt_nvrtc_check_XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    Report("nvrtc: create a temporary cache directory", NAN, 0);
    return;
  }
  Run(dir);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace kt_gpu_harness
