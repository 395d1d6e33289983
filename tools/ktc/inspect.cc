// ktc inspect: verify an artifact (.kta) and print what it holds: header,
// target, hyperparameters, tokenizer summary, placement, plans, kernel
// images and tensors. A corrupt artifact is reported with the loader's
// error, which names the field.
#include <cxxabi.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "kernels/quant/ggml_type.h"
#include "runtime/artifact/artifact.h"
#include "tools/ktc/commands.h"

namespace kt::ktc {
namespace {

// A kernel entry point as a reader wants it: the demangled name without its
// parameter list ("kt_cuda::GemvI8Q4KKernel<1, 2, 3, 4>"), then the mangled
// name; the mangled name alone when it does not demangle (e.g. extern "C").
std::string KernelDisplayName(const std::string& mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
  if (status != 0 || !d) return mangled;
  std::string name(d);
  std::free(d);
  if (name.rfind("void ", 0) == 0) name.erase(0, 5);  // template functions demangle with their return type
  int depth = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>') --depth;
    if (name[i] == '(' && depth == 0) {
      name.resize(i);
      break;
    }
  }
  return name + "  (" + mangled + ")";
}

using namespace kt::artifact;

void PrintHelp(std::FILE* out) {
  std::fprintf(out,
               "usage: ktc inspect ARTIFACT [--json] [--verify] [--tokens] [--no-tensors]\n\n"
               "Loads a kt artifact (.kta) through the same verifier the runtime uses and\n"
               "prints its header, target, hyperparameters, tokenizer, placement with\n"
               "reasons, plans, kernel images and tensor table.\n\n"
               "options:\n"
               "  --json        machine-readable output (everything; tokens with --tokens)\n"
               "  --verify      also check the XXH64 checksum of every tensor and kernel image\n"
               "  --tokens      include the vocabulary and merges in --json output\n"
               "  --no-tensors  leave out the tensor table\n"
               "  -h, --help    this help\n\n"
               "exit status: 0 valid, 1 invalid or unreadable (the error names the field), 2 usage\n\n"
               "examples:\n"
               "  ktc inspect model.kta\n"
               "  ktc inspect model.kta --verify\n"
               "  ktc inspect model.kta --json | python3 -m json.tool\n");
}

std::string HumanBytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  return buf;
}

std::string Shape(const std::vector<uint64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

template <typename E>
const char* N(E v) {
  const char* n = Name(v);
  return n ? n : "?";
}

const char* TypeName(uint32_t id) {
  const quant::GgmlTypeInfo* t = quant::FindGgmlType(id);
  return t ? t->name.data() : "?";
}

// ---- JSON ----------------------------------------------------------------

// Strings from the artifact are UTF-8 text except token pieces, which may be
// any bytes: invalid sequences become U+FFFD so the output stays valid JSON.
void JsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out->append(buf);
      ++i;
    } else if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else {
      size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      bool ok = len > 0 && i + len <= s.size();
      uint32_t cp = ok ? (c & (0x7F >> len)) : 0;
      for (size_t k = 1; ok && k < len; ++k) {
        const unsigned char cc = static_cast<unsigned char>(s[i + k]);
        ok = (cc & 0xC0) == 0x80;
        cp = (cp << 6) | (cc & 0x3F);
      }
      ok = ok && !(len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) &&
           !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF));
      if (ok) {
        out->append(s.substr(i, len));
        i += len;
      } else {
        out->append("\xEF\xBF\xBD");
        ++i;
      }
    }
  }
  out->push_back('"');
}

void JsonNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    JsonString(out, std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  out->append(buf);
}

// A tiny writer that keeps commas right.
class Json {
 public:
  std::string out;
  void Open(char c) {
    Sep();
    out.push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out.push_back(c);
    first_ = false;
  }
  void Key(std::string_view k) {
    Sep();
    JsonString(&out, k);
    out.push_back(':');
    first_ = true;  // the value follows without a comma
  }
  void Str(std::string_view v) {
    Sep();
    JsonString(&out, v);
  }
  void U(uint64_t v) {
    Sep();
    out += std::to_string(v);
  }
  void I(int64_t v) {
    Sep();
    out += std::to_string(v);
  }
  void F(double v) {
    Sep();
    JsonNumber(&out, v);
  }
  void B(bool v) {
    Sep();
    out += v ? "true" : "false";
  }
  void Null() {
    Sep();
    out += "null";
  }
  void KStr(std::string_view k, std::string_view v) { Key(k), Str(v); }
  void KU(std::string_view k, uint64_t v) { Key(k), U(v); }
  void KI(std::string_view k, int64_t v) { Key(k), I(v); }
  void KF(std::string_view k, double v) { Key(k), F(v); }
  void KB(std::string_view k, bool v) { Key(k), B(v); }

 private:
  void Sep() {
    if (!first_) out.push_back(',');
    first_ = false;
  }
  bool first_ = true;
};

void JsonDevice(Json& j, std::string_view key, const Device& d) { j.KStr(key, ToString(d)); }

std::string RenderJson(const Artifact& art, bool verified, bool tokens, bool with_tensors) {
  const Manifest& m = art.manifest();
  const Header& h = art.header();
  Json j;
  j.Open('{');
  j.KStr("file", art.name());
  j.KU("file_size", art.file_size());
  j.Key("header"), j.Open('{');
  j.KU("format_version", h.format_version), j.KU("flags", h.flags);
  j.KU("manifest_offset", h.manifest_offset), j.KU("manifest_length", h.manifest_length);
  j.KU("header_checksum", h.header_checksum);
  j.Close('}');
  j.KStr("producer", m.producer), j.KStr("source", m.source);
  j.KStr("checksums", verified ? "verified" : "not verified");

  const Target& t = m.target;
  j.Key("target"), j.Open('{');
  j.KStr("cpu_isa", N(t.cpu_isa)), j.KStr("cpu_layout", N(t.cpu_layout)), j.KStr("gpu_arch", t.gpu_arch);
  j.KU("gpu_count", t.gpu_count), j.KU("vram_budget_bytes", t.vram_budget_bytes), j.KU("max_context", t.max_context);
  j.Close('}');

  const Hyperparameters& p = m.hparams;
  j.Key("hyperparameters"), j.Open('{');
  j.KStr("architecture", p.architecture), j.KStr("model_name", p.model_name);
  j.KU("context_length", p.context_length), j.KU("embedding_length", p.embedding_length);
  j.KU("block_count", p.block_count), j.KU("feed_forward_length", p.feed_forward_length);
  j.KU("vocab_size", p.vocab_size), j.KU("leading_dense_block_count", p.leading_dense_block_count);
  j.KU("expert_count", p.expert_count), j.KU("expert_used_count", p.expert_used_count);
  j.KU("expert_shared_count", p.expert_shared_count);
  j.KU("expert_feed_forward_length", p.expert_feed_forward_length);
  j.KF("expert_weights_scale", p.expert_weights_scale), j.KB("expert_weights_norm", p.expert_weights_norm);
  j.KStr("expert_gating_func", N(p.expert_gating_func));
  j.KU("expert_group_count", p.expert_group_count), j.KU("expert_group_used_count", p.expert_group_used_count);
  j.KU("head_count", p.head_count), j.KU("head_count_kv", p.head_count_kv);
  j.KF("rms_norm_epsilon", p.rms_norm_epsilon), j.KU("q_lora_rank", p.q_lora_rank);
  j.KU("kv_lora_rank", p.kv_lora_rank), j.KU("key_length", p.key_length), j.KU("value_length", p.value_length);
  j.KU("key_length_mla", p.key_length_mla), j.KU("value_length_mla", p.value_length_mla);
  j.KU("rope_dimension_count", p.rope_dimension_count), j.KF("rope_freq_base", p.rope_freq_base);
  j.KStr("rope_scaling_type", N(p.rope_scaling_type)), j.KF("rope_scaling_factor", p.rope_scaling_factor);
  j.KU("rope_scaling_original_context_length", p.rope_scaling_original_context_length);
  j.KF("rope_scaling_yarn_log_multiplier", p.rope_scaling_yarn_log_multiplier);
  j.Close('}');

  const Tokenizer& tk = m.tokenizer;
  j.Key("tokenizer"), j.Open('{');
  j.KStr("model", tk.model), j.KStr("pre", tk.pre);
  j.KU("token_count", tk.tokens.size()), j.KU("merge_count", tk.merges.size());
  j.KI("bos_token_id", tk.bos_token_id), j.KI("eos_token_id", tk.eos_token_id);
  j.KB("add_bos_token", tk.add_bos_token), j.KB("add_eos_token", tk.add_eos_token);
  j.KStr("chat_template", tk.chat_template);
  if (tokens) {
    j.Key("tokens"), j.Open('[');
    for (const std::string& s : tk.tokens) j.Str(s);
    j.Close(']');
    j.Key("token_types"), j.Open('[');
    for (int32_t v : tk.token_types) j.I(v);
    j.Close(']');
    j.Key("merges"), j.Open('[');
    for (const std::string& s : tk.merges) j.Str(s);
    j.Close(']');
  }
  j.Close('}');

  j.Key("segments"), j.Open('[');
  for (const Segment& s : m.segments) {
    j.Open('{');
    j.KStr("kind", N(s.kind)), JsonDevice(j, "device", s.device);
    j.KU("offset", s.offset), j.KU("length", s.length), j.KU("alignment", s.alignment);
    j.Close('}');
  }
  j.Close(']');

  j.Key("placement"), j.Open('[');
  for (const PlacementRecord& r : m.placement) {
    j.Open('{');
    j.KStr("name", r.name), j.KI("layer", r.layer), j.KStr("kind", N(r.kind)), JsonDevice(j, "device", r.device);
    j.KStr("reason", r.reason), j.KU("weight_bytes", r.weight_bytes), j.KU("flops_per_token", r.flops_per_token);
    j.KF("intensity", r.intensity);
    j.Close('}');
  }
  j.Close(']');

  j.Key("plans"), j.Open('[');
  for (const Plan& plan : m.plans) {
    j.Open('{');
    j.KStr("name", plan.name);
    j.Key("steps"), j.Open('[');
    for (const Step& s : plan.steps) {
      j.Open('{');
      j.KStr("kind", N(s.kind));
      j.Key("op");
      if (s.op >= 0) j.Str(m.placement[s.op].name); else j.Null();
      JsonDevice(j, "device", s.device);
      j.KStr("kernel_name", s.kernel_name);
      j.Key("kernel_image");
      if (s.kernel_image >= 0) j.Str(m.kernels[s.kernel_image].name); else j.Null();
      j.Key("tensors"), j.Open('[');
      for (uint32_t ref : s.tensors) j.Str(m.tensors[ref].name);
      j.Close(']');
      j.Close('}');
    }
    j.Close(']');
    j.Close('}');
  }
  j.Close(']');

  j.Key("kernels"), j.Open('[');
  for (const KernelImage& k : m.kernels) {
    j.Open('{');
    j.KStr("name", k.name), j.KStr("format", N(k.format)), j.KStr("arch", k.arch);
    j.KU("segment", k.segment), j.KU("offset", k.offset), j.KU("length", k.length), j.KU("checksum", k.checksum);
    j.Key("entry_points"), j.Open('[');
    for (const std::string& e : k.entry_points) j.Str(e);
    j.Close(']');
    j.Close('}');
  }
  j.Close(']');

  if (with_tensors) {
    j.Key("tensors"), j.Open('[');
    for (const TensorInfo& t : m.tensors) {
      j.Open('{');
      j.KStr("name", t.name), j.KStr("type", TypeName(t.ggml_type)), j.KU("type_id", t.ggml_type);
      j.KStr("layout", N(t.layout)), j.KU("layout_rows", t.layout_rows);
      j.Key("shape"), j.Open('[');
      for (uint64_t d : t.shape) j.U(d);
      j.Close(']');
      j.KU("segment", t.segment), j.KU("offset", t.offset), j.KU("length", t.length), j.KU("checksum", t.checksum);
      j.Close('}');
    }
    j.Close(']');
  }
  j.Close('}');
  j.out.push_back('\n');
  return j.out;
}

// ---- Human tables ---------------------------------------------------------

void PrintHuman(const Artifact& art, bool verified, bool with_tensors) {
  const Manifest& m = art.manifest();
  const Header& h = art.header();
  std::printf("artifact   %s\n", art.name().c_str());
  std::printf("format     version %u, %s, manifest %" PRIu64 " bytes at %" PRIu64 "\n", h.format_version,
              HumanBytes(art.file_size()).c_str(), h.manifest_length, h.manifest_offset);
  std::printf("producer   %s (from %s)\n", m.producer.c_str(), m.source.empty() ? "?" : m.source.c_str());
  std::printf("checksums  %s\n", verified ? "verified" : "not verified (use --verify)");
  const Target& t = m.target;
  std::printf("target     cpu %s (expert layout %s), ", N(t.cpu_isa), N(t.cpu_layout));
  if (t.gpu_arch.empty()) {
    std::printf("no GPU");
  } else {
    std::printf("gpu %s x%u, VRAM budget %s", t.gpu_arch.c_str(), t.gpu_count, HumanBytes(t.vram_budget_bytes).c_str());
  }
  std::printf(", max context %u\n", t.max_context);

  const Hyperparameters& p = m.hparams;
  std::printf("\nhyperparameters (%s%s%s)\n", p.architecture.c_str(), p.model_name.empty() ? "" : ", ",
              p.model_name.c_str());
  std::printf("  layers %u (%u dense), hidden %u, heads %u (kv %u), vocab %u, context %u\n", p.block_count,
              p.leading_dense_block_count, p.embedding_length, p.head_count, p.head_count_kv, p.vocab_size,
              p.context_length);
  std::printf("  q_lora %u, kv_lora %u, key %u/%u (mla), value %u/%u (mla), rope dims %u, theta %g\n", p.q_lora_rank,
              p.kv_lora_rank, p.key_length, p.key_length_mla, p.value_length, p.value_length_mla,
              p.rope_dimension_count, p.rope_freq_base);
  std::printf("  experts %u routed (%u used), %u shared, ff %u (dense ff %u), gating %s, groups %u/%u, "
              "norm %s, scale %g\n",
              p.expert_count, p.expert_used_count, p.expert_shared_count, p.expert_feed_forward_length,
              p.feed_forward_length, N(p.expert_gating_func), p.expert_group_used_count, p.expert_group_count,
              p.expert_weights_norm ? "yes" : "no", p.expert_weights_scale);
  std::printf("  rms eps %g, rope scaling %s (factor %g, original context %u, yarn log mult %g)\n",
              p.rms_norm_epsilon, N(p.rope_scaling_type), p.rope_scaling_factor,
              p.rope_scaling_original_context_length, p.rope_scaling_yarn_log_multiplier);

  const Tokenizer& tk = m.tokenizer;
  std::printf("\ntokenizer  %s / %s, %zu tokens, %zu merges, bos %d, eos %d, add_bos %s, chat template %zu chars\n",
              tk.model.c_str(), tk.pre.c_str(), tk.tokens.size(), tk.merges.size(), tk.bos_token_id,
              tk.eos_token_id, tk.add_bos_token ? "yes" : "no", tk.chat_template.size());

  std::printf("\nsegments\n  %-2s %-14s %-6s %14s %14s\n", "#", "kind", "device", "offset", "length");
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const Segment& s = m.segments[i];
    std::printf("  %-2zu %-14s %-6s %14" PRIu64 " %14" PRIu64 "  %s\n", i, N(s.kind), ToString(s.device).c_str(),
                s.offset, s.length, HumanBytes(s.length).c_str());
  }

  std::printf("\nplacement (%zu ops)\n  %-28s %5s %-14s %-6s %10s %12s %9s  %s\n", m.placement.size(), "op", "layer",
              "kind", "device", "weights", "flops/token", "intensity", "reason");
  for (const PlacementRecord& r : m.placement) {
    std::printf("  %-28s %5d %-14s %-6s %10s %12" PRIu64 " %9.2f  %s\n", r.name.c_str(), r.layer, N(r.kind),
                ToString(r.device).c_str(), HumanBytes(r.weight_bytes).c_str(), r.flops_per_token, r.intensity,
                r.reason.c_str());
  }

  for (const Plan& plan : m.plans) {
    std::printf("\nplan @%s (%zu steps)\n", plan.name.c_str(), plan.steps.size());
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const Step& s = plan.steps[i];
      std::string line = N(s.kind);
      line += ' ';
      line += ToString(s.device);
      if (s.op >= 0) line += " op=", line += m.placement[s.op].name;
      if (!s.kernel_name.empty()) line += " kernel=", line += s.kernel_name;
      if (s.kernel_image >= 0) line += '@', line += m.kernels[s.kernel_image].name;
      if (!s.tensors.empty()) {
        line += " tensors=";
        for (size_t r = 0; r < s.tensors.size(); ++r) {
          if (r) line += ',';
          line += m.tensors[s.tensors[r]].name;
        }
      }
      std::printf("  %4zu %s\n", i, line.c_str());
    }
  }

  if (!m.kernels.empty()) {
    std::printf("\nkernel images\n");
    for (const KernelImage& k : m.kernels) {
      std::printf("  %-24s %-5s %-8s %10s  %zu entry points\n", k.name.c_str(), N(k.format), k.arch.c_str(),
                  HumanBytes(k.length).c_str(), k.entry_points.size());
      for (const std::string& e : k.entry_points) std::printf("    %s\n", KernelDisplayName(e).c_str());
    }
  }

  uint64_t total = 0;
  for (const TensorInfo& tt : m.tensors) total += tt.length;
  std::printf("\ntensors (%zu, %s)\n", m.tensors.size(), HumanBytes(total).c_str());
  if (!with_tensors) return;
  std::printf("  %-36s %-6s %-22s %-18s %3s %12s %12s  %s\n", "name", "type", "layout", "shape", "seg", "offset",
              "length", "xxh64");
  for (const TensorInfo& tt : m.tensors) {
    std::string layout = N(tt.layout);
    if (tt.layout == TensorLayout::kCpuRowInterleaved) {
      layout += '/';
      layout += std::to_string(tt.layout_rows);
    }
    std::printf("  %-36s %-6s %-22s %-18s %3u %12" PRIu64 " %12" PRIu64 "  %016" PRIx64 "\n", tt.name.c_str(),
                TypeName(tt.ggml_type), layout.c_str(), Shape(tt.shape).c_str(), tt.segment, tt.offset, tt.length,
                tt.checksum);
  }
}

}  // namespace

int RunInspect(int argc, char** argv) {
  std::string path;
  bool json = false, verify = false, tokens = false, with_tensors = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      PrintHelp(stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--verify") {
      verify = true;
    } else if (a == "--tokens") {
      tokens = true;
    } else if (a == "--no-tensors") {
      with_tensors = false;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "ktc inspect: unknown option '%s'\n\n", argv[i]);
      PrintHelp(stderr);
      return 2;
    } else if (path.empty()) {
      path = a;
    } else {
      std::fprintf(stderr, "ktc inspect: more than one artifact given ('%s')\n", argv[i]);
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "ktc inspect: no artifact given\n\n");
    PrintHelp(stderr);
    return 2;
  }
  StatusOr<Artifact> art = Artifact::Open(path, {.verify_checksums = verify});
  if (!art.ok()) {
    std::fprintf(stderr, "ktc inspect: %s\n", art.status().ToString().c_str());
    return 1;
  }
  if (json) {
    std::string out = RenderJson(*art, verify, tokens, with_tensors);
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    PrintHuman(*art, verify, with_tensors);
  }
  return 0;
}

}  // namespace kt::ktc
