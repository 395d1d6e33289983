// Byte counts as people write them on command lines: "14GiB", "512MiB",
// "1.5GB", "123" (bytes). Binary (KiB..TiB) and decimal (KB..TB) units are
// both accepted, case-insensitively; a bare "K" or "G" is rejected because
// nobody agrees what it means.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kt {

// nullopt for malformed text, a negative value or more than 2^64-1 bytes.
std::optional<uint64_t> ParseByteSize(std::string_view text);

// "1.50 GiB" style, for messages; exact byte counts go beside it.
std::string FormatByteSize(uint64_t bytes);

}  // namespace kt
