// libFuzzer target for the GGUF reader: any input must give either a valid
// GgufFile whose every tensor range lies inside the input, or an error.
// Built by scripts/fuzz.sh with -fsanitize=fuzzer,address,undefined.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kt::StatusOr<kt::gguf::GgufFile> file = kt::gguf::GgufFile::Parse(data, size, "fuzz");
  if (!file.ok()) {
    // Every error must say something.
    if (file.status().message().empty()) std::abort();
    return 0;
  }
  // Read every byte the reader promises: ASan catches any range past the input.
  volatile uint8_t sink = 0;
  for (const kt::gguf::GgufTensorInfo& t : file->tensors()) {
    const uint8_t* p = file->TensorData(t);
    if (p < data || t.n_bytes > size || p + t.n_bytes > data + size) std::abort();
    for (uint64_t i = 0; i < t.n_bytes; ++i) sink = sink ^ p[i];
    if (file->FindTensor(t.name) != &t) std::abort();
  }
  // Render the metadata as gguf-info would (exercises the escaping code).
  std::string json;
  for (const kt::gguf::GgufKv& kv : file->kvs()) {
    kt::gguf::AppendJsonString(&json, kv.key);
    kt::gguf::AppendJsonTypedValue(&json, kv.value);
    if (file->Find(kv.key) != &kv.value) std::abort();
  }
  (void)sink;
  return 0;
}
