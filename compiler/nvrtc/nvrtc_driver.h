// Run-time compilation of kt's CUDA kernel sources with NVRTC, specialised for
// one model's shapes (-D defines, template instantiations named by
// expression), producing a cubin for the target and the PTX. Results are
// cached on disk under a key that hashes everything that can change the
// output: NVRTC's version, the target, the options, the source and every
// header's text (headers are passed in memory, never found on a search path).
// Needs no GPU: NVRTC only compiles.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace kt::nvrtc {

struct Header {
  std::string name;     // as written in #include "...", e.g. "kernels/cuda/common.cuh"
  std::string content;
};

struct CompileRequest {
  std::string source;                   // translation unit text
  std::string source_name = "kernel.cu";
  std::vector<Header> headers;
  std::string arch = "sm_90a";          // a real target: cubin and PTX are produced
  std::vector<std::string> defines;     // "NAME=VALUE" or "NAME"
  std::vector<std::string> extra_options;
  // Kernel names to resolve to their mangled form, e.g. "&kt_cuda::GemvKernel<12, 1, 4>".
  std::vector<std::string> name_expressions;
  std::string cache_dir;                // empty: no cache
};

struct CompileResult {
  std::string key;                      // hex cache key
  bool from_cache = false;
  std::string ptx;
  std::vector<uint8_t> cubin;
  std::map<std::string, std::string> lowered_names;  // expression -> mangled name
  std::string log;                      // NVRTC's log (warnings), empty when cached
};

// The cache key of `request` (hex, 32 digits).
std::string CacheKey(const CompileRequest& request);

// Compiles (or loads from the cache). Compile errors come back as
// kInvalidArgument with NVRTC's log; cache I/O problems as kIoError (a
// corrupt or partial cache entry is ignored and rebuilt, never trusted).
StatusOr<CompileResult> Compile(const CompileRequest& request);

// Reads headers from `root` (e.g. the source tree), keeping the given names.
StatusOr<std::vector<Header>> ReadHeaders(const std::string& root, const std::vector<std::string>& names);

}  // namespace kt::nvrtc
