#include "cuda/preprocess/config.hpp"

#include <algorithm>
#include <cstdio>

#include "common/config_hash.hpp"
#include "common/errors.hpp"

namespace lepton::cuda::prep {
namespace {

// Entry 0 is the default for arrays large enough to give every SM several work items. Why each
// knob can matter on a memory-bound pass (leads to measure, not measured yet):
// - threads / unroll: bytes in flight per SM (Little's law: ~3.35 TB/s × ~0.7 µs ≈ 18 KB per
//   SM on an H100 SXM); more is slack, fewer registers per thread means more resident blocks;
// - chunk: the statistics pass writes 40 bytes of partial moments per column per item, read
//   back by the merge: 40 / (rows per item × itemsize) of the input's traffic (0.5% at 512 KiB
//   of 64 float32 columns, 4% at 64 KiB). Smaller items balance the last wave on small arrays;
// - a persistent grid on all or half of the SMs: memory bandwidth saturates before every SM is
//   busy, and idle SMs draw less power (the energy tuner's knob);
// - forward apply order: the control for the backward default's L2 reuse.
// - float32-pair sums (kAccumF32x2): the statistics pass without FP64 per value, for GPUs
//   whose FP64 rate is a small fraction of FP32 (the heuristic's pick there).
// clang-format off
const std::vector<PrepCudaConfig> kTable = {
  // id name                    threads unroll chunk_kib ctas/SM sm_div backward accumulate
  {0, "t256_u4_c512k",            256,    4,     512,      0,     1,    true,  kAccumF64},
  {1, "t128_u8_c512k",            128,    8,     512,      0,     1,    true,  kAccumF64},
  {2, "t512_u4_c512k",            512,    4,     512,      0,     1,    true,  kAccumF64},
  {3, "t256_u8_c2m",              256,    8,    2048,      0,     1,    true,  kAccumF64},
  {4, "t256_u4_c64k",             256,    4,      64,      0,     1,    true,  kAccumF64},
  {5, "t256_u4_c512k_p4",         256,    4,     512,      4,     1,    true,  kAccumF64},
  {6, "t256_u8_c512k_p4_halfsm",  256,    8,     512,      4,     2,    true,  kAccumF64},
  {7, "t256_u4_c512k_forward",    256,    4,     512,      0,     1,    false, kAccumF64},
  {8, "t256_u4_c512k_f32x2",      256,    4,     512,      0,     1,    true,  kAccumF32x2},
  {9, "t256_u4_c64k_f32x2",       256,    4,      64,      0,     1,    true,  kAccumF32x2},
};
// clang-format on
constexpr int kSmallChunkId = 4;
constexpr int kF32x2Id = 8, kSmallChunkF32x2Id = 9;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

}  // namespace

std::string PrepCudaConfig::printable() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "id=%d name=%s threads=%d unroll=%d chunk_kib=%d ctas_per_sm=%d sm_div=%d "
                "apply_order=%s accumulate=%s",
                id, name, threads, unroll, chunk_kib, ctas_per_sm, sm_div,
                apply_backward ? "backward" : "forward",
                accumulate == kAccumF32x2 ? "f32x2" : "f64");
  return buf;
}

const std::vector<PrepCudaConfig>& config_table() { return kTable; }

std::string config_table_hash() { return hash_hex(table_text(kTable)); }

const PrepCudaConfig& config_by_id(int id) { return find_config(kTable, id, "preprocess_cuda"); }

int heuristic(std::int64_t rows, std::int64_t cols, int itemsize, int sm_count,
              bool slow_fp64) {
  const std::int64_t bytes = rows * cols * itemsize;
  const std::int64_t per_item = std::int64_t{kTable[0].chunk_kib} << 10;
  // Fewer than two default items per SM: the small items keep every SM reading (and the
  // merge traffic of their partial moments is small in absolute terms).
  const bool small = bytes < 2 * per_item * std::max(1, sm_count);
  if (slow_fp64 && itemsize <= 4) return small ? kSmallChunkF32x2Id : kF32x2Id;
  return small ? kSmallChunkId : 0;
}

Plan make_plan(const PrepCudaConfig& cfg, std::int64_t rows, std::int64_t cols, int itemsize,
               int layout, int vec, int sm_count) {
  LEPTON_CHECK_ARG(rows > 0 && cols > 0, "x: expected a non-empty array");
  LEPTON_CHECK_ARG(layout == kRowMajor || layout == kColumnMajor, "layout: expected 0 or 1");
  LEPTON_CHECK_ARG(vec >= 1 && itemsize >= 1, "vec: expected >= 1");
  Plan p{};
  p.layout = layout;
  p.vec = vec;
  p.threads = cfg.threads;
  p.unroll = cfg.unroll;
  const std::int64_t chunk_bytes = std::int64_t{cfg.chunk_kib} << 10;
  if (layout == kRowMajor) {
    LEPTON_CHECK_ARG(cols % vec == 0, "vec: must divide cols in row-major order");
    const std::int64_t col_vecs = cols / vec;
    p.tiles = ceil_div(col_vecs, cfg.threads);
    p.tile_vecs = ceil_div(col_vecs, p.tiles);  // balanced tiles
    p.groups = static_cast<int>(cfg.threads / p.tile_vecs);
    const std::int64_t step = std::int64_t{p.groups} * cfg.unroll;
    const std::int64_t target = std::max<std::int64_t>(1, chunk_bytes / (p.tile_vecs * vec * itemsize));
    p.rows_per_chunk = round_up(target, step);
  } else {
    p.tiles = cols;
    p.tile_vecs = 1;
    p.groups = cfg.threads;
    // A multiple of a block step keeps every chunk's first row vector-aligned.
    const std::int64_t step = std::int64_t{cfg.threads} * vec * cfg.unroll;
    p.rows_per_chunk = round_up(std::max<std::int64_t>(1, chunk_bytes / itemsize), step);
  }
  p.chunks = ceil_div(rows, p.rows_per_chunk);
  p.items = p.chunks * p.tiles;
  std::int64_t grid = std::min<std::int64_t>(p.items, 0x7fffffff);
  if (cfg.ctas_per_sm > 0) {
    const std::int64_t sms = std::max(1, sm_count / std::max(1, cfg.sm_div));
    grid = std::min<std::int64_t>(grid, std::int64_t{cfg.ctas_per_sm} * sms);
  }
  p.grid = static_cast<int>(grid);
  return p;
}

}  // namespace lepton::cuda::prep
