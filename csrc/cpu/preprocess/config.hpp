// The fused preprocessing configurations: declared once (config.cpp), exposed to Python with
// stable ids, hashed into every tuning-cache key. A configuration is how the threaded drivers cut
// and schedule the data; the vector loops (kernels_impl.hpp) belong to the ISA, not to the config.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lepton::prep {

struct PrepConfig {
  int id;
  const char* name;
  int item_kib;         // bytes of input per work item, in KiB, for both passes. The statistics
                        // are summed per item, so this size fixes the float64 grouping of the
                        // mean/M2 merges (round-off level differences between sizes)
  int stream_min_mib;   // apply pass: non-temporal stores when the output is at least this many
                        // MiB; 0 = always, -1 = never
  int max_threads;      // 0 = lepton.set_num_threads(); else at most this many (an energy knob)
  bool apply_forward;   // apply pass: items front to back; false = back to front, which finds
                        // the end of the array still cached when the statistics pass just ran

  std::int64_t item_bytes() const { return std::int64_t{item_kib} << 10; }
  // Whether an apply pass writing `out_bytes` uses non-temporal stores.
  bool streams(std::int64_t out_bytes) const;
  // Threads for `items` work items under the current lepton.set_num_threads().
  int threads_for(std::int64_t items) const;
  std::string printable() const;
};

const std::vector<PrepConfig>& config_table();
std::string config_table_text();  // the printable form of every entry, one per line
std::string config_table_hash();  // fnv1a64 of config_table_text(), 16 hex digits

// The entry with this id, or the default entry (today's behaviour) for -1; std::invalid_argument
// naming the id and the valid ones otherwise.
const PrepConfig& config_by_id(int id);
const PrepConfig& default_config();

}  // namespace lepton::prep
