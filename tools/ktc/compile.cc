// ktc compile: GGUF -> kt artifact (.kta) for ktrun.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compiler/Pipeline/Compile.h"
#include "compiler/gguf/gguf.h"
#include "compiler/nvrtc/gpu_arch.h"
#include "tools/ktc/analysis_args.h"
#include "tools/ktc/commands.h"

namespace kt::ktc {
namespace {

constexpr const char* kAbout =
    "Compiles a deepseek2 GGUF into a kt artifact: imports it into the kt\n"
    "dialect, places every op on the GPU or the CPU within --vram (as `ktc plan`\n"
    "shows), builds the decode and prefill plans and streams every tensor,\n"
    "unchanged, into the CPU or GPU weight segment of its op.\n"
    "\n"
    "--cpu picks the CPU ISA the artifact requires: native (this machine's best),\n"
    "generic, avx2, avx512 or amx.\n"
    "--rules FILE pins ops to a device before placement (first matching rule\n"
    "wins; see `ktc plan --help` and docs/compiler.md for the format).\n"
    "When ops land on the GPU, their decode kernels are compiled with NVRTC for\n"
    "--gpu-arch (default sm_90a) and stored in the artifact as a cubin and as\n"
    "PTX; --kernel-cache DIR keeps NVRTC's output between runs (default\n"
    "$XDG_CACHE_HOME/kt/nvrtc or ~/.cache/kt/nvrtc; none: no cache).\n"
    "--emit=mlir prints the placed kt module instead of writing an artifact;\n"
    "--emit=mlir-after=STAGE stops after import, annotate-costs or place-ops.\n";

constexpr const char* kExamples =
    "\nexamples:\n"
    "  ktc gen --preset tiny-v3 --type q4_k_m -o tiny.gguf\n"
    "  ktc compile tiny.gguf --vram 0 --ctx 256 -o tiny.kta && ktrun generate tiny.kta --prompt hello\n"
    "  ktc compile DeepSeek-V3-Q4_K_M.gguf --config config.json --vram 14GiB --ctx 8192 -o v3.kta\n"
    "  ktc compile tiny.gguf --vram 0 --ctx 256 --emit=mlir-after=import\n"
    "  ktc compile DeepSeek-V3-Q4_K_M.gguf --vram 24GiB --ctx 8192 --rules rules.yaml -o v3.kta\n"
    "  ktc compile tiny.gguf --vram 4.5MiB --ctx 256 --gpu-arch sm_80 --kernel-cache none -o tiny-a100.kta\n"
    "\nexit status: 0 written, 1 error (message on stderr), 2 usage\n";

}  // namespace

int RunCompile(int argc, char** argv) {
  tools::ArgParser args("ktc compile");
  AnalysisArgs common;
  std::string out, cpu = "native", emit, gpu_arch = "sm_90a", kernel_cache;
  bool quiet = false;
  common.Register(args);
  args.AddString("-o", &out, "OUT.kta", "artifact to write (required unless --emit)");
  args.AddString("--cpu", &cpu, "ISA", "native (default), generic, avx2, avx512 or amx");
  args.AddString("--emit", &emit, "WHAT", "mlir or mlir-after=import|annotate-costs|place-ops: print MLIR instead");
  args.AddString("--gpu-arch", &gpu_arch, "ARCH", "GPU target of the kernels, sm_XY or sm_XYa (default sm_90a)");
  args.AddString("--kernel-cache", &kernel_cache, "DIR", "NVRTC cache directory, or none (default ~/.cache/kt/nvrtc)");
  args.AddFlag("--quiet", &quiet, "no progress or summary on stderr");
  pipeline::AnalysisOptions options;
  pipeline::Bandwidths bw;
  if (std::optional<int> exit_code =
          common.ParseAndResolve(args, argc, argv, "ktc compile", kAbout, kExamples, &options, &bw))
    return *exit_code;
  if (!emit.empty()) {
    const std::string prefix = "mlir-after=";
    options.emit_mlir = true;
    if (emit == "mlir") {
      options.emit_after = pipeline::Stage::kPlace;
    } else if (emit.rfind(prefix, 0) != 0 || !pipeline::ParseStage(emit.substr(prefix.size()), &options.emit_after)) {
      std::fprintf(stderr, "ktc compile: --emit=%s is not mlir or mlir-after=import|annotate-costs|place-ops\n",
                   emit.c_str());
      return 2;
    }
  } else if (out.empty()) {
    std::fprintf(stderr, "ktc compile: -o OUT.kta is required (see --help)\n");
    return 2;
  }
  pipeline::CompileOptions compile;
  compile.cpu = cpu;
  compile.gpu_arch = gpu_arch;
  compile.gpu_kernels = pipeline::GpuKernelsAvailable();
  if (kernel_cache.empty()) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg) kernel_cache = std::string(xdg) + "/kt/nvrtc";
    else if (home && *home) kernel_cache = std::string(home) + "/.cache/kt/nvrtc";
  }
  compile.kernel_cache = kernel_cache == "none" ? "" : kernel_cache;
  if (Status arch = nvrtc::CheckGpuArch(gpu_arch); !arch.ok()) {
    std::fprintf(stderr, "ktc compile: --gpu-arch: %s\n", arch.message().c_str());
    return 2;
  }
  if (StatusOr<artifact::CpuIsa> isa = pipeline::ResolveCpuIsa(cpu); !isa.ok()) {
    std::fprintf(stderr, "ktc compile: %s\n", isa.status().message().c_str());
    return 2;
  }

  StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(common.model);
  if (!file.ok()) {
    std::fprintf(stderr, "ktc compile: %s\n", file.status().message().c_str());
    return 1;
  }
  StatusOr<pipeline::Analysis> analysis = pipeline::Analyze(*file, options);
  if (!analysis.ok()) {
    std::fprintf(stderr, "ktc compile: %s\n", analysis.status().message().c_str());
    return 1;
  }
  for (const std::string& w : analysis->warnings) std::fprintf(stderr, "ktc compile: %s\n", w.c_str());
  if (options.emit_mlir) {
    std::fputs(analysis->mlir.c_str(), stdout);
    return 0;
  }
  // Progress only where it is worth watching: models of 256 MiB and more.
  int last_percent = -1;
  if (!quiet && analysis->gguf_tensor_bytes >= (uint64_t{256} << 20)) {
    compile.progress = [&last_percent](uint64_t done, uint64_t total) {
      const int percent = total ? static_cast<int>(done * 100 / total) : 100;
      if (percent / 5 == last_percent / 5) return;
      last_percent = percent;
      std::fprintf(stderr, "\rktc compile: writing weights %3d%% (%s of %s)", percent,
                   pipeline::HumanBytes(done).c_str(), pipeline::HumanBytes(total).c_str());
      if (done == total) std::fprintf(stderr, "\n");
    };
  }
  StatusOr<artifact::WriteResult> written = pipeline::CompileToArtifact(*file, *analysis, compile, out);
  if (!written.ok()) {
    std::fprintf(stderr, "ktc compile: %s\n", written.status().message().c_str());
    return 1;
  }
  if (!quiet) {
    const pipeline::Analysis& a = *analysis;
    int gpu_ops = 0, cpu_ops = 0;
    for (const pipeline::OpInfo& o : a.decode.ops) (o.gpu ? gpu_ops : cpu_ops)++;
    std::fprintf(stderr, "ktc compile: wrote %s (%s, %llu bytes)\n", out.c_str(),
                 pipeline::HumanBytes(written->header.file_size).c_str(),
                 static_cast<unsigned long long>(written->header.file_size));
    std::fprintf(stderr, "  decode ops: %d on gpu:0, %d on the CPU; target cpu %s, gpu %s\n", gpu_ops, cpu_ops,
                 artifact::Name(written->manifest.target.cpu_isa),
                 a.any_gpu ? written->manifest.target.gpu_arch.c_str() : "none");
    if (a.any_gpu && compile.gpu_kernels) {
      size_t entries = 0;
      for (const artifact::KernelImage& k : written->manifest.kernels)
        entries = k.entry_points.size() > entries ? k.entry_points.size() : entries;
      std::fprintf(stderr, "  GPU kernels: %zu entry points compiled by NVRTC for %s (cubin + PTX)\n", entries,
                   gpu_arch.c_str());
    } else if (a.any_gpu) {
      std::fprintf(stderr, "  GPU kernels: none (this ktc was built without NVRTC)\n");
    }
    std::fputs(pipeline::PlanTotals(a, bw).c_str(), stderr);
  }
  return 0;
}

}  // namespace kt::ktc
