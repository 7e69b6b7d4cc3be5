#include "cpu/gemm/config.hpp"

#include <cstdio>

#include "common/config_hash.hpp"
#include "common/errors.hpp"

namespace lepton::gemm {
namespace {

// Sizes assume ~48 KiB L1d and 1-2 MiB L2 per core (Zen 4/5, Ice Lake and later). Measured on
// Zen 5 (thread CPU time): keeping all of K in registers ("fullk") wins up to K ≈ 8192, since a
// B micro-panel streams well from L2 and no partial sums are written; k blocks pay off only for
// longer K, and kc = 256 is always slower. The tuner measures which one wins where it runs.
// clang-format off
const std::vector<GemmConfig> kTable = {
  // id name                          mc    nc    kc  split        k_split threads
  {0,  "small_m_fullk",               64, 1024,    0, Split::by_n,  1, 0},  // M ≤ 64: weights stream once
  {1,  "small_m_kc512",               64,  512,  512, Split::by_n,  1, 0},  // M ≤ 64, very long K
  {2,  "grid_mc64_nc256_fullk",       64,  256,    0, Split::grid,  1, 0},  // the square-ish default
  {3,  "grid_mc128_nc1024_fullk",    128, 1024,    0, Split::grid,  1, 0},
  {4,  "grid_mc256_nc256_fullk",     256,  256,    0, Split::grid,  1, 0},  // K ≈ 4096: A block reused longer
  {5,  "grid_mc128_nc256_kc1024",    128,  256, 1024, Split::grid,  1, 0},  // K > 8192
  {6,  "grid_mc256_nc1024_kc512",    256, 1024,  512, Split::grid,  1, 0},
  {7,  "tall_by_m_mc128_fullk",      128, 1024,    0, Split::by_m,  1, 0},  // many rows, few columns
  {8,  "splitk2_fullk",               64,  512,    0, Split::grid,  2, 0},  // few (M, N) blocks, long K
  {9,  "splitk4_fullk",               64,  512,    0, Split::grid,  4, 0},
  {10, "one_thread_grid_fullk",       64,  256,    0, Split::grid,  1, 1},  // leaves the other cores idle
  {11, "one_thread_small_m_fullk",    64, 1024,    0, Split::by_n,  1, 1},
};
// clang-format on

// A K slice shorter than this spends more on its partial-sum round trip than it saves.
constexpr std::int64_t kMinKPerSlice = 256;
// Partial sums of a split-K call live in memory: k_split · M · N int32s at most this many bytes.
constexpr std::int64_t kMaxPartialBytes = std::int64_t{64} << 20;

}  // namespace

const char* split_name(Split s) {
  switch (s) {
    case Split::by_n: return "by_n";
    case Split::by_m: return "by_m";
    case Split::grid: return "grid";
  }
  return "?";
}

std::string GemmConfig::printable() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "id=%d name=%s mc=%d nc=%d kc=%d split=%s k_split=%d max_threads=%d",
                id, name, mc, nc, kc, split_name(split), k_split, max_threads);
  return buf;
}

const std::vector<GemmConfig>& config_table() { return kTable; }

std::string config_table_text() { return table_text(kTable); }

std::string config_table_hash() { return hash_hex(config_table_text()); }

const GemmConfig& config_by_id(int id) {
  return find_config(kTable, id, "int8_gemm");
}

void check_usable(const GemmConfig& cfg, std::int64_t M, std::int64_t N, std::int64_t K) {
  if (cfg.k_split <= 1) return;
  LEPTON_CHECK_ARG(K >= cfg.k_split * kMinKPerSlice, "config: int8_gemm config ", cfg.id, " '",
                   cfg.name, "' splits K into ", cfg.k_split, " slices of at least ",
                   kMinKPerSlice, " and needs K >= ", cfg.k_split * kMinKPerSlice, ", got K=", K);
  const std::int64_t partial_bytes = std::int64_t{4} * cfg.k_split * M * N;
  LEPTON_CHECK_ARG(partial_bytes <= kMaxPartialBytes, "config: int8_gemm config ", cfg.id, " '",
                   cfg.name, "' keeps ", cfg.k_split, " int32 partial sums of the whole ", M,
                   "x", N, " output (", partial_bytes >> 20, " MiB); it is limited to ",
                   kMaxPartialBytes >> 20, " MiB, use a config without k_split");
}

const GemmConfig& heuristic_config(std::int64_t M, std::int64_t N, std::int64_t K, int threads) {
  // Few (M, N) blocks and long K: only split-K gives every thread work.
  const std::int64_t blocks = ((M + 63) / 64) * ((N + 255) / 256);
  if (threads > 1 && blocks < threads && K >= 4096) {
    if (threads >= 4 && K >= 4 * 2048 && 16 * M * N <= kMaxPartialBytes) return kTable[9];
    if (8 * M * N <= kMaxPartialBytes) return kTable[8];
  }
  if (M <= 64) return K <= 8192 ? kTable[0] : kTable[1];
  if (K > 8192) return kTable[5];
  if (N <= 128 && M >= 1024) return kTable[7];
  if (K >= 4096) return kTable[4];
  return kTable[2];
}

}  // namespace lepton::gemm
