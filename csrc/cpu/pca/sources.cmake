# CPU covariance / Gram kernels for PCA.
list(APPEND LEPTON_SOURCES
  csrc/bindings/bind_pca.cpp
)
