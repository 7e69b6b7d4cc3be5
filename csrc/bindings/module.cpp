#include "bindings/bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "lepton compiled core: CPU kernels always, CUDA kernels when built with CUDA";
  lepton::register_info(m);
  lepton::register_gemm(m);
  lepton::register_preprocess(m);
  lepton::register_pca(m);
#if defined(LEPTON_HAVE_CUDA)
  lepton::register_cuda(m);
  lepton::register_gemm_cuda(m);
  lepton::register_preprocess_cuda(m);
  lepton::register_pca_cuda(m);
#endif
}
