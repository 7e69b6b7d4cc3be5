// The t128x256s3 kernel of LEPTON_GEMM_CUDA_TILES (config.hpp): one instantiation per translation unit.
#include "cuda/gemm/mma_kernel.cuh"
#include "cuda/gemm/tiles.hpp"

namespace lepton::cuda::gemm {
LEPTON_TILE_DEFINE(t128x256s3, 128, 256, 2, 4, 3)
}  // namespace lepton::cuda::gemm
