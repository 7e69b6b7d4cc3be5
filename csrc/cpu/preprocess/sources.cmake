# CPU fused preprocessing (column stats + apply).
list(APPEND LEPTON_SOURCES
  csrc/bindings/bind_preprocess.cpp
)
