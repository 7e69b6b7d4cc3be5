// A stable hash of a configuration table's printable form: part of every tuning-cache key, so a
// changed table invalidates old tuning results.
#pragma once
#include <cstdint>
#include <string>

namespace lepton {

inline std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace lepton
