#include "cpu/preprocess/config.hpp"

#include <algorithm>
#include <cstdio>

#include "common/config_hash.hpp"
#include "common/errors.hpp"
#include "common/threads.hpp"

namespace lepton::prep {
namespace {

// Entry 0 is the built-in behaviour. Both passes are memory-bound, so the knobs are the ones
// that move memory traffic and how many cores draw power while waiting on it:
// - item size: 4 MiB items are at least one 2 MiB huge page of output each (threads rarely fault
//   on the same fresh page); smaller items balance better and fit L2, larger ones cost less
//   scheduling and fewer per-item lane folds;
// - non-temporal stores skip the read-for-ownership of each output line, but evict nothing the
//   next step would reuse only when the output is larger than the caches (16 MiB);
// - one thread: a memory-bound pass may reach most of the bandwidth on one core at a fraction of
//   the package power.
// clang-format off
const std::vector<PrepConfig> kTable = {
  // id name                       item_kib stream_min_mib threads forward
  {0, "item4m_stream16m",             4096,            16,      0, false},  // the default
  {1, "item512k_stream16m",            512,            16,      0, false},
  {2, "item16m_stream16m",           16384,            16,      0, false},
  {3, "item4m_nostream",              4096,            -1,      0, false},
  {4, "item4m_stream_always",         4096,             0,      0, false},
  {5, "item4m_stream16m_forward",     4096,            16,      0, true},
  {6, "one_thread_item4m_stream16m",  4096,            16,      1, false},
  {7, "one_thread_item512k_nostream",  512,            -1,      1, true},
};
// clang-format on

}  // namespace

bool PrepConfig::streams(std::int64_t out_bytes) const {
  if (stream_min_mib < 0) return false;
  return out_bytes >= (std::int64_t{stream_min_mib} << 20);
}

int PrepConfig::threads_for(std::int64_t items) const {
  std::int64_t nt = num_threads();
  if (max_threads > 0) nt = std::min<std::int64_t>(nt, max_threads);
  return static_cast<int>(std::max<std::int64_t>(1, std::min(nt, items)));
}

std::string PrepConfig::printable() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "id=%d name=%s item_kib=%d stream_min_mib=%d max_threads=%d apply_order=%s", id,
                name, item_kib, stream_min_mib, max_threads, apply_forward ? "forward" : "backward");
  return buf;
}

const std::vector<PrepConfig>& config_table() { return kTable; }

std::string config_table_text() { return table_text(kTable); }

std::string config_table_hash() { return hash_hex(config_table_text()); }

const PrepConfig& default_config() { return kTable[0]; }

const PrepConfig& config_by_id(int id) {
  if (id == -1) return default_config();
  return find_config(kTable, id, "preprocess");
}

}  // namespace lepton::prep
