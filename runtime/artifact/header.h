// The artifact's fixed 64-byte header (layout in artifact_types.h and
// docs/artifact.md): encoding for the writer, parsing and checking for the
// loader.
#pragma once

#include <array>
#include <cstdint>

#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::artifact {

inline constexpr uint8_t kMagic[4] = {'K', 'T', 'A', '\0'};

// Serializes `header`, filling in the header checksum.
std::array<uint8_t, kHeaderSize> EncodeHeader(const Header& header);

// Checks magic, version, header size, checksum, flags, the recorded file
// size against `size`, and that the manifest lies inside the file.
StatusOr<Header> ParseHeader(const uint8_t* data, uint64_t size);

}  // namespace kt::artifact
