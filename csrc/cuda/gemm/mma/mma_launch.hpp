// The mma.sync tiles as seen by the dispatcher: one launch function per LEPTON_MMA_TILE row of
// kernels.def, each defined (and its kernel instantiated) in its own translation unit, which
// CMake generates from mma_instance.cu.in, so the slow device compiles run in parallel.
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

// One generated TU: defines launch_<name> for tile `name`, its template arguments read from
// config.hpp's kTiles, and registers it (mma_instance.cu.in only; needs mma_kernel.cuh).
#define LEPTON_TILE_DEFINE(name)                                                     \
  static void launch_##name(const GemmArgs& p, int grid, cudaStream_t stream) {      \
    launch_tile<TileShapeOf<Tile::name>>(p, grid, stream,                            \
                                         "launch of mma_gemm_kernel<" #name ">");    \
  }                                                                                  \
  static const TileRegistrar register_##name(Tile::name, &launch_##name);

}  // namespace lepton::cuda::gemm
