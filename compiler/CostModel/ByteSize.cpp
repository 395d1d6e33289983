#include "compiler/CostModel/ByteSize.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace kt {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

constexpr Unit kUnits[] = {
    {"", 1},
    {"b", 1},
    {"kb", 1000ull},
    {"mb", 1000ull * 1000},
    {"gb", 1000ull * 1000 * 1000},
    {"tb", 1000ull * 1000 * 1000 * 1000},
    {"kib", 1ull << 10},
    {"mib", 1ull << 20},
    {"gib", 1ull << 30},
    {"tib", 1ull << 40},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i])
      return false;
  }
  return true;
}

}  // namespace

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  size_t pos = 0;
  uint64_t whole = 0;
  size_t digits = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    if (__builtin_mul_overflow(whole, 10u, &whole) ||
        __builtin_add_overflow(whole, static_cast<uint64_t>(text[pos] - '0'), &whole))
      return std::nullopt;
    ++pos;
    ++digits;
  }
  // Fractions are kept as an exact decimal numerator/denominator so that
  // "1.5GiB" is exactly 3 * 2^29 bytes, not a rounded double.
  uint64_t frac = 0;
  uint64_t frac_scale = 1;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (frac_scale >= 1000000000000ull)
        return std::nullopt;  // more precision than any budget needs
      frac = frac * 10 + static_cast<uint64_t>(text[pos] - '0');
      frac_scale *= 10;
      ++pos;
      ++digits;
    }
  }
  if (digits == 0)
    return std::nullopt;
  std::string_view suffix = text.substr(pos);
  for (const Unit &unit : kUnits) {
    if (!EqualsIgnoreCase(suffix, unit.name))
      continue;
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(whole, unit.factor, &bytes))
      return std::nullopt;
    unsigned __int128 frac_bytes =
        static_cast<unsigned __int128>(frac) * unit.factor / frac_scale;
    if (__builtin_add_overflow(bytes, static_cast<uint64_t>(frac_bytes), &bytes))
      return std::nullopt;
    return bytes;
  }
  return std::nullopt;
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr const char *kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 6) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f %s", value, kNames[unit]);
  return buffer;
}

}  // namespace kt
