// The int8 GEMM configurations: declared once (config.cpp), exposed to Python with stable ids,
// hashed into every tuning-cache key. A configuration is the cache blocking and the way threads
// share the work; the register tile (mr × nr) belongs to the ISA's kernel, not to the config.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lepton::gemm {

enum class Split : int { by_n = 0, by_m = 1, grid = 2 };

const char* split_name(Split s);

struct GemmConfig {
  int id;
  const char* name;
  int mc;           // rows per cache block, rounded up to the kernel's mr: the A block (mc × kc)
                    // is what stays in L2 while B panels stream past it
  int nc;           // columns per cache block, rounded up to nr
  int kc;           // k per cache block, rounded up to the k group; 0 = all of K at once, the
                    // accumulators stay in registers and no partial sums are written
  Split split;      // how threads share the (M, N) blocks
  int k_split;      // > 1: K is cut into this many slices whose int32 partial sums are added in
                    // the epilogue pass (for small M·N with long K, where blocks are too few)
  int max_threads;  // 0 = lepton.set_num_threads(); else at most this many (an energy knob)

  std::string printable() const;
};

const std::vector<GemmConfig>& config_table();
std::string config_table_text();  // the printable form of every entry, one per line
std::string config_table_hash();  // fnv1a64 of config_table_text(), 16 hex digits

// The entry with this id; std::invalid_argument naming the id and the valid ones otherwise.
const GemmConfig& config_by_id(int id);

// std::invalid_argument saying why when `cfg` cannot run an (M, N, K) problem.
void check_usable(const GemmConfig& cfg, std::int64_t M, std::int64_t N, std::int64_t K);

// The built-in choice when the tuning cache has none: by shape and thread count.
const GemmConfig& heuristic_config(std::int64_t M, std::int64_t N, std::int64_t K, int threads);

}  // namespace lepton::gemm
