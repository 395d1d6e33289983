// ktrun bench: prefill and decode speed, time to first token, and how close
// decode comes to the DRAM bandwidth it is bound by.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "runtime/cpu/bandwidth.h"
#include "runtime/cpu/thread_pool.h"
#include "tools/ktrun/common.h"
#include "tools/ktrun/json.h"

namespace kt::ktrun {
namespace {

constexpr const char* kExamples =
    "\nexamples:\n"
    "  ktrun bench v2-lite.kta --prompt-len 512 --gen-len 128 --repeat 3\n"
    "  ktrun bench tiny.kta --prompt-len 32 --gen-len 16 --json --out bench.json\n";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int RunBench(int argc, char** argv) {
  CommonOptions common;
  int64_t prompt_len = 512, gen_len = 128, repeat = 3, probe_mib = 1024;
  bool json = false;
  std::string out_path;
  tools::ArgParser args("ktrun bench");
  AddCommonOptions(args, &common, /*sampling=*/false);
  args.AddInt("--prompt-len", &prompt_len, "N", "prompt tokens (default 512)");
  args.AddInt("--gen-len", &gen_len, "N", "generated tokens (default 128)");
  args.AddInt("--repeat", &repeat, "N", "repetitions; medians are reported (default 3)");
  args.AddInt("--bandwidth-mib", &probe_mib, "MIB", "buffer for the DRAM bandwidth probe (default 1024, 0 = skip)");
  args.AddFlag("--json", &json, "print results as JSON");
  args.AddString("--out", &out_path, "FILE", "also write the JSON results to FILE");
  if (Status s = args.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  if (args.help_requested()) {
    std::printf("ktrun bench: measure prefill/decode tokens per second\n\n%s%s", args.Usage().c_str(), kExamples);
    return 0;
  }
  if (prompt_len < 1 || gen_len < 2 || repeat < 1 || repeat > 100 || probe_mib < 0) {
    std::fprintf(stderr, "ktrun bench: need --prompt-len >= 1, --gen-len >= 2, 1 <= --repeat <= 100\n");
    return 2;
  }
  auto loaded = LoadEngine(common);
  if (!loaded.ok()) return Fail("bench", loaded.status());
  engine::Engine& e = **loaded;

  // A fixed pseudo-random prompt of ordinary tokens.
  std::vector<int32_t> prompt(prompt_len);
  uint64_t state = 12345;
  for (int32_t& t : prompt) {
    do {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      t = static_cast<int32_t>((state >> 33) % e.config().vocab);
    } while (e.tokenizer().type(t) != tokenizer::TokenType::kNormal);
  }
  engine::GenerateOptions options;
  options.max_tokens = static_cast<int32_t>(gen_len);
  options.stop_at_eos = false;

  std::vector<double> prefill_tps, decode_tps, ttft;
  for (int64_t r = 0; r < repeat; ++r) {
    auto result = e.Generate(prompt, options);
    if (!result.ok()) return Fail("bench", result.status());
    prefill_tps.push_back(prompt_len / result->prefill_seconds);
    decode_tps.push_back((result->tokens.size() - 1) / result->decode_seconds);
    ttft.push_back(result->first_token_seconds);
    std::fprintf(stderr, "[bench] run %lld: prefill %.2f tok/s, decode %.2f tok/s, ttft %.3f s\n",
                 static_cast<long long>(r + 1), prefill_tps.back(), decode_tps.back(), ttft.back());
  }
  const double decode = Median(decode_tps);
  const uint64_t bytes_per_token = e.executor().DecodeBytesPerToken();
  const double achieved_gbps = decode * static_cast<double>(bytes_per_token) / 1e9;

  double dram_gbps = 0;
  if (probe_mib > 0) {
    auto pool = cpu::ThreadPool::Create({static_cast<int>(common.threads), true});
    if (!pool.ok()) return Fail("bench", pool.status());
    auto bw = cpu::MeasureReadBandwidth(**pool, static_cast<uint64_t>(probe_mib) << 20, 5);
    if (!bw.ok()) return Fail("bench", bw.status());
    dram_gbps = bw->median_gbps;
  }

  JsonWriter j;
  j.BeginObject();
  j.Key("artifact").String(common.artifact);
  j.Key("executor").String(e.executor().name());
  j.Key("prompt_len").Int(prompt_len);
  j.Key("gen_len").Int(gen_len);
  j.Key("repeat").Int(repeat);
  j.Key("prefill_tokens_per_second").Number(Median(prefill_tps));
  j.Key("decode_tokens_per_second").Number(decode);
  j.Key("time_to_first_token_seconds").Number(Median(ttft));
  j.Key("decode_weight_bytes_per_token").Int(static_cast<int64_t>(bytes_per_token));
  j.Key("decode_achieved_gbps").Number(achieved_gbps);
  j.Key("dram_read_gbps").Number(dram_gbps);
  j.Key("decode_fraction_of_dram").Number(dram_gbps > 0 ? achieved_gbps / dram_gbps : 0.0);
  j.EndObject();
  if (!out_path.empty()) {
    std::ofstream out(out_path);
    out << j.str() << "\n";
    if (!out) return Fail("bench", KT_ERROR(kIoError, "cannot write '", out_path, "'"));
  }
  if (json) {
    std::printf("%s\n", j.str().c_str());
  } else {
    std::printf("executor            %s\n", e.executor().name());
    std::printf("prefill             %.2f tok/s (median of %lld, %lld-token prompt)\n", Median(prefill_tps),
                static_cast<long long>(repeat), static_cast<long long>(prompt_len));
    std::printf("decode              %.2f tok/s (median, %lld tokens)\n", decode, static_cast<long long>(gen_len));
    std::printf("time to first token %.3f s\n", Median(ttft));
    std::printf("weights per token   %.1f MB\n", bytes_per_token / 1e6);
    std::printf("decode bandwidth    %.2f GB/s", achieved_gbps);
    if (dram_gbps > 0) std::printf(" = %.0f%% of the %.2f GB/s DRAM read bandwidth measured", 100 * achieved_gbps / dram_gbps, dram_gbps);
    std::printf("\n");
  }
  return 0;
}

}  // namespace kt::ktrun
