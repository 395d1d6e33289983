// kt_quant_cli: runs the reference quantizers on raw files, so that tests in
// other languages (test/peer/test_quant_peer.py) can compare them with peer
// implementations. Test tool only; not installed.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/quant/ggml_type.h"
#include "kernels/quant/quant.h"

namespace {

constexpr char kUsage[] =
    "usage: kt_quant_cli dequant TYPE IN OUT   raw TYPE blocks -> raw little-endian float32\n"
    "       kt_quant_cli quant TYPE IN OUT     raw float32 -> raw TYPE blocks\n"
    "\n"
    "TYPE is a ggml type name (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K,\n"
    "q6_K; case-insensitive). The input is treated as one row, so its size must be a\n"
    "whole number of blocks (dequant) or of block_elems floats (quant).\n"
    "\n"
    "examples:\n"
    "  kt_quant_cli dequant q4_K blocks.bin values.f32\n"
    "  kt_quant_cli quant q8_0 values.f32 blocks.bin\n";

bool ReadFile(const std::string& path, std::vector<char>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool WriteFile(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return static_cast<bool>(out);
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "kt_quant_cli: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using kt::quant::GgmlTypeInfo;
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc != 5) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string mode = argv[1], in_path = argv[3], out_path = argv[4];
  const auto type = kt::quant::ParseGgmlType(argv[2]);
  if (!type) return Fail(std::string("unknown type '") + argv[2] + "' (see --help)");
  const GgmlTypeInfo& info = kt::quant::GgmlTypeInfoOf(*type);

  std::vector<char> input;
  if (!ReadFile(in_path, &input)) return Fail("cannot read '" + in_path + "'");

  if (mode == "dequant") {
    if (!info.dequantizable) return Fail("no dequantizer for " + std::string(info.name));
    if (input.size() % info.block_bytes != 0)
      return Fail("'" + in_path + "' has " + std::to_string(input.size()) +
                  " bytes, not a multiple of the " + std::string(info.name) + " block size " +
                  std::to_string(info.block_bytes));
    const int64_t n = static_cast<int64_t>(input.size() / info.block_bytes) * info.block_elems;
    std::vector<float> values(static_cast<size_t>(n));
    if (!kt::quant::DequantizeRow(*type, input.data(), values.data(), n))
      return Fail("dequantizing " + std::string(info.name) + " failed");
    if (!WriteFile(out_path, values.data(), values.size() * sizeof(float)))
      return Fail("cannot write '" + out_path + "'");
    return 0;
  }
  if (mode == "quant") {
    if (!info.quantizable) return Fail("no quantizer for " + std::string(info.name));
    const size_t row_bytes = size_t{4} * info.block_elems;
    if (input.size() % row_bytes != 0)
      return Fail("'" + in_path + "' has " + std::to_string(input.size()) +
                  " bytes, not a whole number of " + std::to_string(info.block_elems) +
                  "-float " + std::string(info.name) + " blocks");
    const int64_t n = static_cast<int64_t>(input.size() / 4);
    std::vector<float> values(static_cast<size_t>(n));
    if (n > 0) std::memcpy(values.data(), input.data(), input.size());
    std::vector<unsigned char> blocks(static_cast<size_t>(n / info.block_elems) * info.block_bytes);
    if (!kt::quant::QuantizeRow(*type, values.data(), blocks.data(), n))
      return Fail("quantizing " + std::string(info.name) + " failed");
    if (!WriteFile(out_path, blocks.data(), blocks.size()))
      return Fail("cannot write '" + out_path + "'");
    return 0;
  }
  return Fail("unknown mode '" + mode + "' (expected dequant or quant; see --help)");
}
