# CUDA translation units. Included only when a CUDA compiler was found. Each GEMM kernel is its
# own generated TU so the slow device compiles run in parallel.
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
  csrc/bindings/bind_gemm_cuda.cpp
)

# --- the int8 GEMM kernels: rows of csrc/cuda/gemm/kernels.def, read here -------------------------
# kernels.def declares each kernel once (name, parameters, MINIMAL); config.hpp makes its C++
# tables from the same rows. LEPTON_CUDA_CONFIGS=minimal compiles the rows marked MINIMAL (a
# general mma tile, a small one, one wgmma kernel): every shape still runs (the heuristic picks
# among what was built; split-K and CTA-cap configs of these kernels reuse them), the config
# table and its hash are unchanged, and asking for a config of another kernel is a ValueError.
set(_lepton_kernels_def "${CMAKE_CURRENT_SOURCE_DIR}/csrc/cuda/gemm/kernels.def")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_lepton_kernels_def}")

# lepton_kernel_rows(MACRO OUT): the first argument (name) of each MACRO(...) row of
# kernels.def whose last argument (MINIMAL) is 1 or, with LEPTON_CUDA_CONFIGS=all, any row.
# Rows without a MINIMAL column (LEPTON_WGMMA_OUT) are all taken.
function(lepton_kernel_rows macro out)
  file(STRINGS "${_lepton_kernels_def}" _rows REGEX "^${macro}\\(")
  set(_names)
  foreach(_row IN LISTS _rows)
    if(NOT _row MATCHES "^${macro}\\(([A-Za-z0-9_]+)(,[^)]*)?\\)$")
      message(FATAL_ERROR "kernels.def: cannot read the row '${_row}'")
    endif()
    set(_name "${CMAKE_MATCH_1}")
    set(_args "${CMAKE_MATCH_2}")
    set(_minimal 1)
    if(_args)
      if(NOT _args MATCHES ", *([01]) *$")
        message(FATAL_ERROR "kernels.def: the row '${_row}' has no MINIMAL column (0 or 1)")
      endif()
      set(_minimal "${CMAKE_MATCH_1}")
    endif()
    if(_minimal OR NOT LEPTON_CUDA_CONFIGS STREQUAL "minimal")
      list(APPEND _names "${_name}")
    endif()
  endforeach()
  if(NOT _names)
    message(FATAL_ERROR "kernels.def: no ${macro} row to build")
  endif()
  set(${out} "${_names}" PARENT_SCOPE)
endfunction()

# --- mma.sync tiles (csrc/cuda/gemm/mma): one generated TU each, in _core's architectures -------
lepton_kernel_rows(LEPTON_MMA_TILE _lepton_mma_tiles)
foreach(LEPTON_MMA_TILE IN LISTS _lepton_mma_tiles)
  set(_tu "${CMAKE_CURRENT_BINARY_DIR}/mma/${LEPTON_MMA_TILE}.cu")
  configure_file(csrc/cuda/gemm/mma/mma_instance.cu.in "${_tu}" @ONLY)
  list(APPEND LEPTON_SOURCES "${_tu}")
endforeach()
message(STATUS "lepton: mma tiles: ${_lepton_mma_tiles}")

# --- sm_90a wgmma kernels on CUTLASS (csrc/cuda/gemm/wgmma) -------------------------------------
# One generated TU per kernel × output dtype (the LEPTON_WGMMA_OUT rows), compiled for sm_90a
# only, in an object library so that only these TUs get that architecture and the CUTLASS
# include path. CUTLASS comes from the nvidia-cutlass wheel (a build requirement when CUDA is
# built, see _build/backend.py) or LEPTON_CUTLASS_DIR.
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
  lepton_kernel_rows(LEPTON_WGMMA_KERNEL _lepton_wg_kernels)
  lepton_kernel_rows(LEPTON_WGMMA_OUT _lepton_wg_outs)
  set(_lepton_wg_sources)
  foreach(LEPTON_WG_KERNEL IN LISTS _lepton_wg_kernels)
    foreach(LEPTON_WG_OUT IN LISTS _lepton_wg_outs)
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
