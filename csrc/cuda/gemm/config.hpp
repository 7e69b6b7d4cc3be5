// The int8_gemm_cuda configuration table, declared once. Plain C++ (no CUDA headers) so the
// bindings can print and hash it.
//
// A row names a kernel of one of two engines plus run-time energy knobs that need no new kernel:
//   mma_s8   — hand-written mma.sync tiles (LEPTON_MMA_TILE rows of kernels.def), sm_80 and later;
//   wgmma_s8 — CUTLASS warp-specialised TMA + wgmma kernels (LEPTON_WGMMA_KERNEL rows), sm_90a
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

// The kernels themselves are rows of kernels.def (read by CMake too, which generates their
// translation units). Which of them a build compiles is a build fact (LEPTON_CUDA_CONFIGS, the
// MINIMAL column), not part of the config table: a reduced build keeps every id and the hash,
// and tile_built() / wg_built() say what it can run.
enum class Tile : int {
#define LEPTON_MMA_TILE(name, bm, bn, wm, wn, st, minimal) name,
#include "cuda/gemm/kernels.def"
};

struct TileInfo {
  const char* name;
  int bm, bn, warps_m, warps_n, stages;
  constexpr int threads() const { return warps_m * warps_n * 32; }
  constexpr int smem_bytes() const { return stages * (bm + bn) * kBlockK; }
};

// constexpr so that a generated tile TU takes its template arguments from here (mma_kernel.cuh).
inline constexpr TileInfo kTiles[] = {
#define LEPTON_MMA_TILE(name, bm, bn, wm, wn, st, minimal) {#name, bm, bn, wm, wn, st},
#include "cuda/gemm/kernels.def"
};
inline constexpr int kTileCount = sizeof(kTiles) / sizeof(kTiles[0]);

enum class WgKernel : int {
#define LEPTON_WGMMA_KERNEL(name, bm, bn, bk, cm, cn, coop, minimal) name,
#include "cuda/gemm/kernels.def"
};

struct WgKernelInfo {
  const char* name;
  int bm, bn, bk, cluster_m, cluster_n;
  bool cooperative;
};

// constexpr so that a generated wgmma TU takes its template arguments from here (wgmma_gemm.cuh).
inline constexpr WgKernelInfo kWgKernels[] = {
#define LEPTON_WGMMA_KERNEL(name, bm, bn, bk, cm, cn, coop, minimal) \
  {#name, bm, bn, bk, cm, cn, coop != 0},
#include "cuda/gemm/kernels.def"
};
inline constexpr int kWgKernelCount = sizeof(kWgKernels) / sizeof(kWgKernels[0]);

enum class Engine : int { kMma = 0, kWgmma = 1 };

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
// The kernel's printable name (the name of its kernels.def row).
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
