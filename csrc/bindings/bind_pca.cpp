#include "bindings/bindings.hpp"

namespace lepton {
void register_pca(pybind11::module_& m) { (void)m; }
}  // namespace lepton
