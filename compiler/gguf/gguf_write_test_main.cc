// kt_gguf_write_test: writes the deterministic sample GGUF file of a seed with
// kt's GgufWriter, for the gguf-py peer test and the fuzzer's seed corpus.
// Test tooling, built only with KT_BUILD_TESTS.
//
//   kt_gguf_write_test OUT.gguf [--seed N] [--manifest]
//
// --manifest prints what was meant to be written, as JSON built straight from
// the generator's values (not read back), so a peer reader can be checked
// against it: {"alignment": A, "metadata": [{"key": ..., "type": ..., "value": ...}],
//  "tensors": [{"name": ..., "type_id": T, "ne": [...], "data_hex": "..."}]}
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "compiler/gguf/gguf_json.h"
#include "compiler/gguf/gguf_sample.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: kt_gguf_write_test OUT.gguf [--seed N] [--manifest]\n"
               "Writes kt's deterministic sample GGUF (all value types, nested arrays,\n"
               "several tensor types) with GgufWriter. --manifest prints the intended\n"
               "content as JSON on stdout.\n\n"
               "examples:\n"
               "  kt_gguf_write_test /tmp/s.gguf --seed 3\n"
               "  kt_gguf_write_test /tmp/s.gguf --seed 3 --manifest > s.json\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  uint64_t seed = 0;
  bool manifest = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      Usage(stdout);
      return 0;
    } else if (arg == "--seed" && i + 1 < argc) {
      char* end = nullptr;
      seed = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0') {
        std::fprintf(stderr, "kt_gguf_write_test: bad --seed '%s'\n", argv[i]);
        return 2;
      }
    } else if (arg == "--manifest") {
      manifest = true;
    } else if (out.empty() && !arg.empty() && arg[0] != '-') {
      out = arg;
    } else {
      Usage(stderr);
      return 2;
    }
  }
  if (out.empty()) {
    Usage(stderr);
    return 2;
  }
  kt::gguf::SampleGguf sample = kt::gguf::MakeSampleGguf(seed);
  kt::Status s = kt::gguf::WriteSampleGguf(sample, out, seed);
  if (!s.ok()) {
    std::fprintf(stderr, "kt_gguf_write_test: %s\n", s.ToString().c_str());
    return 1;
  }
  if (!manifest) return 0;
  std::string j = "{\"alignment\": " + std::to_string(sample.alignment) + ", \"metadata\": [";
  for (size_t i = 0; i < sample.kvs.size(); ++i) {
    j += i ? ",\n  {\"key\": " : "\n  {\"key\": ";
    kt::gguf::AppendJsonString(&j, sample.kvs[i].key);
    j += ", ";
    kt::gguf::AppendJsonTypedValue(&j, sample.kvs[i].value);
    j += "}";
  }
  j += "],\n\"tensors\": [";
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sample.tensors.size(); ++i) {
    const kt::gguf::SampleTensor& t = sample.tensors[i];
    j += i ? ",\n  {\"name\": " : "\n  {\"name\": ";
    kt::gguf::AppendJsonString(&j, t.name);
    j += ", \"type_id\": " + std::to_string(static_cast<uint32_t>(t.type)) + ", \"ne\": [";
    for (size_t d = 0; d < t.ne.size(); ++d) j += (d ? ", " : "") + std::to_string(t.ne[d]);
    j += "], \"data_hex\": \"";
    for (uint8_t b : t.data) {
      j += kHex[b >> 4];
      j += kHex[b & 15];
    }
    j += "\"}";
  }
  j += "]}\n";
  std::fwrite(j.data(), 1, j.size(), stdout);
  return 0;
}
