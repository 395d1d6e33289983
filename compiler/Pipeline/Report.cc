#include "compiler/Pipeline/Report.h"

#include <cstdio>

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace kt::pipeline {

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

std::string PlanTable(const Analysis& a) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-5s %-24s %-7s %14s %9s  %s\n", "layer", "op", "device", "weight bytes",
                "intensity", "reason");
  out += line;
  for (const OpInfo& o : a.decode.ops) {
    if (o.kind == artifact::OpKind::kAdd) continue;  // weightless; placed with the residual stream
    std::string layer = o.layer >= 0 ? std::to_string(o.layer) : "-";
    std::snprintf(line, sizeof line, "%-5s %-24s %-7s %14llu %9.3f  ", layer.c_str(), o.record.c_str(),
                  o.gpu ? "gpu:0" : "cpu", static_cast<unsigned long long>(o.weight_bytes), o.intensity);
    out += line;
    out += o.reason + "\n";
  }
  return out;
}

std::string PlanTotals(const Analysis& a, const Bandwidths& bw) {
  std::string out;
  auto row = [&](const char* what, uint64_t bytes, const std::string& note = "") {
    char line[256];
    std::snprintf(line, sizeof line, "  %-22s %16llu B  %12s", what, static_cast<unsigned long long>(bytes),
                  HumanBytes(bytes).c_str());
    out += line;
    if (!note.empty()) out += "  " + note;
    out += "\n";
  };
  out += "totals:\n";
  row("VRAM budget", a.vram_budget);
  if (a.any_gpu)
    row("VRAM minimum", a.min_vram, "(KV cache + workspace + attention/norm/router weights + rule-pinned weights)");
  // The KV cache of a layer lives where its attention runs, so it can be
  // split; each side shows its part.
  const uint64_t kv_gpu = a.any_gpu ? a.kv_cache_gpu : 0;
  row("VRAM used", a.vram_used(),
      !a.any_gpu ? "(CPU-only plan)" : kv_gpu ? "(GPU weights + KV cache + workspace)" : "(GPU weights + workspace)");
  row("  GPU weights", a.gpu_weight_bytes);
  row("  KV cache", kv_gpu, "ctx " + std::to_string(a.ctx));
  row("  workspace", a.any_gpu ? a.workspace : 0);
  row("DRAM used", a.dram_used(), a.kv_cache_cpu() ? "(CPU weights + KV cache)" : "(CPU weights)");
  row("  CPU weights", a.cpu_weight_bytes);
  if (a.kv_cache_cpu()) row("  KV cache", a.kv_cache_cpu(), "ctx " + std::to_string(a.ctx));
  row("weights total", a.gpu_weight_bytes + a.cpu_weight_bytes,
      a.gpu_weight_bytes + a.cpu_weight_bytes == a.gguf_tensor_bytes ? "(= GGUF tensor bytes)"
                                                                     : "(DIFFERS from GGUF tensor bytes)");
  SpeedEstimate s = PredictDecode(a, bw.dram_gbps, bw.hbm_gbps);
  char line[512];
  std::snprintf(line, sizeof line,
                "predicted decode: %.1f tokens/s (%.3f ms/token; reads %s/token from GPU memory at %.0f GB/s, %s/token "
                "from DRAM at %.0f GB/s; KV cache read at half context)\n",
                s.tokens_per_second, s.seconds_per_token * 1e3,
                HumanBytes(static_cast<uint64_t>(s.gpu_bytes_per_token)).c_str(), bw.hbm_gbps,
                HumanBytes(static_cast<uint64_t>(s.cpu_bytes_per_token)).c_str(), bw.dram_gbps);
  out += line;
  return out;
}

std::string PlanJson(const Analysis& a, const Bandwidths& bw) {
  llvm::json::Array ops;
  for (const OpInfo& o : a.decode.ops) {
    llvm::json::Array weights;
    for (const std::string& w : o.weights) weights.push_back(w);
    ops.push_back(llvm::json::Object{
        {"name", o.record},
        {"layer", o.layer},
        {"op", o.mnemonic},
        {"kind", artifact::Name(o.kind)},
        {"device", o.gpu ? "gpu:0" : "cpu"},
        {"reason", o.reason},
        {"weight_bytes", static_cast<int64_t>(o.weight_bytes)},
        {"touched_bytes", static_cast<int64_t>(o.touched_bytes)},
        {"flops", static_cast<int64_t>(o.flops)},
        {"kv_bytes", static_cast<int64_t>(o.kv_bytes)},
        {"intensity", o.intensity},
        {"weights", std::move(weights)},
    });
  }
  SpeedEstimate s = PredictDecode(a, bw.dram_gbps, bw.hbm_gbps);
  auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };
  llvm::json::Object root{
      {"architecture", a.hparams.architecture},
      {"ctx", i64(a.ctx)},
      {"ops", std::move(ops)},
      {"totals",
       llvm::json::Object{
           {"vram_budget", i64(a.vram_budget)},
           {"vram_min", i64(a.min_vram)},
           {"vram_used", i64(a.vram_used())},
           {"dram_used", i64(a.dram_used())},
           {"gpu_weight_bytes", i64(a.gpu_weight_bytes)},
           {"cpu_weight_bytes", i64(a.cpu_weight_bytes)},
           {"kv_cache_bytes", i64(a.kv_cache)},
           {"kv_cache_gpu_bytes", i64(a.kv_cache_gpu)},
           {"kv_cache_device", a.kv_cache_cpu() == 0 && a.kv_cache ? "gpu:0" : a.kv_cache_gpu ? "split" : "cpu"},
           {"workspace_bytes", i64(a.any_gpu ? a.workspace : 0)},
           {"gguf_tensor_bytes", i64(a.gguf_tensor_bytes)},
       }},
      {"prediction",
       llvm::json::Object{
           {"decode_tokens_per_second", s.tokens_per_second},
           {"seconds_per_token", s.seconds_per_token},
           {"gpu_bytes_per_token", s.gpu_bytes_per_token},
           {"cpu_bytes_per_token", s.cpu_bytes_per_token},
           {"assumed_dram_gbps", bw.dram_gbps},
           {"assumed_hbm_gbps", bw.hbm_gbps},
       }},
  };
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)));
  os << "\n";
  return out;
}

}  // namespace kt::pipeline
