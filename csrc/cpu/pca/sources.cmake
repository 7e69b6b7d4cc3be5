# CPU covariance / Gram kernels for PCA. One body (gram_body.hpp) is compiled once per ISA level;
# gram.cpp (baseline flags) picks the table at run time.
set(_pca_isa_scalar csrc/cpu/pca/gram_scalar.cpp)
set(_pca_isa_avx2 csrc/cpu/pca/gram_avx2.cpp)
set(_pca_isa_avx512 csrc/cpu/pca/gram_avx512.cpp)
list(APPEND LEPTON_SOURCES
  csrc/bindings/bind_pca.cpp
  csrc/cpu/pca/gram.cpp
  ${_pca_isa_scalar}
)
# fp-contract: the micro-kernel's multiply-add must become one FMA instruction.
set_source_files_properties(${_pca_isa_scalar} PROPERTIES COMPILE_OPTIONS "-ffp-contract=fast")
if(LEPTON_X86)
  list(APPEND LEPTON_SOURCES ${_pca_isa_avx2} ${_pca_isa_avx512})
  set_source_files_properties(${_pca_isa_avx2} PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=fast")
  set_source_files_properties(${_pca_isa_avx512} PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512dq;-mavx512bw;-mavx512vl;-mfma;-mprefer-vector-width=512;-ffp-contract=fast")
endif()
