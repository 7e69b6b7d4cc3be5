// Python bindings of the build and machine facts: version, the CPU ISA (detected, capped),
// threads, and whether this build holds the CUDA kernels.
#include <pybind11/stl.h>

#include "bindings/bindings.hpp"
#include "common/isa.hpp"
#include "common/threads.hpp"

namespace py = pybind11;

namespace lepton {
namespace {

#if defined(LEPTON_HAVE_CUDA)
constexpr bool kCudaCompiled = true;  // module.cpp registers the CUDA areas too
#else
constexpr bool kCudaCompiled = false;
#endif

}  // namespace

void register_info(py::module_& m) {
  m.attr("__version__") = LEPTON_VERSION;
  m.attr("cuda_compiled") = kCudaCompiled;
  m.def("detected_isa", [] { return std::string(isa_name(detected_isa())); },
        "Best CPU ISA this machine and this build support.");
  m.def("active_isa", [] { return std::string(isa_name(active_isa())); },
        "ISA the CPU kernels use now (detected, lowered by LEPTON_ISA or set_isa).");
  m.def("available_isas", [] {
    std::vector<std::string> out;
    for (Isa i : available_isas()) out.emplace_back(isa_name(i));
    return out;
  });
  m.def("set_isa", [](const std::string& name) { set_isa_cap(isa_from_name(name)); },
        py::arg("name"));
  m.def("clear_isa", &clear_isa_cap);
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.attr("have_openmp") = have_openmp();
}

}  // namespace lepton
