// The semantic verifier: everything the FlatBuffers verifier cannot know.
// Runs on the decoded manifest before the loader hands out any pointer into
// the file, and in the writer before it writes a byte (so a compiler bug is
// reported at compile time, not at load time).
#pragma once

#include <cstdint>

#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::artifact {

// `segments_start` is the first file offset a segment may use (the end of
// the manifest); `file_size` the size of the whole file. Checks, each error
// naming the field and the tensor, segment, kernel, op or step:
//  - every enum value is one this build knows;
//  - segments: alignment a power of two >= 4096, offset aligned, inside
//    [segments_start, file_size) without overflow, no two overlapping,
//    device kind matching the segment kind;
//  - tensors: unique non-empty names, segment index valid and of a weights
//    kind, offset 64-byte aligned, inside the segment, no two overlapping,
//    known ggml type, 1..4 dims, length equal to the ggml size of the shape;
//  - kernel images: unique names, inside a kernel_images segment;
//  - placement: unique names, layer in range, GPU index below gpu_count;
//  - plans: unique names; every op, kernel image and tensor reference
//    resolved; step device consistent with its kind; expert submits joined;
//  - hyperparameters and tokenizer: counts and token ids consistent.
// Checksums are not read here (see Artifact::VerifyChecksums).
Status VerifyManifest(const Manifest& manifest, uint64_t segments_start, uint64_t file_size);

}  // namespace kt::artifact
