# CPU fused preprocessing (column stats + apply). The loops in kernels_impl.hpp are compiled once
# per ISA level; kernel_table() picks one at run time from lepton::active_isa().
list(APPEND LEPTON_SOURCES
  csrc/bindings/bind_preprocess.cpp
  csrc/cpu/preprocess/column_stats.cpp
  csrc/cpu/preprocess/apply.cpp
  csrc/cpu/preprocess/config.cpp
  csrc/cpu/preprocess/kernel_table.cpp
  csrc/cpu/preprocess/kernels_baseline.cpp
)
if(LEPTON_X86)
  list(APPEND LEPTON_SOURCES
    csrc/cpu/preprocess/kernels_avx2.cpp
    csrc/cpu/preprocess/kernels_avx512.cpp
  )
  set_source_files_properties(csrc/cpu/preprocess/kernels_avx2.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
  # prefer-vector-width: some -mtune defaults keep AVX-512 code at 256 bits.
  set_source_files_properties(csrc/cpu/preprocess/kernels_avx512.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mfma;-mf16c;-mprefer-vector-width=512")
endif()
