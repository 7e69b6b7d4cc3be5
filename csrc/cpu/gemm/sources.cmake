# CPU int8 GEMM. One translation unit per ISA, each compiled with its own -m flags; everything
# else is baseline code that only calls them after runtime detection (common/isa.hpp).
set(_gemm_dir csrc/cpu/gemm)
list(APPEND LEPTON_SOURCES
  csrc/bindings/bind_gemm.cpp
  ${_gemm_dir}/config.cpp
  ${_gemm_dir}/plan.cpp
  ${_gemm_dir}/packing.cpp
  ${_gemm_dir}/dispatch.cpp
  ${_gemm_dir}/kernel_scalar.cpp
)

# The epilogue and quantization must give the same bits on every ISA: no FMA contraction.
set(_gemm_strict_fp "")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(_gemm_strict_fp -ffp-contract=off)
endif()
set_source_files_properties(${_gemm_dir}/kernel_scalar.cpp PROPERTIES
  COMPILE_OPTIONS "${_gemm_strict_fp}")

if(LEPTON_X86)
  list(APPEND LEPTON_SOURCES
    ${_gemm_dir}/kernel_avx2.cpp
    ${_gemm_dir}/kernel_avx_vnni.cpp
    ${_gemm_dir}/kernel_avx512_vnni.cpp
  )
  set(_gemm_ymm -mavx2 -mfma -mf16c)
  set_source_files_properties(${_gemm_dir}/kernel_avx2.cpp PROPERTIES
    COMPILE_OPTIONS "${_gemm_ymm};${_gemm_strict_fp}")
  set_source_files_properties(${_gemm_dir}/kernel_avx_vnni.cpp PROPERTIES
    COMPILE_OPTIONS "${_gemm_ymm};-mavxvnni;${_gemm_strict_fp}")
  set_source_files_properties(${_gemm_dir}/kernel_avx512_vnni.cpp PROPERTIES
    COMPILE_OPTIONS
    "${_gemm_ymm};-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;${_gemm_strict_fp}")
endif()
