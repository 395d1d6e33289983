// Manifest <-> FlatBuffer. Internal to the artifact library and its writer:
// the generated FlatBuffers code stays behind these two functions.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::artifact {

// A size-prefixed FlatBuffer with file identifier "KTA1". Every scalar is
// written even when it equals its default, so re-encoding a manifest whose
// only changes are numbers (offsets, checksums) gives the same size: the
// writer relies on that to patch checksums in after streaming the data.
std::vector<uint8_t> EncodeManifest(const Manifest& manifest);

// Runs the FlatBuffers verifier (identifier, size prefix, bounds, depth and
// table limits) over data[0, size) and decodes it. Enum values are copied
// as they are; the semantic verifier (verify.h) rejects unknown ones.
StatusOr<Manifest> DecodeManifest(const uint8_t* data, uint64_t size);

}  // namespace kt::artifact
