// ktc plan: where every op of a model would run within a VRAM budget, and
// what that costs, without writing an artifact.
#include <cstdio>

#include "compiler/gguf/gguf.h"
#include "tools/ktc/analysis_args.h"
#include "tools/ktc/commands.h"

namespace kt::ktc {
namespace {

constexpr const char* kAbout =
    "Imports a deepseek2 GGUF into the kt dialect, annotates every op with its\n"
    "per-token cost and places each op on the GPU or the CPU within --vram.\n"
    "Prints one row per op of the decode function (layer, op, device, weight\n"
    "bytes, intensity = FLOPs per resident weight byte, reason) and the totals:\n"
    "VRAM used (GPU weights + KV cache for --ctx + workspace), DRAM used, and\n"
    "the decode speed the cost model predicts for the assumed bandwidths.\n"
    "A budget below the minimum for a GPU plan is an error stating the minimum.\n"
    "\n"
    "--rules FILE overrides decisions: a YAML list, first matching rule wins.\n"
    "`match` is an ECMAScript regex that must match the whole op name as printed\n"
    "here (token_embd, blk.0.attn, blk.3.experts, output); `tensor` matches a\n"
    "GGUF tensor name the op uses instead. `device` is cpu, gpu or cuda:0.\n"
    "Pinned ops are placed first and keep their device; GPU pins count against\n"
    "--vram. A layer's KV cache stays in DRAM when its attention is on the CPU.\n"
    "The reason column names the rule (FILE:LINE). A rule that decides no op is\n"
    "a warning on stderr. Example rules.yaml:\n"
    "  - match: \"blk\\\\.[0-9]+\\\\.experts\"\n"
    "    device: cpu\n"
    "  - tensor: \"output\\\\.weight\"\n"
    "    device: gpu\n";

constexpr const char* kExamples =
    "\nexamples:\n"
    "  ktc plan DeepSeek-V2-Lite-Q4_K_M.gguf --vram 0 --ctx 4096\n"
    "  ktc plan DeepSeek-V3-Q4_K_M.gguf --vram 14GiB --ctx 8192 --config config.json\n"
    "  ktc plan tiny.gguf --vram 0.5GiB --ctx 256 --json | python3 -m json.tool\n"
    "  ktc plan DeepSeek-V3-Q4_K_M.gguf --vram 24GiB --ctx 8192 --rules rules.yaml\n"
    "\nexit status: 0 planned, 1 error (message on stderr), 2 usage\n";

}  // namespace

int RunPlan(int argc, char** argv) {
  tools::ArgParser args("ktc plan");
  AnalysisArgs common;
  bool json = false;
  common.Register(args);
  args.AddFlag("--json", &json, "machine-readable output");
  pipeline::AnalysisOptions options;
  pipeline::Bandwidths bw;
  if (std::optional<int> exit_code =
          common.ParseAndResolve(args, argc, argv, "ktc plan", kAbout, kExamples, &options, &bw))
    return *exit_code;
  StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(common.model);
  if (!file.ok()) {
    std::fprintf(stderr, "ktc plan: %s\n", file.status().message().c_str());
    return 1;
  }
  StatusOr<pipeline::Analysis> analysis = pipeline::Analyze(*file, options);
  if (!analysis.ok()) {
    std::fprintf(stderr, "ktc plan: %s\n", analysis.status().message().c_str());
    return 1;
  }
  for (const std::string& w : analysis->warnings) std::fprintf(stderr, "ktc plan: %s\n", w.c_str());
  if (json) {
    std::fputs(pipeline::PlanJson(*analysis, bw).c_str(), stdout);
    return 0;
  }
  std::printf("plan for %s (%s, %u layers) with --vram %s --ctx %llu\n\n", common.model.c_str(),
              analysis->hparams.architecture.c_str(), analysis->hparams.block_count, common.vram.c_str(),
              static_cast<unsigned long long>(options.ctx));
  std::fputs(pipeline::PlanTable(*analysis).c_str(), stdout);
  std::printf("\n");
  std::fputs(pipeline::PlanTotals(*analysis, bw).c_str(), stdout);
  return 0;
}

}  // namespace kt::ktc
