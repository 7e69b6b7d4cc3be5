# CUDA translation units. Included only when a CUDA compiler was found.
list(APPEND LEPTON_SOURCES
  csrc/cuda/probe.cu
  csrc/bindings/bind_cuda.cpp
)
