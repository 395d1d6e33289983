// The artifact half of `ktc compile`: placement records, plans, target,
// hyperparameters, tokenizer and every GGUF tensor streamed from the mapping
// into the CPU or GPU weight segment its op was placed in.
#pragma once

#include <functional>
#include <string>

#include "compiler/Pipeline/Analysis.h"
#include "compiler/artifact/artifact_writer.h"

namespace kt::pipeline {

struct CompileOptions {
  std::string cpu = "native";  // native | generic | avx2 | avx512 | amx
  std::string producer = "ktc";
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// native = the best ISA of this machine; errors list the accepted names.
StatusOr<artifact::CpuIsa> ResolveCpuIsa(const std::string& name);

// Builds the contents; tensors read from `file`, which must outlive the write.
StatusOr<artifact::ArtifactContents> BuildContents(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options);

StatusOr<artifact::WriteResult> CompileToArtifact(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options, const std::string& out_path);

}  // namespace kt::pipeline
