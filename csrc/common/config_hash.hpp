// A stable hash of a configuration table's printable form: part of every tuning-cache key, so a
// changed table invalidates old tuning results.
#pragma once
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/errors.hpp"

namespace lepton {

inline std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// fnv1a64 of `text` as 16 hex digits: the form every table hash takes in a cache key.
inline std::string hash_hex(const std::string& text) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, fnv1a64(text));
  return buf;
}

// A table's printable form, one entry per line: what its hash covers.
template <class Config>
std::string table_text(const std::vector<Config>& table) {
  std::string text;
  for (const Config& c : table) text += c.printable() + "\n";
  return text;
}

// The entry with this id; an unknown id is a ValueError naming the op and the valid range.
template <class Config>
const Config& find_config(const std::vector<Config>& table, int id, const char* op) {
  for (const Config& c : table)
    if (c.id == id) return c;
  fail_arg("config: unknown ", op, " config id ", id, "; valid ids are 0..", table.size() - 1,
           " (see lepton.ops.config_table('", op, "'))");
}

}  // namespace lepton
