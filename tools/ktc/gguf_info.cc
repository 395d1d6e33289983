// ktc gguf-info: print a GGUF file's header, metadata and tensor table, as a
// human-readable summary or as complete JSON.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_json.h"
#include "tools/ktc/commands.h"

namespace kt::ktc {
namespace {

using gguf::GgufFile;
using gguf::GgufType;
using gguf::GgufValue;

// Arrays longer than this are shown as their first elements plus a count.
constexpr size_t kShownElems = 8;
// Strings longer than this are cut in the human view (never in JSON).
constexpr size_t kShownChars = 120;

void PrintHelp(std::FILE* out) {
  std::fprintf(out,
               "usage: ktc gguf-info FILE [--json] [--no-tensors]\n\n"
               "Validates a GGUF file (version 2 or 3) and prints its header, metadata and\n"
               "tensor table. A corrupt file is reported with the field and file offset.\n\n"
               "options:\n"
               "  --json        complete machine-readable output: every metadata value\n"
               "                (arrays in full) and every tensor info\n"
               "  --no-tensors  leave out the tensor table\n"
               "  -h, --help    this help\n\n"
               "JSON: {\"file\", \"version\", \"alignment\", \"data_offset\", \"file_size\",\n"
               "  \"kv_count\", \"tensor_count\", \"tensor_bytes\",\n"
               "  \"metadata\": [{\"key\", \"type\", [\"elem_type\"], \"value\"}],\n"
               "  \"tensors\": [{\"name\", \"type\", \"type_id\", \"ne\", \"offset\", \"n_bytes\"}]}\n"
               "Tensor offsets are relative to data_offset; ne[0] is the contiguous\n"
               "dimension. Non-finite floats are the strings \"nan\", \"inf\", \"-inf\".\n\n"
               "examples:\n"
               "  ktc gguf-info model.gguf\n"
               "  ktc gguf-info model.gguf --no-tensors\n"
               "  ktc gguf-info model.gguf --json | python3 -m json.tool\n");
}

std::string Shape(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

std::string HumanBytes(uint64_t n) {
  char buf[32];
  if (n < 1024) return std::to_string(n) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[u]);
  return buf;
}

// Short human rendering: arrays abbreviated, long strings cut, both still
// escaped so that control characters do not reach the terminal.
std::string Brief(const GgufValue& v) {
  std::string out;
  if (v.type == GgufType::kString) {
    std::string_view s = v.str;
    gguf::AppendJsonString(&out, s.substr(0, kShownChars));
    if (s.size() > kShownChars) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
  }
  if (v.type == GgufType::kFloat32 && std::isfinite(v.f)) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", v.f);  // enough digits for any float32
    return buf;
  }
  if (v.type != GgufType::kArray) {
    gguf::AppendJsonValue(&out, v);
    return out;
  }
  out = "[";
  size_t n = std::min(v.elems.size(), kShownElems);
  for (size_t i = 0; i < n; ++i) out += (i ? ", " : "") + Brief(v.elems[i]);
  if (v.elems.size() > n) out += ", ...";
  out += "]";
  return out;
}

std::string TypeLabel(const GgufValue& v) {
  if (v.type != GgufType::kArray) return gguf::GgufTypeName(v.type);
  std::string label = std::string(gguf::GgufTypeName(v.elem_type)) + "[" +
                      std::to_string(v.elems.size()) + "]";
  return label;
}

uint64_t TotalTensorBytes(const GgufFile& f) {
  uint64_t total = 0;
  for (const gguf::GgufTensorInfo& t : f.tensors()) total += t.n_bytes;
  return total;
}

void PrintHuman(const GgufFile& f, bool tensors) {
  std::printf("file:         %s\n", f.name().c_str());
  std::printf("version:      %u\n", f.version());
  std::printf("alignment:    %u\n", f.alignment());
  std::printf("data offset:  %" PRIu64 "\n", f.data_offset());
  std::printf("file size:    %" PRIu64 " (%s)\n", f.file_size(), HumanBytes(f.file_size()).c_str());
  std::printf("metadata:     %zu keys\n", f.kvs().size());
  std::printf("tensors:      %zu\n\n", f.tensors().size());

  size_t key_width = 0;
  for (const gguf::GgufKv& kv : f.kvs()) key_width = std::max(key_width, kv.key.size());
  for (const gguf::GgufKv& kv : f.kvs()) {
    std::string key;
    gguf::AppendJsonString(&key, kv.key);
    key = key.substr(1, key.size() - 2);  // escaped, without the quotes
    std::printf("  %-*s %-14s %s\n", static_cast<int>(key_width), key.c_str(),
                TypeLabel(kv.value).c_str(), Brief(kv.value).c_str());
  }
  if (!tensors) return;

  size_t name_width = 4;
  for (const gguf::GgufTensorInfo& t : f.tensors()) name_width = std::max(name_width, t.name.size());
  std::printf("\n  %-*s %-8s %-28s %14s %14s\n", static_cast<int>(name_width), "name", "type", "shape",
              "offset", "bytes");
  for (const gguf::GgufTensorInfo& t : f.tensors()) {
    std::string name;
    gguf::AppendJsonString(&name, t.name);
    name = name.substr(1, name.size() - 2);
    std::printf("  %-*s %-8s %-28s %14" PRIu64 " %14" PRIu64 "\n", static_cast<int>(name_width),
                name.c_str(), std::string(quant::GgmlTypeInfoOf(t.type).name).c_str(),
                Shape(t.ne).c_str(), t.offset, t.n_bytes);
  }
  uint64_t total = TotalTensorBytes(f);
  std::printf("\ntotal: %zu tensors, %" PRIu64 " bytes (%s)\n", f.tensors().size(), total,
              HumanBytes(total).c_str());
}

std::string Json(const GgufFile& f, bool tensors) {
  std::string j = "{\"file\": ";
  gguf::AppendJsonString(&j, f.name());
  j += ", \"version\": " + std::to_string(f.version());
  j += ", \"alignment\": " + std::to_string(f.alignment());
  j += ", \"data_offset\": " + std::to_string(f.data_offset());
  j += ", \"file_size\": " + std::to_string(f.file_size());
  j += ", \"kv_count\": " + std::to_string(f.kvs().size());
  j += ", \"tensor_count\": " + std::to_string(f.tensors().size());
  j += ", \"tensor_bytes\": " + std::to_string(TotalTensorBytes(f));
  j += ",\n\"metadata\": [";
  for (size_t i = 0; i < f.kvs().size(); ++i) {
    j += i ? ",\n  {\"key\": " : "\n  {\"key\": ";
    gguf::AppendJsonString(&j, f.kvs()[i].key);
    j += ", ";
    gguf::AppendJsonTypedValue(&j, f.kvs()[i].value);
    j += "}";
  }
  j += "]";
  if (tensors) {
    j += ",\n\"tensors\": [";
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const gguf::GgufTensorInfo& t = f.tensors()[i];
      j += i ? ",\n  {\"name\": " : "\n  {\"name\": ";
      gguf::AppendJsonString(&j, t.name);
      j += ", \"type\": \"" + std::string(quant::GgmlTypeInfoOf(t.type).name) + "\"";
      j += ", \"type_id\": " + std::to_string(static_cast<uint32_t>(t.type));
      j += ", \"ne\": [";
      for (size_t d = 0; d < t.ne.size(); ++d) j += (d ? ", " : "") + std::to_string(t.ne[d]);
      j += "], \"offset\": " + std::to_string(t.offset);
      j += ", \"n_bytes\": " + std::to_string(t.n_bytes) + "}";
    }
    j += "]";
  }
  j += "}\n";
  return j;
}

}  // namespace

int RunGgufInfo(int argc, char** argv) {
  std::string path;
  bool json = false, tensors = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintHelp(stdout);
      return 0;
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--no-tensors") {
      tensors = false;
    } else if (path.empty() && (arg.empty() || arg[0] != '-' || arg == "-")) {
      path = arg;
    } else {
      std::fprintf(stderr, "ktc gguf-info: unexpected argument '%s'\n\n", argv[i]);
      PrintHelp(stderr);
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "ktc gguf-info: no FILE given\n\n");
    PrintHelp(stderr);
    return 2;
  }
  StatusOr<GgufFile> file = GgufFile::Open(path);
  if (!file.ok()) {
    std::fprintf(stderr, "ktc gguf-info: %s\n", file.status().ToString().c_str());
    return 1;
  }
  if (json) {
    std::string j = Json(*file, tensors);
    std::fwrite(j.data(), 1, j.size(), stdout);
  } else {
    PrintHuman(*file, tensors);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace kt::ktc
