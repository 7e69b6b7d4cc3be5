// The int8_gemm_cuda configuration table, declared once. Plain C++ (no CUDA headers) so the
// bindings can print and hash it.
//
// A row names a kernel of one of two engines plus run-time energy knobs that need no new kernel:
//   mma_s8   — hand-written mma.sync tiles (LEPTON_GEMM_CUDA_TILES), sm_80 and later;
//   wgmma_s8 — CUTLASS warp-specialised TMA + wgmma kernels (LEPTON_GEMM_WGMMA_KERNELS), sm_90a
//              only, one instantiation per output dtype (int8 output stays on mma_s8).
// The knobs:
//   split_k  — mma_s8 only: K is cut into split_k ranges; int32 partials go to a caller-allocated workspace
//              and a small reduce kernel sums them and applies the epilogue;
//   cta_cap  — a persistent grid: at most sm_count / cta_cap_div CTAs walk the tiles with a
//              grid stride (0 = one CTA per tile, no cap; wgmma kernels are always persistent
//              and 0 means one CTA per SM).
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

// X(name, BM, BN, BK, CLUSTER_M, CLUSTER_N, COOPERATIVE): the sm_90a kernels. BK is in bytes
// (int8 elements): 128, one 128-byte swizzled row per TMA box. Cooperative: two consumer warp
// groups split one tile; ping-pong: each consumer warp group owns a whole tile and the two
// alternate mainloop and epilogue. A matching line in csrc/cuda/gemm/wgmma/sources.cmake
// generates its TUs.
#define LEPTON_GEMM_WGMMA_KERNELS(X)         \
  X(w128x256coop_c2x1, 128, 256, 128, 2, 1, 1) \
  X(w128x128coop, 128, 128, 128, 1, 1, 1)      \
  X(w128x128pp, 128, 128, 128, 1, 1, 0)        \
  X(w64x128pp, 64, 128, 128, 1, 1, 0)

enum class Engine : int { kMma = 0, kWgmma = 1 };

enum class WgKernel : int {
#define LEPTON_WG_ENUM(name, bm, bn, bk, cm, cn, coop) name,
  LEPTON_GEMM_WGMMA_KERNELS(LEPTON_WG_ENUM)
#undef LEPTON_WG_ENUM
};

struct WgKernelInfo {
  const char* name;
  int bm, bn, bk, cluster_m, cluster_n;
  bool cooperative;
};

// constexpr so that a wgmma TU takes its template arguments from here, not from a second list.
inline constexpr WgKernelInfo kWgKernels[] = {
#define LEPTON_WG_INFO(name, bm, bn, bk, cm, cn, coop) {#name, bm, bn, bk, cm, cn, coop != 0},
    LEPTON_GEMM_WGMMA_KERNELS(LEPTON_WG_INFO)
#undef LEPTON_WG_INFO
};

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
  Engine engine;
  int kernel;       // a Tile (mma_s8) or WgKernel (wgmma_s8) index
  int split_k;      // 1, 2 or 4 (wgmma_s8: 1)
  int cta_cap_div;  // 0: no cap; d: at most max(1, sm_count / d) CTAs (persistent grid)
  Tile tile() const { return static_cast<Tile>(kernel); }
  WgKernel wg() const { return static_cast<WgKernel>(kernel); }
};

const TileInfo& tile_info(Tile t);
const WgKernelInfo& wg_info(WgKernel k);
// The kernel's printable name (a tile or wgmma kernel name of the lists above).
const char* kernel_name(const GemmCudaConfig& c);
// Whether tile `t`'s translation unit was compiled into this build (it registers itself).
bool tile_built(Tile t);
// Whether wgmma kernel `k` was compiled for `out_dtype` (args.hpp OutDtype) in this build.
bool wg_built(WgKernel k, int out_dtype);
// Whether the config's kernel is in this build (wgmma: for at least the int32 output).
bool config_built(const GemmCudaConfig& c);
// Why the wgmma kernels a config names are not in this build ("was left out by ...", "is not in
// this build: the CUTLASS headers were not found ..."), for error messages.
std::string wgmma_build_note();
// How this build treated the wgmma kernels: "built" (those LEPTON_CUDA_CONFIGS asks for),
// "no-cutlass" (headers not found) or "no-sm90a" (90a not among the architectures).
const char* wgmma_status();
// "all" or "minimal": the LEPTON_CUDA_CONFIGS this module was built with.
const char* configs_build();
const std::vector<GemmCudaConfig>& config_table();
std::string config_name(const GemmCudaConfig& c);  // printable, stable: part of the hash
std::string config_table_hash();  // fnv1a64 of the table's id:name lines, 16 hex digits

}  // namespace lepton::cuda::gemm
