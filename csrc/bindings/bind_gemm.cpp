#include "bindings/bindings.hpp"

namespace lepton {
void register_gemm(pybind11::module_& m) { (void)m; }
}  // namespace lepton
