# CPU int8 GEMM. Owned by the gemm area: per-ISA translation units get their flags here.
list(APPEND LEPTON_SOURCES
  csrc/bindings/bind_gemm.cpp
)
