#include "tools/ktc/analysis_args.h"

#include <cstdio>

namespace kt::ktc {

void AnalysisArgs::Register(tools::ArgParser& args) {
  args.AddPositional("MODEL.gguf", &model, "a deepseek2 GGUF (DeepSeek-V2/V2-Lite/V3/R1, Kimi-K2)");
  args.AddString("--config", &config, "FILE", "Hugging Face config.json to cross-check against the GGUF");
  args.AddString("--vram", &vram, "SIZE", "GPU memory budget, e.g. 14GiB, 0.5GiB, 512MiB; 0 = CPU only (required)");
  args.AddString("--rules", &rules, "FILE",
                 "placement rules (YAML): the first rule matching an op pins it to cpu, gpu or cuda:N");
  args.AddInt("--ctx", &ctx, "N", "context length to reserve the KV cache for (default 4096)");
  args.AddFloat("--assume-dram-gbps", &dram_gbps, "GB/S", "DRAM read bandwidth for the prediction (default 100)");
  args.AddFloat("--assume-hbm-gbps", &hbm_gbps, "GB/S", "GPU memory bandwidth for the prediction (default 3000)");
}

Status AnalysisArgs::Resolve(const tools::ArgParser& args, pipeline::AnalysisOptions* options,
                             pipeline::Bandwidths* bw) const {
  if (!args.was_set("--vram"))
    return KT_ERROR(kInvalidArgument, "--vram SIZE is required (e.g. --vram 14GiB, or --vram 0 for CPU only)");
  KT_ASSIGN_OR_RETURN(uint64_t vram_bytes, tools::ParseByteSize(vram));
  if (ctx <= 0 || ctx > (int64_t{1} << 31))
    return KT_ERROR(kInvalidArgument, "--ctx ", ctx, " must be between 1 and 2^31");
  if (!(dram_gbps > 0) || !(hbm_gbps > 0))
    return KT_ERROR(kInvalidArgument, "--assume-dram-gbps and --assume-hbm-gbps must be positive");
  options->config_path = config;
  options->vram = std::to_string(vram_bytes);
  options->rules_path = rules;
  options->ctx = static_cast<uint64_t>(ctx);
  bw->dram_gbps = dram_gbps;
  bw->hbm_gbps = hbm_gbps;
  return Status::Ok();
}

std::optional<int> AnalysisArgs::ParseAndResolve(tools::ArgParser& args, int argc, char** argv,
                                                 const char* command, const char* about, const char* examples,
                                                 pipeline::AnalysisOptions* options, pipeline::Bandwidths* bw) const {
  Status parsed = args.Parse(argc, argv);
  if (args.help_requested()) {
    std::printf("%s\n%s%s", args.Usage().c_str(), about, examples);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.message().c_str());
    return 2;
  }
  if (Status s = Resolve(args, options, bw); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", command, s.message().c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace kt::ktc
