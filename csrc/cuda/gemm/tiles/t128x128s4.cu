// The t128x128s4 kernel of LEPTON_GEMM_CUDA_TILES (config.hpp): one instantiation per translation unit.
#include "cuda/gemm/mma_kernel.cuh"
#include "cuda/gemm/tiles.hpp"

namespace lepton::cuda::gemm {
LEPTON_TILE_DEFINE(t128x128s4, 128, 128, 2, 2, 4)
}  // namespace lepton::cuda::gemm
