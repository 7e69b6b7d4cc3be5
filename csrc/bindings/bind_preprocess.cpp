#include "bindings/bindings.hpp"

namespace lepton {
void register_preprocess(pybind11::module_& m) { (void)m; }
}  // namespace lepton
