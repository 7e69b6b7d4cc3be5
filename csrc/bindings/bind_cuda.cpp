#include <pybind11/stl.h>

#include "bindings/bindings.hpp"
#include "cuda/probe.hpp"

namespace py = pybind11;

namespace lepton {

void register_cuda(py::module_& m) {
  m.attr("cuda_compiled") = true;
  m.attr("cuda_architectures") = cuda::compiled_architectures();
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_device_info", [](int index) {
    auto d = cuda::device_info(index);
    py::dict out;
    out["index"] = d.index;
    out["name"] = d.name;
    out["capability"] = py::make_tuple(d.major, d.minor);
    out["sm_count"] = d.sm_count;
    out["total_memory"] = d.total_memory;
    return out;
  }, py::arg("index"));
  m.def("cuda_probe", &cuda::run_probe, py::arg("device") = 0, py::arg("n") = 1 << 20,
        "Run a toolchain-proof axpy kernel; returns its max abs error against the host.");
}

}  // namespace lepton
