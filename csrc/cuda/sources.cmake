# CUDA translation units. Included only when a CUDA compiler was found. Each GEMM kernel shape is
# its own TU (csrc/cuda/gemm/tiles/) so the slow device compiles run in parallel.
list(APPEND LEPTON_SOURCES
  csrc/cuda/probe.cu
  csrc/cuda/stream_wait.cu
  csrc/cuda/gemm/config.cpp
  csrc/cuda/gemm/gemm_cuda.cu
  csrc/cuda/gemm/tiles/t128x128s3.cu
  csrc/cuda/gemm/tiles/t128x128s4.cu
  csrc/cuda/gemm/tiles/t128x256s3.cu
  csrc/cuda/gemm/tiles/t256x128s3.cu
  csrc/cuda/gemm/tiles/t64x128s4.cu
  csrc/cuda/gemm/tiles/t128x64s4.cu
  csrc/cuda/gemm/tiles/t64x64s4.cu
  csrc/cuda/quant/quant_cuda.cu
  csrc/bindings/bind_cuda.cpp
)
