// What the CPU we run on can execute, read once with cpuid/xgetbv (so the OS
// support for the wider register files is checked too, not just the CPU's).
#pragma once

#include <string>

namespace kt::cpu {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
};

// Kernel families, from most portable to most specialised. A CPU "has" an
// ISA when it has every feature the kernels of that family use.
enum class Isa : int { kGeneric = 0, kAvx2 = 1, kAvx512 = 2, kAmx = 3 };

const CpuFeatures& HostCpuFeatures();
bool HostSupports(Isa isa);
Isa BestHostIsa();
const char* IsaName(Isa isa);           // "generic", "avx2", "avx512", "amx"
bool ParseIsa(const std::string& name, Isa* isa);
std::string DescribeHostCpu();           // "avx2 fma f16c avx512f ... (best: avx512)"

}  // namespace kt::cpu
