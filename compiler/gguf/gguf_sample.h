// A deterministic GGUF file with every value type (nested arrays included)
// and tensors of several ggml types, derived from a seed. Used by the round
// trip tests, the kt_gguf_write_test tool (peer test against gguf-py) and the
// fuzzer's seed corpus.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/gguf/gguf.h"

namespace kt::gguf {

struct SampleTensor {
  std::string name;
  quant::GgmlType type;
  std::vector<uint64_t> ne;
  std::vector<uint8_t> data;
};

struct SampleGguf {
  uint32_t alignment = 32;
  std::vector<GgufKv> kvs;
  std::vector<SampleTensor> tensors;
};

SampleGguf MakeSampleGguf(uint64_t seed);
// Writes the sample through GgufWriter, feeding tensor data in chunks of
// seed-dependent sizes that cross tensor boundaries.
Status WriteSampleGguf(const SampleGguf& sample, const std::string& path, uint64_t seed);

}  // namespace kt::gguf
