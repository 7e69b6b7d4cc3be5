# CUDA translation units. Included only when a CUDA compiler was found. Each GEMM kernel shape is
# its own TU (csrc/cuda/gemm/tiles/) so the slow device compiles run in parallel.
list(APPEND LEPTON_SOURCES
  csrc/cuda/probe.cu
  csrc/cuda/stream_wait.cu
  csrc/cuda/gemm/config.cpp
  csrc/cuda/gemm/gemm_cuda.cu
  csrc/cuda/quant/quant_cuda.cu
  csrc/cuda/pca/gram_cuda.cu
  csrc/bindings/bind_pca_cuda.cpp
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

# --- sm_90a wgmma kernels on CUTLASS (csrc/cuda/gemm/wgmma) -------------------------------------
# One generated TU per kernel (LEPTON_GEMM_WGMMA_KERNELS in config.hpp, which also holds their
# parameters) × output dtype, compiled for sm_90a only, in an object library so that only these
# TUs get that architecture and the CUTLASS include path. CUTLASS comes from the nvidia-cutlass
# wheel (a build requirement when CUDA is built, see _build/backend.py) or LEPTON_CUTLASS_DIR.
set(LEPTON_WGMMA_KERNELS_ALL w128x256coop_c2x1 w128x128coop w128x128pp w64x128pp)
set(LEPTON_WGMMA_KERNELS_MINIMAL w128x128coop)
set(LEPTON_WGMMA_OUTS kOutInt32 kOutFloat32 kOutFloat16 kOutBFloat16)

execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
    "import importlib.util, os; s = importlib.util.find_spec('cutlass_library'); print(os.path.join(list(s.submodule_search_locations)[0], 'source', 'include') if s else '')"
  OUTPUT_VARIABLE _lepton_cutlass_wheel OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
find_path(LEPTON_CUTLASS_INCLUDE cutlass/cutlass.h
  HINTS "$ENV{LEPTON_CUTLASS_DIR}" "$ENV{LEPTON_CUTLASS_DIR}/include" "${_lepton_cutlass_wheel}"
  NO_DEFAULT_PATH)

if(NOT LEPTON_CUDA_ARCHITECTURES MATCHES "90a")
  set(LEPTON_WGMMA_STATUS no-sm90a)
elseif(NOT LEPTON_CUTLASS_INCLUDE)
  set(LEPTON_WGMMA_STATUS no-cutlass)
  message(WARNING "lepton: CUTLASS headers not found (pip install nvidia-cutlass, or set "
                  "LEPTON_CUTLASS_DIR): the sm_90a wgmma int8 GEMM kernels are left out")
else()
  set(LEPTON_WGMMA_STATUS built)
  if(LEPTON_CUDA_CONFIGS STREQUAL "minimal")
    set(_lepton_wg_kernels ${LEPTON_WGMMA_KERNELS_MINIMAL})
  else()
    set(_lepton_wg_kernels ${LEPTON_WGMMA_KERNELS_ALL})
  endif()
  set(_lepton_wg_sources)
  foreach(LEPTON_WG_KERNEL IN LISTS _lepton_wg_kernels)
    foreach(LEPTON_WG_OUT IN LISTS LEPTON_WGMMA_OUTS)
      set(_tu "${CMAKE_CURRENT_BINARY_DIR}/wgmma/${LEPTON_WG_KERNEL}_${LEPTON_WG_OUT}.cu")
      configure_file(csrc/cuda/gemm/wgmma/wgmma_instance.cu.in "${_tu}" @ONLY)
      list(APPEND _lepton_wg_sources "${_tu}")
    endforeach()
  endforeach()
  add_library(lepton_wgmma OBJECT ${_lepton_wg_sources})
  target_include_directories(lepton_wgmma PRIVATE csrc "${LEPTON_CUTLASS_INCLUDE}")
  set_target_properties(lepton_wgmma PROPERTIES CUDA_ARCHITECTURES 90a-real
                        POSITION_INDEPENDENT_CODE ON CUDA_RUNTIME_LIBRARY Static)
  # NDEBUG: without it ptxas serialises wgmma across CUTLASS's function boundaries (C7510, a
  # silent large slowdown); -Werror on ptxas makes that warning, or a spill warning, a build error.
  target_compile_options(lepton_wgmma PRIVATE -DNDEBUG --expt-relaxed-constexpr
                         -Xptxas=-Werror,-warn-spills,-warn-lmem-usage)
  list(APPEND LEPTON_SOURCES $<TARGET_OBJECTS:lepton_wgmma>)
endif()
message(STATUS "lepton: wgmma kernels: ${LEPTON_WGMMA_STATUS} (CUTLASS: ${LEPTON_CUTLASS_INCLUDE})")
