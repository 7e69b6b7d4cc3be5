// The int8_gemm_cuda configuration table, declared once. Plain C++ (no CUDA headers) so the
// bindings can print and hash it.
//
// A row names a kernel (a tile shape, LEPTON_GEMM_CUDA_TILES below: one template instantiation
// and one translation unit each) plus two run-time energy knobs that need no new kernel:
//   split_k  — K is cut into split_k ranges; int32 partials go to a caller-allocated workspace
//              and a small reduce kernel sums them and applies the epilogue;
//   cta_cap  — a persistent grid: at most sm_count / cta_cap_div CTAs walk the tiles with a
//              grid stride (0 = one CTA per tile, no cap).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lepton::cuda::gemm {

constexpr int kBlockK = 64;  // bytes of K per pipeline stage (every tile; see mma_kernel.cuh)

// X(name, BM, BN, WARPS_M, WARPS_N, STAGES): the distinct kernels. Adding a row here needs a
// matching tiles/<name>.cu (one explicit instantiation) and a line in sources.cmake. Which of
// them a build compiles is a build fact (LEPTON_CUDA_CONFIGS, sources.cmake), not part of the
// table: a reduced build keeps every id and the hash, and tile_built() says what it can run.
#define LEPTON_GEMM_CUDA_TILES(X)    \
  X(t128x128s3, 128, 128, 2, 2, 3)   \
  X(t128x128s4, 128, 128, 2, 2, 4)   \
  X(t128x256s3, 128, 256, 2, 4, 3)   \
  X(t256x128s3, 256, 128, 4, 2, 3)   \
  X(t64x128s4, 64, 128, 2, 2, 4)     \
  X(t128x64s4, 128, 64, 2, 2, 4)     \
  X(t64x64s4, 64, 64, 2, 2, 4)

enum class Tile : int {
#define LEPTON_TILE_ENUM(name, bm, bn, wm, wn, st) name,
  LEPTON_GEMM_CUDA_TILES(LEPTON_TILE_ENUM)
#undef LEPTON_TILE_ENUM
};

struct TileInfo {
  const char* name;
  int bm, bn, warps_m, warps_n, stages;
  int threads() const { return warps_m * warps_n * 32; }
  int smem_bytes() const { return stages * (bm + bn) * kBlockK; }
};

struct GemmCudaConfig {
  int id;
  Tile tile;
  int split_k;      // 1, 2 or 4
  int cta_cap_div;  // 0: no cap; d: at most max(1, sm_count / d) CTAs (persistent grid)
};

const TileInfo& tile_info(Tile t);
// Whether tile `t`'s translation unit was compiled into this build (it registers itself).
bool tile_built(Tile t);
// "all" or "minimal": the LEPTON_CUDA_CONFIGS this module was built with.
const char* configs_build();
const std::vector<GemmCudaConfig>& config_table();
std::string config_name(const GemmCudaConfig& c);  // printable, stable: part of the hash
std::string config_table_hash();  // fnv1a64 of the table's id:name lines, 16 hex digits

}  // namespace lepton::cuda::gemm
