// One launch function per kernel of LEPTON_GEMM_CUDA_TILES, each defined (and its kernel
// instantiated) in its own tiles/<name>.cu so the slow device compiles run in parallel.
//
// A tile TU registers its launch function at load time, so a build that leaves some TUs out
// (LEPTON_CUDA_CONFIGS=minimal) links without them and knows exactly which kernels it holds.
#pragma once
#include <cuda_runtime.h>

#include "cuda/gemm/args.hpp"
#include "cuda/gemm/config.hpp"

namespace lepton::cuda::gemm {

using LaunchFn = void (*)(const GemmArgs& p, int grid, cudaStream_t stream);

// The launch function of tile `t`, or nullptr when its TU is not in this build.
LaunchFn& launch_slot(Tile t);

struct TileRegistrar {
  TileRegistrar(Tile t, LaunchFn launch) { launch_slot(t) = launch; }
};

// Defines launch_<name> for one row of LEPTON_GEMM_CUDA_TILES and registers it (used by
// tiles/<name>.cu only).
#define LEPTON_TILE_DEFINE(name, bm, bn, wm, wn, st)                                    \
  static void launch_##name(const GemmArgs& p, int grid, cudaStream_t stream) {         \
    launch_tile<TileShape<bm, bn, wm, wn, st>>(p, grid, stream,                         \
                                               "launch of mma_gemm_kernel<" #name ">"); \
  }                                                                                     \
  static const TileRegistrar register_##name(Tile::name, &launch_##name);

}  // namespace lepton::cuda::gemm
