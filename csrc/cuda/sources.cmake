# CUDA translation units. Included only when a CUDA compiler was found. Each GEMM kernel shape is
# its own TU (csrc/cuda/gemm/tiles/) so the slow device compiles run in parallel.
list(APPEND LEPTON_SOURCES
  csrc/cuda/probe.cu
  csrc/cuda/stream_wait.cu
  csrc/cuda/gemm/config.cpp
  csrc/cuda/gemm/gemm_cuda.cu
  csrc/cuda/quant/quant_cuda.cu
  csrc/cuda/preprocess/config.cpp
  csrc/cuda/preprocess/matrix.cu
  csrc/cuda/preprocess/stats_cuda.cu
  csrc/cuda/preprocess/apply_cuda.cu
  csrc/bindings/bind_preprocess_cuda.cpp
  csrc/bindings/bind_cuda.cpp
)

# The GEMM kernels (LEPTON_GEMM_CUDA_TILES in csrc/cuda/gemm/config.hpp). LEPTON_CUDA_CONFIGS=minimal
# compiles a general tile and a small one: every shape still runs (the heuristic picks among
# what was built; split-K and CTA-cap configs of these tiles reuse their kernels), the config
# table and its hash are unchanged, and asking for a config of another tile is a ValueError.
set(LEPTON_GEMM_CUDA_TILES_ALL
  t128x128s3 t128x128s4 t128x256s3 t256x128s3 t64x128s4 t128x64s4 t64x64s4)
set(LEPTON_GEMM_CUDA_TILES_MINIMAL t128x128s4 t64x64s4)
if(LEPTON_CUDA_CONFIGS STREQUAL "minimal")
  set(_lepton_tiles ${LEPTON_GEMM_CUDA_TILES_MINIMAL})
else()
  set(_lepton_tiles ${LEPTON_GEMM_CUDA_TILES_ALL})
endif()
foreach(_tile IN LISTS _lepton_tiles)
  list(APPEND LEPTON_SOURCES csrc/cuda/gemm/tiles/${_tile}.cu)
endforeach()
