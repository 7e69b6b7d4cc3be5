// One launch function per kernel of LEPTON_GEMM_CUDA_TILES, each defined (and its kernel
// instantiated) in its own tiles/<name>.cu so the slow device compiles run in parallel.
#pragma once
#include <cuda_runtime.h>

#include "cuda/gemm/args.hpp"
#include "cuda/gemm/config.hpp"

namespace lepton::cuda::gemm {

#define LEPTON_TILE_DECLARE(name, bm, bn, wm, wn, st) \
  void launch_##name(const GemmArgs& p, int grid, cudaStream_t stream);
LEPTON_GEMM_CUDA_TILES(LEPTON_TILE_DECLARE)
#undef LEPTON_TILE_DECLARE

// Defines launch_<name> for one row of LEPTON_GEMM_CUDA_TILES (used by tiles/<name>.cu only).
#define LEPTON_TILE_DEFINE(name, bm, bn, wm, wn, st)                                  \
  void launch_##name(const GemmArgs& p, int grid, cudaStream_t stream) {              \
    launch_tile<TileShape<bm, bn, wm, wn, st>>(p, grid, stream,                       \
                                               "launch of mma_gemm_kernel<" #name ">"); \
  }

}  // namespace lepton::cuda::gemm
