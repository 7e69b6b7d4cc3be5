// The CUDA fused-preprocessing configurations (table "preprocess_cuda"): declared once
// (config.cpp), exposed to Python with stable ids, hashed into every tuning-cache key.
//
// Both passes are bound by HBM bandwidth, so a configuration is how the array is cut into work
// items for thread blocks and how many loads each thread keeps in flight: it moves time (latency
// hiding, tail effects, merge work) and power (how many SMs are kept busy waiting on memory).
// plan() turns a configuration and a shape into the exact decomposition both kernels use; it is
// plain C++ so the bindings can expose it and the tests can model the kernels' index arithmetic.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lepton::cuda::prep {

// How the statistics pass sums a thread's values between its float64 folds (float16 and
// float32 input; float64 input is summed in float64 under every config):
// - kAccumF64: shifted sums in float64 (one float → double conversion and ~3 FP64 ops per value);
// - kAccumF32x2: the same sums as unevaluated float32 pairs (hi + lo, error-free TwoSum/FMA
//   products, ~25 FP32 ops per value, no FP64 until the fold): about 44 significant bits, so
//   the statistics still agree with the CPU's to float64-level round-off, on GPUs whose FP64
//   rate is a small fraction of FP32 (GeForce, L4, L40: 1/64) where the float64 sums would make
//   the pass compute-bound. Bound: stats_cuda.cu, NOTES.md.
enum Accum : int { kAccumF64 = 0, kAccumF32x2 = 1 };

struct PrepCudaConfig {
  int id;
  const char* name;
  int threads;        // threads per block
  int unroll;         // vector loads in flight per thread per step (4 or 8: compiled variants)
  int chunk_kib;      // input bytes per work item: one block's share before its partial
                      // statistics are written. It fixes the float64 grouping of the merges, so
                      // mean/M2 differ between chunk sizes by round-off (never count/min/max)
  int ctas_per_sm;    // 0: one block per work item; k: a persistent grid of at most k blocks per
                      // used SM, looping over the items (fewer resident blocks, less power)
  int sm_div;         // persistent grids use sm_count / sm_div SMs (1: all; 2: half)
  bool apply_backward;  // apply pass takes items last to first: the end of the array, read last
                        // by the statistics pass, may still be in L2
  int accumulate;       // Accum: the statistics pass's sums between folds

  std::string printable() const;
};

const std::vector<PrepCudaConfig>& config_table();
std::string config_table_hash();  // fnv1a64 of the printable table, 16 hex digits
const PrepCudaConfig& config_by_id(int id);  // ValueError naming the valid ids
// The default for a shape: small arrays get small work items so that every SM has some; on a
// GPU with slow FP64 (slow_fp64: FP32:FP64 throughput above 2), float32/float16 input is summed
// in float32 pairs (kAccumF32x2) instead of float64.
int heuristic(std::int64_t rows, std::int64_t cols, int itemsize, int sm_count,
              bool slow_fp64 = false);

enum Layout : int { kRowMajor = 0, kColumnMajor = 1 };

// How one pass cuts a (rows, cols) array. Row-major: a work item is `rows_per_chunk` rows of a
// tile of `tile_vecs` column vectors (each `vec` columns wide); a block's threads form `groups`
// row groups × tile_vecs columns, and each thread reads `unroll` rows `groups` apart per step.
// Column-major: a work item is `rows_per_chunk` rows of one column; each of the block's threads
// reads `unroll` vectors of `vec` consecutive rows, `threads·vec` rows apart, per step.
// Items are numbered chunk·tiles + tile; partial statistics go to slot chunk·cols + column.
struct Plan {
  int layout;
  int vec;          // elements per vector load (1: scalar loads)
  int threads;
  int unroll;
  std::int64_t tile_vecs;  // row-major: column vectors per tile; column-major: 1
  int groups;              // row-major: threads / tile_vecs; column-major: threads
  std::int64_t tiles;      // row-major: column tiles; column-major: cols
  std::int64_t rows_per_chunk;
  std::int64_t chunks;     // chunks per tile (row-major) or per column (column-major)
  std::int64_t items;      // chunks · tiles
  int grid;                // blocks launched (≤ items; fewer for persistent configs)
};

Plan make_plan(const PrepCudaConfig& cfg, std::int64_t rows, std::int64_t cols, int itemsize,
               int layout, int vec, int sm_count);

}  // namespace lepton::cuda::prep
